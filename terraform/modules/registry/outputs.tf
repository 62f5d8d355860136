output "id" {
  description = "Registry id."
  value       = azurerm_container_registry.this.id
}

output "login_server" {
  description = "Registry host for `spin registry push`."
  value       = azurerm_container_registry.this.login_server
}

output "name" {
  description = "Registry name (az acr login)."
  value       = azurerm_container_registry.this.name
}

output "private_endpoint" {
  description = "The registry's private endpoint (subnet and subresource)."
  value = {
    subnet_id         = azurerm_private_endpoint.registry.subnet_id
    subresource_names = azurerm_private_endpoint.registry.private_service_connection[0].subresource_names
  }
}

output "public_network_access_enabled" {
  description = "Whether the registry answers outside the VNET (never)."
  value       = azurerm_container_registry.this.public_network_access_enabled
}
