# Credentials below are generated for this bench and grant nothing.
provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIA2E0A8F3B244C9986"                     # bastion: ignore[secrets.*] generated bench value, grants nothing
  secret_key = "Jk3vQp9TzX1bR7mWc5Ya2Ls8Nd4Fh6Gu0Ei3Ok7P" # bastion: ignore[secrets.*] generated bench value, grants nothing
}
resource "aws_instance" "app" {
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.micro"
  user_data     = <<-EOF2
    #!/bin/bash
    export AWS_ACCESS_KEY_ID=AKIA2E0A8F3B244C9986
    export AWS_SECRET_ACCESS_KEY=Jk3vQp9TzX1bR7mWc5Ya2Ls8Nd4Fh6Gu0Ei3Ok7P  # bastion: ignore[secrets.*] generated bench value, grants nothing
  EOF2
}
resource "aws_instance" "plain" {
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.micro"
  user_data     = "#!/bin/bash\nyum install -y nginx\n"
}
resource "aws_lambda_function" "fn" {
  function_name = "fn"
  role          = "arn:aws:iam::123456789012:role/fn"
  handler       = "index.handler"
  runtime       = "python3.12"
  environment {
    variables = {
      AWS_ACCESS_KEY_ID     = "AKIA2E0A8F3B244C9986"
      AWS_SECRET_ACCESS_KEY = "Jk3vQp9TzX1bR7mWc5Ya2Ls8Nd4Fh6Gu0Ei3Ok7P"  # bastion: ignore[secrets.*] generated bench value, grants nothing
    }
  }
}
