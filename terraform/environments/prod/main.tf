# The prod environment. State lives in the Azure Storage account created once by the runbook
# (docs/deploy-aks.md); `terraform init -backend-config=backend.hcl`.
terraform {
  required_version = ">= 1.8"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 5.2"
    }
  }
  backend "azurerm" {}
}

provider "azurerm" {
  features {
    key_vault {
      purge_soft_delete_on_destroy = false
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
  # Registrations are made once per subscription (environments/subscription): the CI identity
  # has no right to register providers.
  resource_provider_registrations = "none"
  # CI authenticates with OIDC federation; operators with az login.
  use_oidc            = true
  storage_use_azuread = true
}

module "platform" {
  source = "../../modules/platform"

  environment                   = "prod"
  name                          = var.name
  name_suffix                   = var.name_suffix
  location                      = var.location
  address_space                 = var.address_space
  kubernetes_version            = var.kubernetes_version
  aks_sku_tier                  = var.aks_sku_tier
  node_pools                    = var.node_pools
  admin_group_object_ids        = var.admin_group_object_ids
  operator_ip_ranges            = var.operator_ip_ranges
  acr_geo_replication_locations = var.acr_geo_replication_locations
  log_gb_per_day                = var.log_gb_per_day
  budget_start_date             = var.budget_start_date
  alert_emails                  = var.alert_emails
  github_repository             = var.github_repository
}
