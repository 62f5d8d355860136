variable "environment" {
  description = "staging or prod (also the GitHub environment name)."
  type        = string
  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be staging or prod."
  }
}

variable "name" {
  description = "Name stem of every resource (short: Key Vault names are at most 24 characters)."
  type        = string
}

variable "name_suffix" {
  description = "Suffix of the globally unique names (Key Vault, ACR, storage): 4-6 lowercase letters or digits, e.g. `openssl rand -hex 2`."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]{4,6}$", var.name_suffix))
    error_message = "name_suffix must be 4 to 6 lowercase letters or digits."
  }
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
  description = "Entra ID cluster admin groups (local accounts are off: without one nobody can deploy)."
  type        = list(string)
  validation {
    condition     = length(var.admin_group_object_ids) > 0 && alltrue([for id in var.admin_group_object_ids : can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", id))])
    error_message = "admin_group_object_ids must hold at least one Entra ID group object id (a GUID)."
  }
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

variable "tags" {
  description = "Extra tags."
  type        = map(string)
  default     = {}
}

variable "workload_service_accounts" {
  description = "namespace:name of every service account federated with the workload identity: each one the chart renders, and KEDA's operator. scripts/check-infra.sh compares it with the rendered chart."
  type        = list(string)
  default = [
    "todo-platform:task-api",
    "todo-platform:recurrence-engine",
    "todo-platform:notification",
    "todo-platform:chat",
    "todo-platform:dashboard",
    # The push broker's provisioning reads its account secrets (Secrets Store CSI).
    "todo-platform:push-broker",
    # Live sync (Centrifugo) reads the JWT secrets and its API key (Secrets Store CSI).
    "todo-platform:live-sync",
    "keda:keda-operator",
  ]
}

variable "log_gb_per_day" {
  description = "Expected Log Analytics ingestion (GB/day) for the cost estimate; the workspace caps it at 5."
  type        = number
}

variable "ci_runner_vm_size" {
  description = "VM size of the environment's self-hosted CI runner in snet-ci-runners (cost estimate; the runbook creates the VM)."
  type        = string
  default     = "Standard_D2ds_v5"
}
