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
