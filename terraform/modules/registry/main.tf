# ACR for the Spin OCI artifacts (`spin registry push`). No admin user, no anonymous pull: the
# kubelet pulls with AcrPull (modules/aks), CI pushes with AcrPush through OIDC (modules/identity).
# No public network access: nodes pull and the self-hosted runners push through the private
# endpoint in the VNET (an IP firewall cannot work: node pulls come from the cluster's outbound
# IP, and GitHub-hosted runners use thousands of ranges where ACR takes at most 100 rules).
resource "azurerm_container_registry" "this" {
  #checkov:skip=CKV_AZURE_164:Content trust (Notary v1) covers Docker images only and is retired by ACR; the artifacts are Spin OCI Wasm packages.
  #checkov:skip=CKV_AZURE_166:Quarantine waits for an image scanner to release each push; no scanner understands Wasm artifacts, so every deploy would block.
  name                          = "acr${replace(var.name, "-", "")}${var.name_suffix}"
  location                      = var.location
  resource_group_name           = var.resource_group_name
  sku                           = "Premium"
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = false
  zone_redundancy_enabled       = true
  data_endpoint_enabled         = true
  quarantine_policy_enabled     = false
  export_policy_enabled         = false
  retention_policy_in_days      = 30
  tags                          = var.tags

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

resource "azurerm_private_dns_zone" "registry" {
  name                = "privatelink.azurecr.io"
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "registry" {
  name                = "acr-${var.name}"
  private_dns_zone_id = azurerm_private_dns_zone.registry.id
  virtual_network_id  = var.vnet_id
  tags                = var.tags
}

# One endpoint for the registry and its data endpoints (one per replicated region).
resource "azurerm_private_endpoint" "registry" {
  name                = "pe-acr-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  subnet_id           = var.endpoints_subnet_id
  tags                = var.tags

  private_service_connection {
    name                           = "acr-${var.name}"
    private_connection_resource_id = azurerm_container_registry.this.id
    subresource_names              = ["registry"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "registry"
    private_dns_zone_ids = [azurerm_private_dns_zone.registry.id]
  }
}
