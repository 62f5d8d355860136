# ACR for the Spin OCI artifacts (`spin registry push`). No admin user, no anonymous pull: the
# kubelet pulls with AcrPull (modules/aks), CI pushes with AcrPush through OIDC (modules/identity).
resource "azurerm_container_registry" "this" {
  #checkov:skip=CKV_AZURE_139:GitHub-hosted runners push through the registry firewall (allowed_ip_ranges); nodes pull over the Microsoft backbone.
  #checkov:skip=CKV_AZURE_164:Content trust (Notary v1) covers Docker images only and is retired by ACR; the artifacts are Spin OCI Wasm packages.
  #checkov:skip=CKV_AZURE_166:Quarantine waits for an image scanner to release each push; no scanner understands Wasm artifacts, so every deploy would block.
  name                          = replace("acr${var.name}", "-", "")
  location                      = var.location
  resource_group_name           = var.resource_group_name
  sku                           = "Premium"
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = var.public_network_access_enabled
  zone_redundancy_enabled       = true
  data_endpoint_enabled         = true
  quarantine_policy_enabled     = false
  export_policy_enabled         = var.public_network_access_enabled
  retention_policy_in_days      = 30
  tags                          = var.tags

  network_rule_set {
    default_action = "Deny"
    ip_rule = [for cidr in var.allowed_ip_ranges : {
      action   = "Allow"
      ip_range = cidr
    }]
  }

  dynamic "georeplications" {
    for_each = var.geo_replication_locations
    content {
      location                        = georeplications.value
      global_endpoint_routing_enabled = true
      zone_redundancy_enabled         = true
      tags                            = var.tags
    }
  }
}
