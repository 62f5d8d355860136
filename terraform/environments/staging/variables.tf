variable "name" {
  description = "Name stem of every resource (short: Key Vault names are at most 24 characters)."
  type        = string
}

variable "name_suffix" {
  description = "Suffix of the globally unique names (Key Vault, ACR, storage): 4-6 lowercase letters or digits."
  type        = string
}

variable "location" {
  description = "Azure region with availability zones."
  type        = string
}

variable "address_space" {
  description = "VNET address space."
  type        = string
}

variable "kubernetes_version" {
  description = "AKS Kubernetes minor version."
  type        = string
}

variable "aks_sku_tier" {
  description = "AKS tier."
  type        = string
}

variable "node_pools" {
  description = "User node pools and autoscaler bounds."
  type = map(object({
    vm_size   = string
    min_count = number
    max_count = number
    labels    = map(string)
    taints    = list(string)
  }))
}

variable "admin_group_object_ids" {
  description = "Entra ID cluster admin groups (required: local accounts are off)."
  type        = list(string)
}

variable "operator_ip_ranges" {
  description = "Operator CIDRs allowed to set Key Vault secrets."
  type        = list(string)
}

variable "acr_geo_replication_locations" {
  description = "Extra ACR regions."
  type        = list(string)
  default     = []
}

variable "budget_start_date" {
  description = "Budget start (first of a month, RFC 3339)."
  type        = string
}

variable "alert_emails" {
  description = "Alert and budget recipients."
  type        = list(string)
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows deploy."
  type        = string
}

variable "log_gb_per_day" {
  description = "Expected Log Analytics ingestion in GB/day (cost estimate and budget)."
  type        = number
}
