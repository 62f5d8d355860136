# Once per subscription (docs/deploy-aks.md, step 1), by an operator who is Owner: resource
# provider and feature registrations. Its state sits beside the environments' state.
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
  features {}
  # This configuration is the registration: the provider itself registers nothing.
  resource_provider_registrations = "none"
  storage_use_azuread             = true
}

module "subscription" {
  source = "../../modules/subscription"
}

output "resource_providers" {
  description = "Registered resource provider namespaces."
  value       = module.subscription.resource_providers
}

output "features" {
  description = "Registered features."
  value       = module.subscription.features
}
