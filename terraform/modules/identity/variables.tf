variable "name" {
  description = "Name stem of the identities."
  type        = string
}

variable "location" {
  description = "Azure region."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group of the identities."
  type        = string
}

variable "oidc_issuer_url" {
  description = "OIDC issuer of the AKS cluster."
  type        = string
}

variable "service_accounts" {
  description = "namespace:name of every service account that uses the workload identity."
  type        = list(string)
}

variable "key_vault_id" {
  description = "Key Vault the workloads read."
  type        = string
}

variable "acr_id" {
  description = "Registry CI pushes to."
  type        = string
}

variable "cluster_id" {
  description = "AKS cluster CI deploys to."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows deploy."
  type        = string
}

variable "github_environment" {
  description = "GitHub environment (staging or prod) the federated credential trusts."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
