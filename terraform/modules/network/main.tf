# Virtual network for AKS with Azure CNI: one subnet for nodes, one for pods (dynamic pod IP
# allocation), one for private endpoints.
resource "azurerm_virtual_network" "this" {
  name                = "vnet-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  address_space       = [var.address_space]
  tags                = var.tags
}

resource "azurerm_subnet" "nodes" {
  name                 = "snet-aks-nodes"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [cidrsubnet(var.address_space, 4, 0)]

  service_endpoint {
    service = "Microsoft.KeyVault"
  }

  service_endpoint {
    service = "Microsoft.ContainerRegistry"
  }
}

resource "azurerm_subnet" "pods" {
  name                 = "snet-aks-pods"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [cidrsubnet(var.address_space, 2, 1)]

  service_endpoint {
    service = "Microsoft.KeyVault"
  }

  delegation {
    name = "aks-pods"
    service_delegation {
      name    = "Microsoft.ContainerService/managedClusters"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

resource "azurerm_subnet" "endpoints" {
  name                 = "snet-private-endpoints"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [cidrsubnet(var.address_space, 4, 1)]
}

# Self-hosted GitHub Actions runners of the deploy workflow: inside the VNET they reach the private
# API server and push to ACR through its private endpoint (docs/deploy-aks.md#runners).
resource "azurerm_subnet" "runners" {
  name                 = "snet-ci-runners"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [cidrsubnet(var.address_space, 8, 32)]
}

# Nodes and pods only leave through the cluster's load balancer; from outside the virtual network
# only HTTP(S) to the ingress gateway enters (the load balancer keeps the client's address, so the
# Internet is the source the NSG sees), besides Azure's own default rules (VNET, load balancer
# probes).
resource "azurerm_network_security_group" "aks" {
  name                = "nsg-${var.name}-aks"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_network_security_rule" "ingress_from_internet" {
  #checkov:skip=CKV_AZURE_160:Port 80 answers ACME HTTP-01 challenges and redirects to HTTPS; the gateway serves nothing else on it.
  name                  = "allow-internet-to-ingress"
  priority              = 100
  direction             = "Inbound"
  access                = "Allow"
  protocol              = "Tcp"
  source_address_prefix = "Internet"
  source_port_range     = "*"
  destination_address_prefixes = [
    azurerm_subnet.nodes.address_prefixes[0],
    azurerm_subnet.pods.address_prefixes[0],
  ]
  destination_port_ranges     = var.ingress_ports
  resource_group_name         = var.resource_group_name
  network_security_group_name = azurerm_network_security_group.aks.name
}

# The runners' outbound path (GitHub, container images, Azure APIs): a NAT gateway. New virtual
# networks get no default outbound access, and the runners have no public IP.
resource "azurerm_public_ip" "runners_nat" {
  name                = "pip-${var.name}-runners-nat"
  location            = var.location
  resource_group_name = var.resource_group_name
  allocation_method   = "Static"
  sku                 = "Standard"
  zones               = ["1", "2", "3"]
  tags                = var.tags
}

resource "azurerm_nat_gateway" "runners" {
  name                = "ng-${var.name}-runners"
  location            = var.location
  resource_group_name = var.resource_group_name
  sku_name            = "Standard"
  tags                = var.tags
}

resource "azurerm_nat_gateway_public_ip_association" "runners" {
  nat_gateway_id       = azurerm_nat_gateway.runners.id
  public_ip_address_id = azurerm_public_ip.runners_nat.id
}

resource "azurerm_subnet_nat_gateway_association" "runners" {
  subnet_id      = azurerm_subnet.runners.id
  nat_gateway_id = azurerm_nat_gateway.runners.id
}

# The runners' subnet: no inbound connection from outside the VNET at all (runners poll GitHub).
resource "azurerm_network_security_group" "runners" {
  name                = "nsg-${var.name}-runners"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_subnet_network_security_group_association" "runners" {
  subnet_id                 = azurerm_subnet.runners.id
  network_security_group_id = azurerm_network_security_group.runners.id
}

resource "azurerm_subnet_network_security_group_association" "nodes" {
  subnet_id                 = azurerm_subnet.nodes.id
  network_security_group_id = azurerm_network_security_group.aks.id
}

resource "azurerm_subnet_network_security_group_association" "endpoints" {
  subnet_id                 = azurerm_subnet.endpoints.id
  network_security_group_id = azurerm_network_security_group.aks.id
}

resource "azurerm_subnet_network_security_group_association" "pods" {
  subnet_id                 = azurerm_subnet.pods.id
  network_security_group_id = azurerm_network_security_group.aks.id
}
