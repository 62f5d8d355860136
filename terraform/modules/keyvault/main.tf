# Key Vault with Azure RBAC only (no access policies), purge protection and 90-day soft delete.
# Only managed identities get data-plane roles (modules/identity); secret values are set by the
# runbook, never by Terraform, so they never reach the state file.
resource "azurerm_key_vault" "this" {
  name                          = "kv-${var.name}-${var.name_suffix}"
  location                      = var.location
  resource_group_name           = var.resource_group_name
  tenant_id                     = var.tenant_id
  sku_name                      = "premium"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = true
  tags                          = var.tags

  network_acls {
    default_action             = "Deny"
    bypass                     = "AzureServices"
    ip_rules                   = var.allowed_ip_ranges
    virtual_network_subnet_ids = var.allowed_subnet_ids
  }
}

# The sidecars reach the vault over a private endpoint in the VNET.
resource "azurerm_private_dns_zone" "vault" {
  name                = "privatelink.vaultcore.azure.net"
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "vault" {
  name                = "kv-${var.name}"
  private_dns_zone_id = azurerm_private_dns_zone.vault.id
  virtual_network_id  = var.vnet_id
  tags                = var.tags
}

resource "azurerm_private_endpoint" "vault" {
  name                = "pe-kv-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  subnet_id           = var.endpoints_subnet_id
  tags                = var.tags

  private_service_connection {
    name                           = "kv-${var.name}"
    private_connection_resource_id = azurerm_key_vault.this.id
    subresource_names              = ["vault"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "vault"
    private_dns_zone_ids = [azurerm_private_dns_zone.vault.id]
  }
}

# 90-day rotation: every secret must carry an expiry at most 90 days out (Azure Policy, deny),
# and an alert fires 30 days before a secret expires (docs/deploy-aks.md#secret-rotation).
data "azurerm_policy_definition" "secret_expiry" {
  display_name = "Key Vault secrets should have an expiration date"
}

data "azurerm_policy_definition" "secret_max_validity" {
  display_name = "Secrets should have the specified maximum validity period"
}

resource "azurerm_resource_policy_assignment" "secret_expiry" {
  name                 = "kv-secrets-expire"
  resource_id          = azurerm_key_vault.this.id
  policy_definition_id = data.azurerm_policy_definition.secret_expiry.id
  parameters           = jsonencode({ effect = { value = "Deny" } })
}

resource "azurerm_resource_policy_assignment" "secret_max_validity" {
  name                 = "kv-secrets-90-days"
  resource_id          = azurerm_key_vault.this.id
  policy_definition_id = data.azurerm_policy_definition.secret_max_validity.id
  parameters = jsonencode({
    effect                = { value = "Deny" }
    maximumValidityInDays = { value = var.secret_max_validity_days }
  })
}

resource "azurerm_monitor_diagnostic_setting" "vault" {
  name                       = "kv-audit"
  target_resource_id         = azurerm_key_vault.this.id
  log_analytics_workspace_id = var.log_analytics_workspace_id

  enabled_log {
    category_group = "audit"
  }

  enabled_metric {
    category = "AllMetrics"
  }
}

# Secrets that expire within 30 days. Key Vault publishes SecretNearExpiry as an Event Grid event
# (it is not an audit-log operation): a system topic on the vault, a subscription for that event
# type delivering to a storage queue (the record of which secret, read by the rotation runbook),
# and a metric alert on the topic's matched events that notifies the action group.
resource "azurerm_eventgrid_system_topic" "vault" {
  name                = "evgt-kv-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  source_resource_id  = azurerm_key_vault.this.id
  topic_type          = "Microsoft.KeyVault.vaults"
  tags                = var.tags

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_storage_account" "events" {
  #checkov:skip=CKV_AZURE_43:The name is computed (stev + name stem without dashes + name_suffix): lowercase letters and digits, at most 24 characters by the variables' validation.
  #checkov:skip=CKV_AZURE_33:No queue service logging: the queue holds only event notifications (secret names, no values).
  #checkov:skip=CKV_AZURE_206:The queue is a notification record; losing it with a zone outage loses nothing (the alert already fired).
  #checkov:skip=CKV2_AZURE_1:No customer-managed key requirement for event notifications.
  #checkov:skip=CKV2_AZURE_33:Event Grid delivers as a trusted Azure service (bypass); nothing else needs a network path.
  #checkov:skip=CKV2_AZURE_38:Blob soft delete does not apply: the account holds one queue, no blobs.
  #checkov:skip=CKV2_AZURE_41:Shared keys are disabled, so no SAS can be signed.
  name                            = "stev${replace(var.name, "-", "")}${var.name_suffix}"
  location                        = var.location
  resource_group_name             = var.resource_group_name
  account_tier                    = "Standard"
  account_replication_type        = "ZRS"
  min_tls_version                 = "TLS1_2"
  shared_access_key_enabled       = false
  allow_nested_items_to_be_public = false
  public_network_access_enabled   = false
  local_user_enabled              = false
  default_to_oauth_authentication = true
  tags                            = var.tags

  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices"]
  }

  sas_policy {
    expiration_period = "01.00:00:00"
  }
}

resource "azurerm_storage_queue" "secret_near_expiry" {
  name               = "secret-near-expiry"
  storage_account_id = azurerm_storage_account.events.id
}

resource "azurerm_role_assignment" "topic_queue_sender" {
  scope                = azurerm_storage_account.events.id
  role_definition_name = "Storage Queue Data Message Sender"
  principal_id         = azurerm_eventgrid_system_topic.vault.identity[0].principal_id
}

resource "azurerm_eventgrid_system_topic_event_subscription" "secret_near_expiry" {
  name                 = "secret-near-expiry"
  system_topic         = azurerm_eventgrid_system_topic.vault.name
  resource_group_name  = var.resource_group_name
  included_event_types = ["Microsoft.KeyVault.SecretNearExpiry"]

  delivery_identity {
    type = "SystemAssigned"
  }

  storage_queue_endpoint {
    storage_account_id = azurerm_storage_account.events.id
    queue_name         = azurerm_storage_queue.secret_near_expiry.name
  }

  depends_on = [azurerm_role_assignment.topic_queue_sender]
}

resource "azurerm_monitor_metric_alert" "secret_near_expiry" {
  name                = "kv-${var.name}-secret-near-expiry"
  resource_group_name = var.resource_group_name
  scopes              = [azurerm_eventgrid_system_topic.vault.id]
  severity            = 2
  frequency           = "PT5M"
  window_size         = "PT5M"
  auto_mitigate       = false
  description         = "A Key Vault secret expires within 30 days: rotate it (docs/deploy-aks.md#secret-rotation); the queue secret-near-expiry names it."
  tags                = var.tags

  criteria {
    metric_namespace = "Microsoft.EventGrid/systemTopics"
    metric_name      = "MatchedEventCount"
    aggregation      = "Total"
    operator         = "GreaterThan"
    threshold        = 0

    dimension {
      name     = "EventSubscriptionName"
      operator = "Include"
      values   = [upper(azurerm_eventgrid_system_topic_event_subscription.secret_near_expiry.name)]
    }
  }

  action {
    action_group_id = var.action_group_id
  }
}
