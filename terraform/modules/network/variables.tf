variable "name" {
  description = "Name stem of the network resources."
  type        = string
}

variable "location" {
  description = "Azure region."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group holding the network."
  type        = string
}

variable "address_space" {
  description = "Address space of the virtual network (a /16 leaves room for Azure CNI pod IPs)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "ingress_ports" {
  description = "Ports of the ingress gateway open to the Internet (HTTP for ACME and redirects, HTTPS)."
  type        = list(string)
  default     = ["80", "443"]
}
