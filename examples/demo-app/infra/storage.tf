variable "environment" {
  default = "staging"
}

variable "log_retention_days" {
  description = "set per environment by the pipeline"
}

locals {
  prefix = "orders-${var.environment}"
}

resource "aws_kms_key" "orders" {
  description         = "orders data"
  enable_key_rotation = false
}

resource "aws_ebs_volume" "scratch" {
  availability_zone = "eu-west-1a"
  size              = 50
  encrypted         = false
}

resource "aws_cloudwatch_log_group" "orders" {
  name              = "${local.prefix}-app"
  retention_in_days = var.log_retention_days
}

resource "aws_lb_listener" "orders" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/orders/1"
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders/1"
  }
}
