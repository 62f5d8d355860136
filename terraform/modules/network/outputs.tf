output "vnet_id" {
  description = "Virtual network id."
  value       = azurerm_virtual_network.this.id
}

output "nodes_subnet_id" {
  description = "Subnet of the AKS nodes."
  value       = azurerm_subnet.nodes.id
}

output "pods_subnet_id" {
  description = "Subnet the Azure CNI assigns pod IPs from."
  value       = azurerm_subnet.pods.id
}

output "endpoints_subnet_id" {
  description = "Subnet of the private endpoints."
  value       = azurerm_subnet.endpoints.id
}

output "runners_subnet_id" {
  description = "Subnet of the self-hosted CI runners."
  value       = azurerm_subnet.runners.id
}

output "ingress_rule" {
  description = "The NSG rule admitting Internet traffic to the ingress gateway."
  value = {
    source       = azurerm_network_security_rule.ingress_from_internet.source_address_prefix
    ports        = azurerm_network_security_rule.ingress_from_internet.destination_port_ranges
    access       = azurerm_network_security_rule.ingress_from_internet.access
    destinations = azurerm_network_security_rule.ingress_from_internet.destination_address_prefixes
  }
}

output "runners_nat_gateway_subnet_id" {
  description = "Subnet the runners' NAT gateway serves."
  value       = azurerm_subnet_nat_gateway_association.runners.subnet_id
}
