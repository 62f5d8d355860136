variable "name" {
  description = "Name stem (kv-<name>, at most 24 characters in all)."
  type        = string
}

variable "name_suffix" {
  description = "Suffix that makes the globally unique name unique (lowercase letters and digits)."
  type        = string
}

variable "location" {
  description = "Azure region."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group of the vault."
  type        = string
}

variable "tenant_id" {
  description = "Entra ID tenant of the vault."
  type        = string
}

variable "allowed_ip_ranges" {
  description = "Operator CIDRs allowed through the vault firewall (setting secrets from the runbook)."
  type        = list(string)
  default     = []
}

variable "allowed_subnet_ids" {
  description = "Subnets whose workloads (Dapr sidecars) read secrets."
  type        = list(string)
}

variable "vnet_id" {
  description = "Virtual network linked to the vault's private DNS zone."
  type        = string
}

variable "endpoints_subnet_id" {
  description = "Subnet of the vault's private endpoint."
  type        = string
}

variable "secret_max_validity_days" {
  description = "Longest validity a secret may have: the rotation period."
  type        = number
  default     = 90
}

variable "log_analytics_workspace_id" {
  description = "Workspace receiving the vault's audit log."
  type        = string
}

variable "action_group_id" {
  description = "Action group notified when a secret nears expiry."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
