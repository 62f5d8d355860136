# What an empty subscription needs before either environment applies, against a mocked provider.
mock_provider "azurerm" {}

run "providers_and_features" {
  command = apply

  assert {
    condition = length(setsubtract([
      "Microsoft.ContainerService", "Microsoft.ContainerRegistry", "Microsoft.KeyVault", "Microsoft.Network",
      "Microsoft.Compute", "Microsoft.OperationalInsights", "Microsoft.OperationsManagement", "Microsoft.Insights",
      "Microsoft.ManagedIdentity", "Microsoft.EventGrid", "Microsoft.Storage", "Microsoft.Consumption",
      "Microsoft.PolicyInsights", "Microsoft.Security", "Microsoft.KubernetesConfiguration",
    ], output.resource_providers)) == 0
    error_message = "Resource providers missing from the registrations: ${join(", ", output.resource_providers)}"
  }
  assert {
    condition     = contains(output.features, "Microsoft.Compute/EncryptionAtHost")
    error_message = "host_encryption_enabled needs the Microsoft.Compute/EncryptionAtHost feature."
  }
}

run "encryption_at_host_cannot_be_dropped" {
  command = plan
  variables {
    features = {}
  }
  expect_failures = [var.features]
}
