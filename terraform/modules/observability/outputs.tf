output "log_analytics_workspace_id" {
  description = "Workspace id (Container Insights, Key Vault audit)."
  value       = azurerm_log_analytics_workspace.this.id
}

output "application_insights_connection_string" {
  description = "Connection string of Application Insights (for the OpenTelemetry collector exporter)."
  value       = azurerm_application_insights.this.connection_string
  sensitive   = true
}

output "action_group_id" {
  description = "Action group of platform alerts."
  value       = azurerm_monitor_action_group.platform.id
}

output "budget_amount" {
  description = "Monthly budget (USD) of the resource group."
  value       = azurerm_consumption_budget_resource_group.monthly.amount
}
