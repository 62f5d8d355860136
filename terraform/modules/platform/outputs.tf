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

output "monthly_cost_estimate" {
  description = "Monthly cost estimate (USD) at the autoscalers' minimum, line by line (costs.tf)."
  value       = local.cost_lines
}

output "monthly_cost_total" {
  description = "Sum of the estimate (USD/month)."
  value       = local.monthly_estimate
}

output "monthly_budget" {
  description = "The budget: the estimate plus 20 %, rounded up to 50 USD."
  value       = module.observability.budget_amount
}

output "federated_service_accounts" {
  description = "namespace:name of every service account with a federated credential."
  value       = module.identity.federated_service_accounts
}

output "registry_private_endpoint" {
  description = "The registry's private endpoint subnet and subresource."
  value       = module.registry.private_endpoint
}

output "registry_public_network_access_enabled" {
  description = "Whether ACR answers outside the VNET."
  value       = module.registry.public_network_access_enabled
}

output "private_endpoints_subnet_id" {
  description = "Subnet of the private endpoints."
  value       = module.network.endpoints_subnet_id
}

output "ingress_rule" {
  description = "The NSG rule admitting Internet traffic to the ingress."
  value       = module.network.ingress_rule
}

output "container_insights_dcr_association_target" {
  description = "Resource the Container Insights rule is associated with."
  value       = module.aks.container_insights_dcr_association_target
}

output "aks_cluster_id" {
  description = "AKS cluster id."
  value       = module.aks.cluster_id
}

output "private_cluster" {
  description = "Whether the API server is private."
  value       = module.aks.private_cluster
}

output "secret_near_expiry" {
  description = "Event Grid route of SecretNearExpiry."
  value       = module.keyvault.secret_near_expiry
}

output "runners_subnet_id" {
  description = "Subnet of the self-hosted CI runners (docs/deploy-aks.md#runners)."
  value       = module.network.runners_subnet_id
}

output "ci_principal_id" {
  description = "Object id of the CI identity (subject of k8s/cluster/ci-deployer-rbac.yaml)."
  value       = module.identity.ci_principal_id
}

output "runners_nat_gateway_subnet_id" {
  description = "Subnet the runners' NAT gateway serves."
  value       = module.network.runners_nat_gateway_subnet_id
}
