locals {
  everything = ["*"]
}
data "aws_iam_policy_document" "admin" {
  statement {
    sid       = "Admin"
    actions   = local.everything
    resources = ["*"]
  }
}
data "aws_iam_policy_document" "s3_read" {
  statement {
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]
  }
}
data "aws_iam_policy_document" "ci" {
  statement {
    actions   = ["iam:PassRole", "iam:CreateAccessKey", "ecr:GetAuthorizationToken", "s3:PutObject"]
    resources = ["*"]
  }
}
data "aws_iam_policy_document" "trust_everyone" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}
data "aws_iam_policy_document" "trust_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}
resource "aws_iam_policy" "admin" {
  name   = "admin"
  policy = data.aws_iam_policy_document.admin.json
}
resource "aws_iam_policy" "reader" {
  name   = "reader"
  policy = data.aws_iam_policy_document.s3_read.json
}
resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = data.aws_iam_policy_document.trust_everyone.json
}
resource "aws_iam_role" "ec2" {
  name               = "ec2"
  assume_role_policy = data.aws_iam_policy_document.trust_ec2.json
}
resource "aws_iam_role_policy" "ci" {
  name   = "ci"
  role   = aws_iam_role.ec2.id
  policy = data.aws_iam_policy_document.ci.json
}
resource "aws_iam_role_policy" "wild" {
  name = "wild"
  role = aws_iam_role.ec2.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:*", "dynamodb:*"]
        Resource = "*"
      },
    ]
  })
}
resource "aws_iam_user_policy" "star" {
  name = "star"
  user = "deploy"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
  })
}
resource "aws_iam_group_policy" "heredoc" {
  name  = "heredoc"
  group = "ops"
  policy = <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["iam:*"], "Resource": "*"}]
}
POLICY
}
resource "aws_s3_bucket" "site" {
  bucket = "site-${terraform.workspace}"
}
resource "aws_s3_bucket_policy" "public" {
  bucket = aws_s3_bucket.site.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = ["s3:GetObject"]
      Resource  = "${aws_s3_bucket.site.arn}/*"
    }]
  })
}
resource "aws_kms_key" "open" {
  description         = "open key"
  enable_key_rotation = true
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "*" }, Action = "kms:*", Resource = "*" }]
  })
}
resource "aws_sqs_queue" "q" {
  name                    = "q"
  sqs_managed_sse_enabled = true
}
resource "aws_sqs_queue_policy" "open" {
  queue_url = aws_sqs_queue.q.id
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = "*", Action = "sqs:SendMessage", Resource = aws_sqs_queue.q.arn }]
  })
}
resource "aws_sns_topic" "t" {
  name              = "t"
  kms_master_key_id = "alias/aws/sns"
}
resource "aws_sns_topic_policy" "open" {
  arn = aws_sns_topic.t.arn
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = { AWS = "*" }, Action = "sns:Publish", Resource = aws_sns_topic.t.arn }]
  })
}
