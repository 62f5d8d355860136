variable "name" {
  description = "Name stem of the cluster."
  type        = string
}

variable "location" {
  description = "Azure region (must offer availability zones 1-3)."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group of the cluster."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version (the chart is validated against this version's schemas)."
  type        = string
  default     = "1.34"
}

variable "sku_tier" {
  description = "AKS tier: Free for staging, Standard (uptime SLA) for prod."
  type        = string
  default     = "Standard"
}

variable "private_cluster" {
  description = "Private API server (reached from CI through a self-hosted runner in the VNET)."
  type        = bool
  default     = true
}

variable "api_authorized_ip_ranges" {
  description = "CIDRs allowed to reach a public API server."
  type        = list(string)
  default     = []
}

variable "admin_group_object_ids" {
  description = "Entra ID groups with cluster admin rights (local accounts are off: at least one)."
  type        = list(string)
  validation {
    condition     = length(var.admin_group_object_ids) > 0
    error_message = "admin_group_object_ids must name at least one Entra ID group: local accounts are disabled."
  }
}

variable "system_vm_size" {
  description = "VM size of the system pool."
  type        = string
  default     = "Standard_D2ds_v5"
}

variable "node_pools" {
  description = "User node pools (apps: Wasm services, events: consumers) with their autoscaler bounds."
  type = map(object({
    vm_size   = string
    min_count = number
    max_count = number
    labels    = map(string)
    taints    = list(string)
  }))
}

variable "service_cidr" {
  description = "Kubernetes service CIDR (outside the VNET)."
  type        = string
  default     = "10.100.0.0/16"
}

variable "nodes_subnet_id" {
  description = "Subnet of the nodes."
  type        = string
}

variable "pods_subnet_id" {
  description = "Subnet Azure CNI assigns pod IPs from."
  type        = string
}

variable "vnet_id" {
  description = "Virtual network of the cluster."
  type        = string
}

variable "acr_id" {
  description = "Container registry the kubelet pulls from."
  type        = string
}

variable "log_analytics_workspace_id" {
  description = "Workspace of Container Insights and Defender."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "container_insights_streams" {
  description = "Container Insights streams the data collection rule sends to the workspace."
  type        = list(string)
  default     = ["Microsoft-ContainerInsights-Group-Default"]
}
