resource "azurerm_role_definition" "owner_like" {
  name  = "owner-like"
  scope = "/subscriptions/00000000-0000-0000-0000-000000000000"
  permissions {
    actions     = ["*"]
    not_actions = []
  }
}
resource "azurerm_role_definition" "reader" {
  name  = "reader"
  scope = "/subscriptions/00000000-0000-0000-0000-000000000000"
  permissions {
    actions = ["Microsoft.Storage/storageAccounts/read"]
  }
}
resource "azurerm_mssql_server_security_alert_policy" "weak" {
  resource_group_name = "rg"
  server_name         = "sql"
  state               = "Enabled"
  disabled_alerts     = ["Sql_Injection", "Data_Exfiltration"]
}
resource "azurerm_mssql_server_security_alert_policy" "good" {
  resource_group_name  = "rg"
  server_name          = "sql2"
  state                = "Enabled"
  email_addresses      = ["secops@corp.net"]
  email_account_admins = true
}
resource "azurerm_network_watcher_flow_log" "short" {
  network_watcher_name      = "nw"
  resource_group_name       = "rg"
  name                      = "short"
  network_security_group_id = "nsg-id"
  storage_account_id        = "sa-id"
  enabled                   = true
  retention_policy {
    enabled = true
    days    = 7
  }
}
resource "azurerm_network_watcher_flow_log" "long" {
  network_watcher_name      = "nw"
  resource_group_name       = "rg"
  name                      = "long"
  network_security_group_id = "nsg-id"
  storage_account_id        = "sa-id"
  enabled                   = true
  retention_policy {
    enabled = true
    days    = 90
  }
}
resource "azurerm_subnet" "app" {
  name                 = "app"
  resource_group_name  = "rg"
  virtual_network_name = "vnet"
  address_prefixes     = ["10.1.1.0/24"]
}
resource "azurerm_subnet" "db" {
  name                 = "db"
  resource_group_name  = "rg"
  virtual_network_name = "vnet"
  address_prefixes     = ["10.1.2.0/24"]
}
resource "azurerm_subnet_network_security_group_association" "app" {
  subnet_id                 = azurerm_subnet.app.id
  network_security_group_id = azurerm_network_security_group.vnet_only.id
}
