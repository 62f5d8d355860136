output "id" {
  description = "Key Vault id (scope of role assignments)."
  value       = azurerm_key_vault.this.id
}

output "name" {
  description = "Key Vault name (the chart's keyVault.name)."
  value       = azurerm_key_vault.this.name
}

output "uri" {
  description = "Key Vault URI."
  value       = azurerm_key_vault.this.vault_uri
}

output "secret_near_expiry" {
  description = "How SecretNearExpiry reaches the action group: event types of the Event Grid subscription and the alert's metric."
  value = {
    topic_type  = azurerm_eventgrid_system_topic.vault.topic_type
    event_types = azurerm_eventgrid_system_topic_event_subscription.secret_near_expiry.included_event_types
    metric      = azurerm_monitor_metric_alert.secret_near_expiry.criteria[0].metric_name
  }
}
