name = "todo-stg"
# Required, no default: set them here or as TF_VAR_name_suffix / TF_VAR_admin_group_object_ids.
# name_suffix            = "<openssl rand -hex 2>"   # globally unique Key Vault, ACR, storage names
# admin_group_object_ids = ["<object id of the Entra ID group of cluster admins>"]
location           = "westeurope"
address_space      = "10.40.0.0/16"
kubernetes_version = "1.34"
aks_sku_tier       = "Free"
operator_ip_ranges = ["203.0.113.0/24"]
log_gb_per_day     = 1
budget_start_date  = "2026-12-01T00:00:00Z"
alert_emails       = ["platform-oncall@example.invalid"]
github_repository  = "example-org/todo-platform"

node_pools = {
  apps = {
    vm_size   = "Standard_D2ds_v5"
    min_count = 1
    max_count = 3
    labels    = { "workload" = "wasm" }
    taints    = []
  }
  events = {
    vm_size   = "Standard_D2ds_v5"
    min_count = 1
    max_count = 3
    labels    = { "workload" = "events" }
    taints    = []
  }
}
