# The apply-time shape of one environment, planned and applied against a mocked azurerm provider
# (no Azure access): scripts/check-infra.sh runs it with each environment's terraform.tfvars and the
# service accounts of the rendered chart: -var 'chart_service_accounts=["todo-platform:task-api", ...]'.
mock_provider "azurerm" {
  mock_data "azurerm_client_config" {
    defaults = {
      tenant_id       = "00000000-0000-0000-0000-000000000001"
      subscription_id = "00000000-0000-0000-0000-000000000002"
      object_id       = "00000000-0000-0000-0000-000000000003"
    }
  }
  # Computed attributes other resources read: in Azure they are object ids, URLs and resource ids.
  mock_resource "azurerm_kubernetes_cluster" {
    defaults = {
      id              = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
      oidc_issuer_url = "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/00000000-0000-0000-0000-000000000005/"
    }
  }
  # Resource ids the provider parses when another resource refers to them.
  mock_resource "azurerm_resource_group" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo"
    }
  }
  mock_resource "azurerm_virtual_network" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Network/virtualNetworks/vnet"
    }
  }
  mock_resource "azurerm_subnet" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet"
    }
  }
  mock_resource "azurerm_network_security_group" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Network/networkSecurityGroups/nsg"
    }
  }
  mock_resource "azurerm_private_dns_zone" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Network/privateDnsZones/privatelink.example"
    }
  }
  mock_resource "azurerm_key_vault" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.KeyVault/vaults/kv"
    }
  }
  mock_resource "azurerm_container_registry" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.ContainerRegistry/registries/acr"
    }
  }
  mock_resource "azurerm_log_analytics_workspace" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.OperationalInsights/workspaces/log"
    }
  }
  mock_resource "azurerm_monitor_action_group" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Insights/actionGroups/ag"
    }
  }
  mock_resource "azurerm_application_insights" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Insights/components/appi"
    }
  }
  mock_resource "azurerm_storage_account" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Storage/storageAccounts/st"
    }
  }
  mock_resource "azurerm_storage_queue" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Storage/storageAccounts/st/queueServices/default/queues/q"
    }
  }
  mock_resource "azurerm_monitor_data_collection_rule" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Insights/dataCollectionRules/dcr"
    }
  }
  mock_resource "azurerm_nat_gateway" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Network/natGateways/ng"
    }
  }
  mock_resource "azurerm_public_ip" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Network/publicIPAddresses/pip"
    }
  }
  mock_resource "azurerm_user_assigned_identity" {
    defaults = {
      id           = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"
      principal_id = "00000000-0000-0000-0000-000000000009"
      client_id    = "00000000-0000-0000-0000-00000000000a"
    }
  }
  mock_resource "azurerm_eventgrid_system_topic" {
    defaults = {
      id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.EventGrid/systemTopics/evgt"
      identity = {
        principal_id = "00000000-0000-0000-0000-00000000000b"
        tenant_id    = "00000000-0000-0000-0000-000000000001"
      }
    }
  }
  mock_data "azurerm_policy_definition" {
    defaults = {
      id = "/providers/Microsoft.Authorization/policyDefinitions/00000000-0000-0000-0000-000000000004"
    }
  }
}

# The private endpoints' subnet has an id of its own, so the registry endpoint's subnet is checked.
override_resource {
  target = module.network.azurerm_subnet.endpoints
  values = {
    id = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-todo/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet-private-endpoints"
  }
}

variables {
  environment            = "staging"
  name_suffix            = "a1b2"
  admin_group_object_ids = ["11111111-2222-3333-4444-555555555555"]
}

run "unique_names" {
  command = apply

  assert {
    condition     = endswith(module.keyvault.name, "-a1b2") && length(module.keyvault.name) <= 24
    error_message = "The Key Vault name must carry the suffix and fit 24 characters: ${module.keyvault.name}"
  }
  assert {
    condition     = endswith(module.registry.name, "a1b2") && can(regex("^[a-z0-9]{5,50}$", module.registry.name))
    error_message = "The ACR name must carry the suffix and be alphanumeric: ${module.registry.name}"
  }
}

run "admin_groups_required" {
  command = plan
  variables {
    admin_group_object_ids = []
  }
  expect_failures = [var.admin_group_object_ids]
}

run "suffix_required_format" {
  command = plan
  variables {
    name_suffix = "Not-Unique"
  }
  expect_failures = [var.name_suffix]
}

run "every_chart_service_account_is_federated" {
  command = apply

  assert {
    condition     = length(var.chart_service_accounts) > 0
    error_message = "No service accounts given: pass chart_service_accounts from the rendered chart."
  }
  assert {
    condition     = length(setsubtract(var.chart_service_accounts, output.federated_service_accounts)) == 0
    error_message = "Service accounts of the rendered chart without a federated credential: ${join(", ", setsubtract(var.chart_service_accounts, output.federated_service_accounts))}"
  }
  assert {
    condition     = contains(output.federated_service_accounts, "keda:keda-operator")
    error_message = "KEDA's operator reads the Redpanda credentials with the workload identity: it needs a federated credential."
  }
}

run "applied_shape" {
  command = apply

  # ACR: reachable only through its private endpoint in the cluster's VNET.
  assert {
    condition     = output.registry_public_network_access_enabled == false
    error_message = "ACR must not answer on its public endpoint."
  }
  assert {
    condition     = output.registry_private_endpoint.subnet_id == output.private_endpoints_subnet_id && one(output.registry_private_endpoint.subresource_names) == "registry"
    error_message = "ACR needs a private endpoint (subresource registry) in the VNET's endpoint subnet."
  }
  assert {
    condition     = output.private_cluster
    error_message = "The API server is private: the self-hosted runners in the VNET reach it."
  }
  assert {
    condition     = output.runners_nat_gateway_subnet_id == output.runners_subnet_id
    error_message = "The runners' subnet needs its NAT gateway: no default outbound access, no public IP."
  }

  # The NSG admits Internet traffic to the ingress.
  assert {
    condition     = output.ingress_rule.source == "Internet" && output.ingress_rule.access == "Allow" && contains(output.ingress_rule.ports, "443") && length(output.ingress_rule.destinations) == 2
    error_message = "The NSG must admit Internet traffic on 443 to the node and pod subnets."
  }

  # Container Insights with MSI: a DCR associated with the cluster.
  assert {
    condition     = output.container_insights_dcr_association_target == output.aks_cluster_id
    error_message = "The Container Insights data collection rule must be associated with the cluster."
  }

  # SecretNearExpiry through Event Grid, not a log query.
  assert {
    condition     = output.secret_near_expiry.topic_type == "Microsoft.KeyVault.vaults" && one(output.secret_near_expiry.event_types) == "Microsoft.KeyVault.SecretNearExpiry" && output.secret_near_expiry.metric == "MatchedEventCount"
    error_message = "SecretNearExpiry must be routed by an Event Grid system topic on the vault with a metric alert."
  }

  # The budget covers the resources.
  assert {
    condition     = output.monthly_budget >= output.monthly_cost_total && output.monthly_budget <= output.monthly_cost_total * 1.5
    error_message = "The budget (${output.monthly_budget}) must cover the estimate (${output.monthly_cost_total}) with at most 50 % headroom."
  }
}
