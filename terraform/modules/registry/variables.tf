variable "name" {
  description = "Name stem (letters and digits are kept)."
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
  description = "Resource group of the registry."
  type        = string
}

variable "vnet_id" {
  description = "Virtual network linked to the registry's private DNS zone (cluster and runners)."
  type        = string
}

variable "endpoints_subnet_id" {
  description = "Subnet of the registry's private endpoint."
  type        = string
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
