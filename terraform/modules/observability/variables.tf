variable "name" {
  description = "Name stem."
  type        = string
}

variable "location" {
  description = "Azure region."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group of the monitoring resources."
  type        = string
}

variable "resource_group_id" {
  description = "Resource group the budget watches."
  type        = string
}

variable "monthly_budget" {
  description = "Monthly cost budget in USD (modules/platform/costs.tf sizes it from the resources)."
  type        = number
}

variable "budget_start_date" {
  description = "First day of the budget period (RFC 3339, first of a month)."
  type        = string
}

variable "daily_quota_gb" {
  description = "Daily ingestion cap of the workspace (-1: none)."
  type        = number
  default     = 5
}

variable "alert_emails" {
  description = "Who receives budget and platform alerts."
  type        = list(string)
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
