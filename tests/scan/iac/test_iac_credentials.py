"""Hard-coded credentials in provider blocks, user/custom data (CloudFormation Fn::Base64 too),
app settings and container environments: found through the secrets detector, never printed."""

from __future__ import annotations

import json
from pathlib import Path

from iac_helpers import index, run_iac

from bastion.cli.main import main

PASSWORD = "Tq8vLm2pR8wZx9Kd"  # generated for this test, grants nothing
SECRET_KEY = "Jk3vQp9TzX1bR7mWc5Ya2Ls8Nd4Fh6Gu0Ei3Ok7P"

MAIN_TF = f"""
variable "region" {{ default = "eu-west-1" }}
provider "aws" {{
  region     = var.region
  access_key = "AKIA2E0A8F3B244C9986"
  secret_key = "{SECRET_KEY}"
}}
provider "aws" {{
  alias  = "clean"
  region = var.region
}}
locals {{
  boot = <<-EOT
    #!/bin/bash
    export DB_PASSWORD={PASSWORD}
  EOT
}}
resource "aws_instance" "web" {{
  ami           = "ami-1"
  instance_type = "t3.micro"
  user_data     = local.boot
}}
resource "aws_launch_template" "lt" {{
  user_data = base64encode(local.boot)
}}
resource "aws_instance" "clean" {{
  ami       = "ami-1"
  user_data = "#!/bin/bash\\nyum install -y nginx\\n"
}}
resource "aws_lambda_function" "f" {{
  function_name = "f"
  environment {{
    variables = {{
      LOG_LEVEL   = "info"
      DB_PASSWORD = "{PASSWORD}"
    }}
  }}
}}
resource "aws_ecs_task_definition" "t" {{
  family = "t"
  container_definitions = jsonencode([{{
    name        = "app"
    environment = [{{ name = "DB_PASSWORD", value = "{PASSWORD}" }}]
  }}])
}}
resource "azurerm_linux_web_app" "app" {{
  name = "app"
  app_settings = {{
    DB_PASSWORD = "{PASSWORD}"
  }}
}}
"""


def test_credentials_in_terraform_are_found(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN_TF)
    findings, _ = run_iac(tmp_path)
    found = {(rule, resource) for rule, _, resource in index(findings)}
    assert ("iac.aws.provider-hardcoded-credentials", "provider.aws") in found
    assert ("iac.aws.provider-hardcoded-credentials", "provider.aws.clean") not in found
    assert ("iac.aws.ec2-user-data-secrets", "aws_instance.web") in found
    assert ("iac.aws.ec2-user-data-secrets", "aws_launch_template.lt") in found  # base64 decoded
    assert ("iac.aws.ec2-user-data-secrets", "aws_instance.clean") not in found
    assert ("iac.aws.lambda-env-secrets", "aws_lambda_function.f") in found
    assert ("iac.aws.container-env-secrets", "aws_ecs_task_definition.t") in found
    assert ("iac.azure.app-settings-secrets", "azurerm_linux_web_app.app") in found


def test_cloudformation_user_data_through_base64_and_sub(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Env: {Type: String, Default: prod}\n"
        "Resources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      ImageId: ami-1\n"
        "      UserData:\n        Fn::Base64: !Sub |\n          #!/bin/bash\n          echo ${Env}\n"
        f"          export AWS_SECRET_ACCESS_KEY={SECRET_KEY}\n"
        "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        f"      Environment: {{Variables: {{API_TOKEN: {PASSWORD}x}}}}\n"
    )
    findings, _ = run_iac(tmp_path)
    found = {(rule, resource) for rule, _, resource in index(findings)}
    assert ("iac.cfn.ec2-user-data-secrets", "Web") in found
    assert ("iac.cfn.lambda-env-secrets", "Fn") in found


def test_the_report_never_holds_the_secret(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN_TF)
    out = tmp_path / "r.json"
    main(["scan", str(tmp_path), "-s", "iac", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"])
    text = out.read_text()
    assert PASSWORD not in text and SECRET_KEY not in text
    messages = [
        f["message"] for f in json.loads(text)["findings"] if f["rule_id"] == "iac.aws.lambda-env-secrets"
    ]
    assert messages and "environment.0.variables" in messages[0]


def test_unresolved_script_is_unknown_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "script" {}\nresource "aws_instance" "w" {\n  ami = "a"\n  user_data = var.script\n}\n'
    )
    _, notices = run_iac(tmp_path)
    assert any("iac.aws.ec2-user-data-secrets" in n.message and "var.script" in n.message for n in notices)


def test_documented_example_keys_hard_coded_in_infrastructure_still_fail(tmp_path: Path) -> None:
    """The secrets scanner skips AWS's documentation keys; hard-coding them in user data or a
    function's environment is still the anti-pattern the IaC policy is about."""
    (tmp_path / "main.tf").write_text(
        'resource "aws_instance" "web" {\n  ami = "a"\n  user_data = <<EOF\n#! /bin/bash\n'
        "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nEOF\n}\n"
        'resource "aws_lambda_function" "f" {\n  function_name = "f"\n  environment {\n    variables = {\n'
        '      secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n    }\n  }\n}\n'
        'resource "aws_lambda_function" "ok" {\n  function_name = "ok"\n  environment {\n    variables = {\n'
        '      SECRET_NAME = "prod/db-credentials-2024"\n      DB_PASSWORD = "${var.pw}"\n'
        '      TOKEN_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"\n    }\n  }\n}\n'
        'variable "pw" { default = "" }\n'
    )
    findings, _ = run_iac(tmp_path)
    found = {(rule, resource) for rule, _, resource in index(findings)}
    assert ("iac.aws.ec2-user-data-secrets", "aws_instance.web") in found
    assert ("iac.aws.lambda-env-secrets", "aws_lambda_function.f") in found
    assert ("iac.aws.lambda-env-secrets", "aws_lambda_function.ok") not in found
