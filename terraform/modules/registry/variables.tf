variable "name" {
  description = "Name stem (letters and digits are kept)."
  type        = string
}

variable "location" {
  description = "Azure region."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group of the registry."
  type        = string
}

variable "public_network_access_enabled" {
  description = "Whether CI runners outside the VNET may push (restricted to allowed_ip_ranges)."
  type        = bool
  default     = true
}

variable "allowed_ip_ranges" {
  description = "CIDRs allowed through the registry firewall (CI egress)."
  type        = list(string)
  default     = []
}

variable "geo_replication_locations" {
  description = "Extra regions the registry replicates to (prod)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
