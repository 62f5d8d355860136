# Monthly cost estimate of one environment at the cluster autoscalers' minimum (what runs all month
# when idle), and the budget derived from it. Prices: USD, pay-as-you-go list prices of West
# Europe, Linux, 730 hours a month. Refresh them from the Azure Retail Prices API before a budget
# review (docs/deploy-aks.md#budget), e.g.
#   curl -s "https://prices.azure.com/api/retail/prices?\$filter=armRegionName eq 'westeurope' and armSkuName eq 'Standard_D2ds_v5' and priceType eq 'Consumption'"
locals {
  hours_per_month = 730
  price = {
    vm_hour = {
      Standard_D2ds_v5 = 0.113
      Standard_D4ds_v5 = 0.226
      Standard_D8ds_v5 = 0.452
    }
    vcpus = {
      Standard_D2ds_v5 = 2
      Standard_D4ds_v5 = 4
      Standard_D8ds_v5 = 8
    }
    aks_tier_hour       = { Free = 0, Standard = 0.10, Premium = 0.60 }
    acr_premium_day     = 1.667 # per registry and per geo-replica
    load_balancer_month = 18.25 # Standard load balancer, first 5 rules
    public_ip_hour      = 0.005 # Standard static IPv4 (cluster egress/ingress)
    private_endpoint_hr = 0.01
    nat_gateway_hour    = 0.045  # Standard NAT gateway (runners' outbound), data processing extra
    defender_vcpu_hour  = 0.0095 # Defender for Containers
    log_gb              = 2.99   # Log Analytics analytics logs, per GB ingested
  }

  system_nodes   = 3
  system_vm_size = "Standard_D2ds_v5"
  node_counts = merge(
    { system = { vm_size = local.system_vm_size, count = local.system_nodes } },
    { for k, p in var.node_pools : k => { vm_size = p.vm_size, count = p.min_count } },
  )
  vcpus = sum([for p in local.node_counts : p.count * local.price.vcpus[p.vm_size]])

  cost_lines = merge(
    { for k, p in local.node_counts : "nodes_${k}" => ceil(p.count * local.price.vm_hour[p.vm_size] * local.hours_per_month) },
    {
      aks_tier          = ceil(local.price.aks_tier_hour[var.aks_sku_tier] * local.hours_per_month)
      acr               = ceil(local.price.acr_premium_day * 30.4 * (1 + length(var.acr_geo_replication_locations)))
      load_balancer_ips = ceil(local.price.load_balancer_month + 2 * local.price.public_ip_hour * local.hours_per_month)
      private_endpoints = ceil(2 * local.price.private_endpoint_hr * local.hours_per_month) # Key Vault, ACR
      defender          = ceil(local.vcpus * local.price.defender_vcpu_hour * local.hours_per_month)
      log_analytics     = ceil(var.log_gb_per_day * 30.4 * local.price.log_gb)
      ci_runner         = ceil(local.price.vm_hour[var.ci_runner_vm_size] * local.hours_per_month) # self-hosted runner VM (runbook)
      ci_runner_nat     = ceil((local.price.nat_gateway_hour + local.price.public_ip_hour) * local.hours_per_month)
      other             = 10 # Key Vault operations, Event Grid, storage queue, DNS zones, bandwidth
    },
  )
  monthly_estimate = sum(values(local.cost_lines))
  # 20 % headroom for autoscaling above the minimum, rounded up to 50 USD.
  monthly_budget = ceil(local.monthly_estimate * 1.2 / 50) * 50
}
