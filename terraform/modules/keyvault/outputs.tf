output "id" {
  description = "Key Vault id (scope of role assignments)."
  value       = azurerm_key_vault.this.id
}

output "name" {
  description = "Key Vault name (the chart's keyVault.name)."
  value       = azurerm_key_vault.this.name
}

output "uri" {
  description = "Key Vault URI."
  value       = azurerm_key_vault.this.vault_uri
}
