# The staging environment. State lives in the Azure Storage account created once by the runbook
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
  # CI authenticates with OIDC federation; operators with az login.
  use_oidc            = true
  storage_use_azuread = true
}

module "platform" {
  source = "../../modules/platform"

  environment                   = "staging"
  name                          = var.name
  location                      = var.location
  address_space                 = var.address_space
  kubernetes_version            = var.kubernetes_version
  aks_sku_tier                  = var.aks_sku_tier
  node_pools                    = var.node_pools
  api_authorized_ip_ranges      = var.api_authorized_ip_ranges
  admin_group_object_ids        = var.admin_group_object_ids
  ci_ip_ranges                  = var.ci_ip_ranges
  operator_ip_ranges            = var.operator_ip_ranges
  acr_geo_replication_locations = var.acr_geo_replication_locations
  monthly_budget                = 400
  budget_start_date             = var.budget_start_date
  alert_emails                  = var.alert_emails
  github_repository             = var.github_repository
}
