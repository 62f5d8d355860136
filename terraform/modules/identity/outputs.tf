output "workload_client_id" {
  description = "Client id for the service accounts and the Dapr Key Vault component (chart keyVault.clientId)."
  value       = azurerm_user_assigned_identity.workload.client_id
}

output "ci_client_id" {
  description = "Client id for azure/login in the deploy workflow (AZURE_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.ci.client_id
}

output "federated_service_accounts" {
  description = "namespace:name of every service account with a federated credential on the workload identity."
  value       = sort([for c in azurerm_federated_identity_credential.service_account : trimprefix(c.subject, "system:serviceaccount:")])
}

output "ci_principal_id" {
  description = "Object id of the CI identity: the Kubernetes RBAC subject of k8s/cluster/ci-deployer-rbac.yaml."
  value       = azurerm_user_assigned_identity.ci.principal_id
}
