# Remote state (created once, docs/deploy-aks.md): Entra ID auth, no access key.
resource_group_name  = "rg-todo-tfstate"
storage_account_name = "sttodotfstate"
container_name       = "tfstate"
key                  = "subscription.terraform.tfstate"
use_oidc             = false
use_azuread_auth     = true
