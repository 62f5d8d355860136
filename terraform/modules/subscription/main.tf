# Once per subscription, before either environment: the resource providers the platform creates
# resources in, and the EncryptionAtHost feature that `host_encryption_enabled` on every node pool
# requires. azurerm 5.x registers nothing on its own (the environments set
# `resource_provider_registrations = "none"`, and their CI identity has no subscription-wide
# rights), so an empty subscription gets them here, from an operator who is Owner.
resource "azurerm_resource_provider_registration" "this" {
  for_each = toset(var.resource_providers)
  name     = each.value
}

resource "azurerm_resource_provider_feature_registration" "this" {
  for_each = var.features
  name     = each.key
  # The feature belongs to its provider: register the provider first.
  provider_name = azurerm_resource_provider_registration.this[each.value].name
}
