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
