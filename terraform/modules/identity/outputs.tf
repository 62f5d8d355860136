output "workload_client_id" {
  description = "Client id for the service accounts and the Dapr Key Vault component (chart keyVault.clientId)."
  value       = azurerm_user_assigned_identity.workload.client_id
}

output "ci_client_id" {
  description = "Client id for azure/login in the deploy workflow (AZURE_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.ci.client_id
}
