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

output "ci_principal_id" {
  description = "Object id of the CI identity (subject of k8s/cluster/ci-deployer-rbac.yaml)."
  value       = module.platform.ci_principal_id
}

output "monthly_cost_estimate" {
  description = "Monthly cost estimate (USD) line by line, and the budget derived from it."
  value = {
    lines  = module.platform.monthly_cost_estimate
    total  = module.platform.monthly_cost_total
    budget = module.platform.monthly_budget
  }
}

output "runners_subnet_id" {
  description = "Subnet of the self-hosted CI runners."
  value       = module.platform.runners_subnet_id
}
