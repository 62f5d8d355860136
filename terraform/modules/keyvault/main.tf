# Key Vault with Azure RBAC only (no access policies), purge protection and 90-day soft delete.
# Only managed identities get data-plane roles (modules/identity); secret values are set by the
# runbook, never by Terraform, so they never reach the state file.
resource "azurerm_key_vault" "this" {
  name                          = "kv-${var.name}"
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

# Secrets that expire within 30 days (Key Vault's SecretNearExpiry event lands in the audit log).
resource "azurerm_monitor_scheduled_query_rules_alert_v2" "secret_near_expiry" {
  name                 = "kv-${var.name}-secret-near-expiry"
  location             = var.location
  resource_group_name  = var.resource_group_name
  scopes               = [var.log_analytics_workspace_id]
  severity             = 2
  evaluation_frequency = "P1D"
  window_duration      = "P1D"
  description          = "A Key Vault secret expires within 30 days: rotate it (docs/deploy-aks.md#secret-rotation)."
  tags                 = var.tags

  criteria {
    query                   = <<-KQL
      AzureDiagnostics
      | where ResourceProvider == "MICROSOFT.KEYVAULT" and OperationName == "SecretNearExpiry"
    KQL
    time_aggregation_method = "Count"
    operator                = "GreaterThan"
    threshold               = 0
  }

  action {
    action_groups = [var.action_group_id]
  }
}
