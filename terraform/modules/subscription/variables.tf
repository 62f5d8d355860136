variable "resource_providers" {
  description = "Resource provider namespaces the platform's resources live in."
  type        = list(string)
  default = [
    "Microsoft.Authorization",
    "Microsoft.Compute",                 # node pool VM scale sets, EncryptionAtHost
    "Microsoft.ContainerService",        # AKS
    "Microsoft.ContainerRegistry",       # ACR
    "Microsoft.Consumption",             # budgets
    "Microsoft.EventGrid",               # Key Vault SecretNearExpiry events
    "Microsoft.Insights",                # action groups, metric alerts, data collection rules
    "Microsoft.KeyVault",                # Key Vault
    "Microsoft.KubernetesConfiguration", # AKS cluster extensions
    "Microsoft.ManagedIdentity",         # workload and CI identities, federated credentials
    "Microsoft.Network",                 # VNET, NSG, private endpoints and DNS zones
    "Microsoft.OperationalInsights",     # Log Analytics
    "Microsoft.OperationsManagement",    # Container Insights
    "Microsoft.PolicyInsights",          # Key Vault secret expiry policies
    "Microsoft.Security",                # Defender for Containers
    "Microsoft.Storage",                 # Terraform state, SecretNearExpiry queue
  ]
}

variable "features" {
  description = "Preview/opt-in features to register, name => provider namespace."
  type        = map(string)
  default = {
    EncryptionAtHost = "Microsoft.Compute"
  }
  validation {
    condition     = contains(keys(var.features), "EncryptionAtHost")
    error_message = "host_encryption_enabled on the node pools needs the EncryptionAtHost feature."
  }
}
