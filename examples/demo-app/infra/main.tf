provider "aws" {
  region = "eu-west-1"
}

resource "aws_s3_bucket" "orders_exports" {
  bucket = "orders-exports"
}

resource "aws_s3_bucket_acl" "orders_exports" {
  bucket = aws_s3_bucket.orders_exports.id
  acl    = "public-read"
}

resource "aws_security_group" "orders" {
  name = "orders"

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_db_instance" "orders" {
  identifier          = "orders"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "orders"
  password            = "Winter2024!orders"
  storage_encrypted   = false
  publicly_accessible = true
  skip_final_snapshot = true
}
