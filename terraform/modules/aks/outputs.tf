output "cluster_name" {
  description = "AKS cluster name (az aks get-credentials)."
  value       = azurerm_kubernetes_cluster.this.name
}

output "cluster_id" {
  description = "AKS cluster id."
  value       = azurerm_kubernetes_cluster.this.id
}

output "oidc_issuer_url" {
  description = "OIDC issuer the workload identities federate with."
  value       = azurerm_kubernetes_cluster.this.oidc_issuer_url
}

output "kubelet_object_id" {
  description = "Object id of the kubelet identity (AcrPull)."
  value       = azurerm_user_assigned_identity.kubelet.principal_id
}

output "container_insights_dcr_id" {
  description = "Data collection rule of Container Insights."
  value       = azurerm_monitor_data_collection_rule.container_insights.id
}

output "container_insights_dcr_association_target" {
  description = "Resource the Container Insights rule is associated with (the cluster)."
  value       = azurerm_monitor_data_collection_rule_association.container_insights.target_resource_id
}

output "private_cluster" {
  description = "Whether the API server is reachable only from the VNET."
  value       = azurerm_kubernetes_cluster.this.private_cluster_enabled
}
