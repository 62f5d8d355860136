output "resource_group_name" {
  description = "Resource group of the environment."
  value       = azurerm_resource_group.this.name
}

output "aks_cluster_name" {
  description = "AKS cluster (AKS_CLUSTER_NAME in the deploy workflow)."
  value       = module.aks.cluster_name
}

output "acr_login_server" {
  description = "Registry host (ACR_LOGIN_SERVER in the deploy workflow)."
  value       = module.registry.login_server
}

output "acr_name" {
  description = "Registry name (az acr login)."
  value       = module.registry.name
}

output "key_vault_name" {
  description = "Key Vault name (chart keyVault.name)."
  value       = module.keyvault.name
}

output "workload_identity_client_id" {
  description = "Client id of the workload identity (chart keyVault.clientId)."
  value       = module.identity.workload_client_id
}

output "ci_client_id" {
  description = "Client id for azure/login (AZURE_CLIENT_ID of the GitHub environment)."
  value       = module.identity.ci_client_id
}

output "tenant_id" {
  description = "Entra ID tenant (AZURE_TENANT_ID)."
  value       = data.azurerm_client_config.current.tenant_id
}

output "oidc_issuer_url" {
  description = "Cluster OIDC issuer."
  value       = module.aks.oidc_issuer_url
}

output "application_insights_connection_string" {
  description = "Application Insights connection string (OpenTelemetry collector)."
  value       = module.observability.application_insights_connection_string
  sensitive   = true
}
