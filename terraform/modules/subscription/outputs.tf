output "resource_providers" {
  description = "Registered resource provider namespaces."
  value       = sort([for r in azurerm_resource_provider_registration.this : r.name])
}

output "features" {
  description = "Registered features as provider/feature."
  value       = sort([for f in azurerm_resource_provider_feature_registration.this : "${f.provider_name}/${f.name}"])
}
