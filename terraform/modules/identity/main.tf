# Two user-assigned identities, both federated (no secret anywhere):
# - workload: the Dapr sidecars of the apps and KEDA read Key Vault through their Kubernetes
#   service accounts (OIDC issuer of the cluster);
# - ci: the GitHub Actions deployment of one environment pushes to ACR and deploys to its namespace
#   (Kubernetes RBAC: k8s/cluster/ci-deployer-rbac.yaml).
resource "azurerm_user_assigned_identity" "workload" {
  name                = "id-${var.name}-workload"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_federated_identity_credential" "service_account" {
  for_each = toset(var.service_accounts)

  name                      = replace(each.value, ":", "-")
  user_assigned_identity_id = azurerm_user_assigned_identity.workload.id
  audience                  = ["api://AzureADTokenExchange"]
  issuer                    = var.oidc_issuer_url
  subject                   = "system:serviceaccount:${each.value}"
}

resource "azurerm_role_assignment" "workload_secrets_user" {
  scope                = var.key_vault_id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.workload.principal_id
}

resource "azurerm_user_assigned_identity" "ci" {
  name                = "id-${var.name}-ci"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_federated_identity_credential" "github" {
  name                      = "github-${var.github_environment}"
  user_assigned_identity_id = azurerm_user_assigned_identity.ci.id
  audience                  = ["api://AzureADTokenExchange"]
  issuer                    = "https://token.actions.githubusercontent.com"
  subject                   = "repo:${var.github_repository}:environment:${var.github_environment}"
}

resource "azurerm_role_assignment" "ci_acr_push" {
  scope                = var.acr_id
  role_definition_name = "AcrPush"
  principal_id         = azurerm_user_assigned_identity.ci.principal_id
}

resource "azurerm_role_assignment" "ci_cluster_user" {
  scope                = var.cluster_id
  role_definition_name = "Azure Kubernetes Service Cluster User Role"
  principal_id         = azurerm_user_assigned_identity.ci.principal_id
}

# In the cluster, Kubernetes RBAC bindings to this identity's object id (ci_principal_id) grant
# exactly what the chart needs: k8s/cluster/ci-deployer-rbac.yaml, applied by an operator. No Azure
# RBAC data-plane role: the built-in "Azure Kubernetes Service RBAC Writer" covers neither the
# custom resources (SpinApp, Dapr, KEDA) nor the cluster-scoped ClusterIssuer, and
# "RBAC Cluster Admin" would be far more than needed.
