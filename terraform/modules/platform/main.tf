# One environment of the platform: network, monitoring, registry, cluster, vault and identities.
data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "this" {
  name     = "rg-${var.name}"
  location = var.location
  tags     = local.tags
}

locals {
  tags = merge(var.tags, {
    environment = var.environment
    project     = "todo-platform"
    managed-by  = "terraform"
  })
}

module "network" {
  source              = "../network"
  name                = var.name
  location            = var.location
  resource_group_name = azurerm_resource_group.this.name
  address_space       = var.address_space
  tags                = local.tags
}

module "observability" {
  source              = "../observability"
  name                = var.name
  location            = var.location
  resource_group_name = azurerm_resource_group.this.name
  resource_group_id   = azurerm_resource_group.this.id
  monthly_budget      = local.monthly_budget
  budget_start_date   = var.budget_start_date
  alert_emails        = var.alert_emails
  tags                = local.tags
}

module "registry" {
  source                    = "../registry"
  name                      = var.name
  name_suffix               = var.name_suffix
  location                  = var.location
  resource_group_name       = azurerm_resource_group.this.name
  vnet_id                   = module.network.vnet_id
  endpoints_subnet_id       = module.network.endpoints_subnet_id
  geo_replication_locations = var.acr_geo_replication_locations
  tags                      = local.tags
}

module "aks" {
  source                     = "../aks"
  name                       = var.name
  location                   = var.location
  resource_group_name        = azurerm_resource_group.this.name
  kubernetes_version         = var.kubernetes_version
  sku_tier                   = var.aks_sku_tier
  private_cluster            = true
  admin_group_object_ids     = var.admin_group_object_ids
  node_pools                 = var.node_pools
  nodes_subnet_id            = module.network.nodes_subnet_id
  pods_subnet_id             = module.network.pods_subnet_id
  vnet_id                    = module.network.vnet_id
  acr_id                     = module.registry.id
  log_analytics_workspace_id = module.observability.log_analytics_workspace_id
  tags                       = local.tags
}

module "keyvault" {
  source                     = "../keyvault"
  name                       = var.name
  name_suffix                = var.name_suffix
  location                   = var.location
  resource_group_name        = azurerm_resource_group.this.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  allowed_ip_ranges          = var.operator_ip_ranges
  allowed_subnet_ids         = [module.network.nodes_subnet_id, module.network.pods_subnet_id]
  vnet_id                    = module.network.vnet_id
  endpoints_subnet_id        = module.network.endpoints_subnet_id
  log_analytics_workspace_id = module.observability.log_analytics_workspace_id
  action_group_id            = module.observability.action_group_id
  tags                       = local.tags
}

module "identity" {
  source              = "../identity"
  name                = var.name
  location            = var.location
  resource_group_name = azurerm_resource_group.this.name
  oidc_issuer_url     = module.aks.oidc_issuer_url
  service_accounts    = var.workload_service_accounts
  key_vault_id        = module.keyvault.id
  acr_id              = module.registry.id
  cluster_id          = module.aks.cluster_id
  github_repository   = var.github_repository
  github_environment  = var.environment
  tags                = local.tags
}
