variable "admin_cidr" { default = "0.0.0.0/0" }
variable "office_cidrs" { default = ["10.20.0.0/16"] }
locals {
  world = ["0.0.0.0/0"]
  ports = { ssh = 22, rdp = 3389, web = 443 }
}
resource "aws_security_group" "all_open" {
  name        = "all-open"
  description = "everything"
  ingress {
    description = "all"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_security_group" "range_open" {
  name        = "range-open"
  description = "range"
  ingress {
    description = "range"
    from_port   = 0
    to_port     = 65535
    protocol    = "tcp"
    cidr_blocks = local.world
  }
}
resource "aws_security_group" "ssh_var" {
  name        = "ssh-var"
  description = "ssh from the admin cidr"
  ingress {
    description = "ssh"
    from_port   = local.ports.ssh
    to_port     = lookup(local.ports, "ssh")
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr]
  }
}
resource "aws_security_group" "office" {
  name        = "office"
  description = "ssh from the office"
  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = var.office_cidrs
  }
}
resource "aws_security_group" "rdp_ipv6" {
  name        = "rdp6"
  description = "rdp"
  ingress {
    description      = "rdp range"
    from_port        = 3380
    to_port          = 3390
    protocol         = "6"
    ipv6_cidr_blocks = ["::/0"]
  }
}
resource "aws_security_group" "base" {
  name        = "base"
  description = "rules attached separately"
}
resource "aws_security_group_rule" "ssh_world" {
  type              = "ingress"
  description       = "ssh"
  from_port         = 20
  to_port           = 30
  protocol          = "tcp"
  cidr_blocks       = concat(local.world, var.office_cidrs)
  security_group_id = aws_security_group.base.id
}
resource "aws_security_group_rule" "all_world" {
  type              = "ingress"
  description       = "all"
  from_port         = 0
  to_port           = 0
  protocol          = "all"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = aws_security_group.base.id
}
resource "aws_security_group_rule" "https" {
  type              = "ingress"
  description       = "https"
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = aws_security_group.base.id
}
resource "aws_vpc_security_group_ingress_rule" "rdp" {
  security_group_id = aws_security_group.base.id
  description       = "rdp"
  from_port         = 3389
  to_port           = 3389
  ip_protocol       = "tcp"
  cidr_ipv4         = "0.0.0.0/0"
}
