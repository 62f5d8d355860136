output "resource_group_name" {
  description = "Resource group of the environment."
  value       = module.platform.resource_group_name
}

output "aks_cluster_name" {
  description = "AKS cluster (AKS_CLUSTER_NAME in the deploy workflow)."
  value       = module.platform.aks_cluster_name
}

output "acr_login_server" {
  description = "Registry host (ACR_LOGIN_SERVER in the deploy workflow)."
  value       = module.platform.acr_login_server
}

output "acr_name" {
  description = "Registry name (az acr login)."
  value       = module.platform.acr_name
}

output "key_vault_name" {
  description = "Key Vault name (chart keyVault.name)."
  value       = module.platform.key_vault_name
}

output "workload_identity_client_id" {
  description = "Client id of the workload identity (chart keyVault.clientId)."
  value       = module.platform.workload_identity_client_id
}

output "ci_client_id" {
  description = "Client id for azure/login (AZURE_CLIENT_ID of the GitHub environment)."
  value       = module.platform.ci_client_id
}

output "tenant_id" {
  description = "Entra ID tenant (AZURE_TENANT_ID)."
  value       = module.platform.tenant_id
}

output "oidc_issuer_url" {
  description = "Cluster OIDC issuer."
  value       = module.platform.oidc_issuer_url
}

output "application_insights_connection_string" {
  description = "Application Insights connection string (OpenTelemetry collector)."
  value       = module.platform.application_insights_connection_string
  sensitive   = true
}
