"""Odd but valid inputs: Terraform with heredocs, ``for_each`` modules, comments and interpolations
holding braces and quotes, Terraform JSON; CloudFormation YAML with short-form tags, nested stack
URLs built with ``!Sub``/``!Join`` or written in any S3 form, JSON indented with tabs; Helm charts
with OCI dependencies; constraints that templates declare themselves."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bastion.catalog.consumers import CatalogIndex, scan_consumer
from bastion.catalog.lifecycle import publish
from bastion.catalog.local import LocalCatalog
from bastion.catalog.model import Constraint
from bastion.catalog.sources import UseKind, find_usage, normalise_source
from bastion.catalog.templates import example_inputs, read_template
from conftest import PRODUCTS

TODAY = date(2026, 12, 7)

TRICKY_TF = """\
locals {
  script = <<-EOT
    #!/bin/bash
    echo "an unbalanced { brace and a lone quote " here
    module "fake" {
      source  = "acme/vpc/aws"
      version = "1.0.0"
    }
  EOT
}

module "vpcs" {
  for_each   = toset(["a", "b"])
  source     = "acme/vpc/aws" // a trailing { comment
  version    = "1.4.0"
  name       = "${var.env == "prod" ? "{" : "}"}-vpc"
  cidr_block = "10.20.0.0/16" # set "here
  tags = {
    source     = "evil/x/aws"
    version    = "9.9.9"
    cidr_block = "192.168.0.0/16"
  }
}

/* module "commented" {
  source = "acme/vpc/aws"
} */

module "registry" {
  version = "2.0.0"
  source  = "registry.terraform.io/acme/vpc/aws"
  note    = "literal $${not_an_interpolation} and %%{not_a_directive}"
  policy  = <<EOF
}
module "inside-heredoc" {
EOF
}

resource "aws_vpc" "hand" {
  cidr_block = "10.0.0.0/16"
}
"""


def test_terraform_heredocs_comments_interpolations_and_nested_objects(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TRICKY_TF)
    uses, resources, skipped, _ = find_usage(tmp_path)
    assert skipped == []
    assert [(u.line, u.key, u.version, u.inputs) for u in uses] == [
        (12, "acme/vpc/aws", "1.4.0", (("cidr_block", "10.20.0.0/16", 17),)),  # not the nested tags
        (29, "acme/vpc/aws", "2.0.0", ()),  # "$${" is literal text, yet no plain value to check
    ]
    assert [(r.line, r.type, r.name) for r in resources] == [(39, "aws_vpc", "hand")]


def test_terraform_json_modules_and_resources(tmp_path: Path) -> None:
    document = {
        "module": {
            "vpc": {"source": "acme/vpc/aws", "version": "1.4.0", "cidr_block": "10.9.0.0/16", "count": 2},
            "local": {"source": "./modules/x"},
        },
        "resource": [{"aws_vpc": {"hand": {"cidr_block": "10.0.0.0/16"}}}],
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(document, indent=2))
    uses, resources, skipped, _ = find_usage(tmp_path)
    assert skipped == []
    assert [(u.kind, u.line, u.key, u.version, u.inputs) for u in uses] == [
        (UseKind.TERRAFORM_MODULE, 3, "acme/vpc/aws", "1.4.0", (("cidr_block", "10.9.0.0/16", 6),))
    ]
    assert [(r.line, r.type, r.name) for r in resources] == [(16, "aws_vpc", "hand")]
    (tmp_path / "broken.tf.json").write_text("{")
    broken = tmp_path / "broken.tf.json"
    assert find_usage(tmp_path)[2] == [
        f"broken.tf.json: {broken}: not valid JSON "
        "(line 1: Expecting property name enclosed in double quotes)"
    ]


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("https://acme-catalog.s3.amazonaws.com/cfn-s3-bucket", "s3/acme-catalog/cfn-s3-bucket"),
        ("https://acme-catalog.s3.eu-west-1.amazonaws.com/cfn-s3-bucket/1.0.0/t.yaml",
         "s3/acme-catalog/cfn-s3-bucket/1.0.0/t.yaml"),
        ("https://acme-catalog.s3-us-west-2.amazonaws.com/x", "s3/acme-catalog/x"),
        ("https://s3.amazonaws.com/acme-catalog/x/1.0.0/t.yaml", "s3/acme-catalog/x/1.0.0/t.yaml"),
        ("https://s3.dualstack.eu-west-1.amazonaws.com/acme-catalog/x", "s3/acme-catalog/x"),
        ("https://acme-catalog.s3.${AWS::Region}.${AWS::URLSuffix}/x/2.0.0/t", "s3/acme-catalog/x/2.0.0/t"),
        ("s3://acme-catalog/x/2.0.0/t.yaml", "s3/acme-catalog/x/2.0.0/t.yaml"),
        ("https://s3-logs.s3.amazonaws.com/k", "s3/s3-logs/k"),
        ("s3::https://s3-eu-west-1.amazonaws.com/modules/vpc.zip", "s3/modules/vpc.zip"),
        ("registry.terraform.io/acme/vpc/aws", "acme/vpc/aws"),
        ("registry.opentofu.org/acme/vpc/aws//modules/flow", "acme/vpc/aws//modules/flow"),
        ("app.terraform.io/acme/vpc/aws", "app.terraform.io/acme/vpc/aws"),  # a private registry stays apart
        ("https://host.example.com:8443/charts/web", "host.example.com:8443/charts/web"),
    ],
)  # fmt: skip
def test_normalise_s3_urls_and_public_registries(source: str, key: str) -> None:
    assert normalise_source(source)[0] == key


NESTED_YAML = """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  BySub:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Sub "https://acme-catalog.s3.${AWS::Region}.amazonaws.com/cfn-s3-bucket/2.0.0/template.yaml"
      Parameters:
        BucketName: acme-payments-ok
        KmsKeyArn: alias/aws/s3
        LogBucket: !Ref Logs
  BySubMap:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Sub
        - "https://${Bucket}.s3.amazonaws.com/cfn-s3-bucket/${Version}/template.yaml"
        - Bucket: acme-catalog
          Version: 1.0.0
  ByJoin:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Join
        - ""
        - ["https://s3.", !Ref "AWS::Region", ".amazonaws.com/acme-catalog/cfn-s3-bucket/2.0.0/template.yaml"]
  Computed:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !GetAtt Somewhere.Url
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-logs"
"""

NESTED_JSON = '{\n\t"Resources": {\n\t\t"Store": {\n\t\t\t"Type": "AWS::CloudFormation::Stack",\n' \
    '\t\t\t"Properties": {"TemplateURL": "s3://acme-catalog/cfn-s3-bucket/2.0.0/template.yaml",\n' \
    '\t\t\t\t"Parameters": {"BucketName": "x!"}}\n\t\t}\n\t}\n}\n'  # fmt: skip


def test_cloudformation_nested_stacks_in_every_form(full_catalog: LocalCatalog, tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(NESTED_YAML)
    (tmp_path / "stack.json").write_text(NESTED_JSON)
    report = scan_consumer(tmp_path, CatalogIndex.build(full_catalog), TODAY)
    assert report.skipped == []
    assert sorted((u.path, u.line, name, version) for u, name, version in report.uses) == [
        ("stack.json", 3, "cfn-s3-bucket", "2.0.0"),
        ("stack.yaml", 6, "cfn-s3-bucket", "2.0.0"),
        ("stack.yaml", 14, "cfn-s3-bucket", "1.0.0"),
        ("stack.yaml", 21, "cfn-s3-bucket", "2.0.0"),
    ]  # the computed URL is no reference Bastion can follow
    found = {(f.rule_id, f.location.path, f.location.start_line): f.message for f in report.findings}
    assert found == {
        # the template's own AllowedPattern (2.0.0 declares it; the product does not)
        ("catalog.input-not-allowed", "stack.yaml", 11): "cfn-s3-bucket input KmsKeyArn: 'alias/aws/s3' does "
        "not match arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-f0-9-]+",
        # the product's own constraint, in a JSON template indented with tabs
        ("catalog.input-not-allowed", "stack.json", 6): "cfn-s3-bucket input BucketName: 'x!' does not match "
        "[a-z0-9-]{3,63}",
        ("catalog.use-product", "stack.yaml", 31): "AWS::S3::Bucket.Logs is written by hand; the catalog's "
        "approved product cfn-s3-bucket 2.0.0 provides it (https://acme-catalog.s3.amazonaws.com/cfn-s3-bucket)",
    }  # fmt: skip


def test_helm_oci_dependencies(full_catalog: LocalCatalog, tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text(
        "apiVersion: v2\nname: shop\nversion: 1.0.0\ndependencies:\n"
        "  - name: webapp\n    version: 1.3.0\n    repository: oci://charts.example.com\n"
        "  - name: webapp\n    alias: admin\n    version: '~1.3.0'\n    repository: oci://charts.example.com/\n"
        "  - name: webapp\n    version: 0.9.0\n    repository: '@acme'\n"  # a repository alias: not resolved
        "  - name: local\n    version: 0.1.0\n    repository: file://../local\n"
        "  - name: redis\n    version: 19.0.1\n    repository: oci://registry-1.docker.io/bitnamicharts\n"
    )
    report = scan_consumer(tmp_path, CatalogIndex.build(full_catalog), TODAY)
    assert [(u.line, u.source, version) for u, _, version in report.uses] == [
        (5, "oci://charts.example.com/webapp", "1.3.0"),
        (8, "oci://charts.example.com/webapp", None),
    ]
    assert [(f.rule_id, f.location.start_line) for f in report.findings] == [("catalog.version-unpinned", 8)]
    # what the chart passes its dependencies, under their names or aliases, in values.yaml
    (tmp_path / "values.yaml").write_text(
        "webapp:\n  image:\n    tag: 2.4.1\n  replicaCount: 1\nadmin:\n  replicaCount: 3\n"
        "redis:\n  replicaCount: 0\n"
    )
    report = scan_consumer(tmp_path, CatalogIndex.build(full_catalog), TODAY)
    assert [(f.rule_id, f.location.path, f.location.start_line, f.message) for f in report.findings] == [
        ("catalog.version-unpinned", "Chart.yaml", 8, "oci://charts.example.com/webapp (webapp-chart) is not "
         "pinned to an exact version (~1.3.0); upgrade to webapp-chart 1.3.0"),
        ("catalog.input-not-allowed", "values.yaml", 4, "webapp-chart input replicaCount: '1' is below 2"),
    ]  # fmt: skip
    (tmp_path / "values.yaml").write_text("webapp: [\n")
    assert scan_consumer(tmp_path, CatalogIndex.build(full_catalog), TODAY).skipped == [
        f"Chart.yaml: {tmp_path / 'values.yaml'}: not valid YAML (line 2: did not find expected node content)"
    ]  # a broken values file is said, not skipped silently


def test_terraform_template_with_heredocs_for_each_and_validations(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "policy" {\n  type = string\n  description = <<-EOT\n    With { braces }.\n  EOT\n'
        '  default = <<EOF\n{"Version": "2012-10-17"}\nEOF\n}\n'
        'variable "size" {\n  type = string\n  default = "small"\n  validation {\n'
        '    condition = contains(["small", "large"], var.size)\n    error_message = "x"\n  }\n}\n'
        'variable "tier" {\n  type = string\n  validation {\n'
        '    condition = var.tier == null || contains(["a"], var.tier)\n    error_message = "x"\n  }\n}\n'
        'variable "zones" {\n  type = list(string)\n  validation {\n'
        '    condition = length(var.zones) >= 2\n    error_message = "x"\n  }\n}\n'
        'variable "count_of" {\n  type = number\n  validation {\n'
        "    condition = (2 <= var.count_of) && !contains([3], var.count_of)\n"
        '    error_message = "x"\n  }\n}\n'
        'variable "subnets" {\n  type = map(object({ cidr = string }))\n}\n'
        'module "sub" {\n  for_each = var.subnets\n  source = "./sub"\n  cidr = each.value.cidr\n}\n'
        'output "ids" {\n  value = { for k, m in module.sub : k => m.id }\n  description = "Subnet ids"\n}\n'
    )
    (tmp_path / "extra.tf.json").write_text(
        json.dumps({"variable": {"region": {"type": "string", "default": "eu-west-1"}}})
    )
    info = read_template(tmp_path)
    assert [(p.name, p.default, p.required) for p in info.inputs] == [
        ("region", "eu-west-1", False),
        ("policy", '{"Version": "2012-10-17"}', False),
        ("size", "small", False),
        ("tier", None, True),
        ("zones", None, True),
        ("count_of", None, True),
        ("subnets", None, True),
    ]
    assert [(p.name, p.description) for p in info.outputs] == [("ids", "Subnet ids")]
    assert info.constraints == {  # || and ! say nothing for sure; length() of a list is no string length
        "size": Constraint(allowed=["small", "large"]),
        "count_of": Constraint(minimum=2),
    }
    assert example_inputs(info.inputs, info.constraints)["count_of"] == 2


def test_cloudformation_and_arm_parameter_limits(tmp_path: Path) -> None:
    cfn = tmp_path / "cfn"
    cfn.mkdir()
    (cfn / "template.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nParameters:\n'
        "  Env: {Type: String, AllowedValues: [dev, prod], Default: dev}\n"
        "  Size: {Type: Number, MinValue: 1, MaxValue: '10'}\n"
        "  Zones: {Type: CommaDelimitedList, AllowedValues: [a, b]}\n"
        "  Name: {Type: String, AllowedPattern: '\\p{L}+', MaxLength: 20}\n"
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      QueueName: !Sub '${Name}-q'\n      KmsMasterKeyId: !If [IsProd, !Ref Key, alias/aws/sqs]\n"
        "Outputs:\n  Arn: {Value: !GetAtt Q.Arn, Description: The ARN}\n"
    )
    info = read_template(cfn)
    assert info.constraints == {
        "Env": Constraint(allowed=["dev", "prod"]),
        "Size": Constraint(minimum=1, maximum=10),
        "Name": Constraint(max_length=20),  # a Java-only pattern is left out, not guessed at
    }
    examples = example_inputs(info.inputs, info.constraints)
    assert examples == {"Env": "dev", "Size": 1, "Zones": "<CommaDelimitedList>", "Name": "<String>"}
    arm = tmp_path / "arm"
    arm.mkdir()
    (arm / "azuredeploy.json").write_text(
        json.dumps(
            {
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "parameters": {
                    "sku": {"type": "string", "allowedValues": ["Standard_LRS", "Standard_ZRS"]},
                    "days": {"type": "int", "minValue": 7, "maxValue": 365, "defaultValue": 30},
                    "name": {"type": "string", "minLength": 3, "maxLength": 24},
                },
                "resources": [],
            }
        )
    )
    assert read_template(arm).constraints == {
        "sku": Constraint(allowed=["Standard_LRS", "Standard_ZRS"]),
        "days": Constraint(minimum=7, maximum=365),
        "name": Constraint(min_length=3, max_length=24),
    }


def test_publish_records_the_templates_own_limits_and_gates_on_them(
    empty_catalog: LocalCatalog, tmp_path: Path
) -> None:
    record = publish(
        empty_catalog, PRODUCTS / "aws-rds-postgres" / "2.0.0", "aws-rds-postgres", "2.0.0", "carol"
    ).record
    assert record is not None
    assert record.constraints["identifier"] == Constraint(pattern="[a-z][a-z0-9-]*", max_length=63)
    assert record.constraints["backup_retention_days"] == Constraint(minimum=7, maximum=35)
    stored = json.loads((empty_catalog.root / "products/aws-rds-postgres/versions/2.0.0.json").read_text())
    assert stored["constraints"]["backup_retention_days"] == {"minimum": 7.0, "maximum": 35.0}
    assert empty_catalog.versions("aws-rds-postgres")[0].constraints == record.constraints

    bad = tmp_path / "bad"
    bad.mkdir()
    text = (PRODUCTS / "cfn-s3-bucket" / "2.0.0" / "template.yaml").read_text()
    (bad / "template.yaml").write_text(
        text.replace("    MaxLength: 63\n", "    MaxLength: 63\n    Default: ab\n", 1)
    )
    refused = publish(empty_catalog, bad, "cfn-s3-bucket", "2.0.1", "carol")
    assert refused.record is None
    assert refused.report.reasons == (
        "constraint on BucketName: default 'ab' does not match [a-z0-9-]{3,63}",
        "template's own constraint on BucketName: default 'ab' is shorter than 3 characters",
    )  # fmt: skip


def test_consumers_are_held_to_the_used_versions_own_limits(
    full_catalog: LocalCatalog, tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text(
        'module "db" {\n'
        '  source = "git::https://git.example.com/platform/terraform-aws-rds-postgres.git?ref=2.0.0"\n'
        '  identifier = "Payments_DB"\n'
        '  instance_class = "db.t3.medium"\n'
        "}\n"
    )
    report = scan_consumer(tmp_path, CatalogIndex.build(full_catalog), TODAY)
    assert [(f.rule_id, f.location.start_line, f.message) for f in report.findings] == [
        ("catalog.input-not-allowed", 3, "aws-rds-postgres input identifier: 'Payments_DB' does not match "
         "[a-z][a-z0-9-]*"),
    ]  # fmt: skip


def test_a_file_with_thousands_of_blocks_keeps_every_line(tmp_path: Path) -> None:
    """Lines and nesting are counted in one pass (the reader was quadratic in blocks per file)."""
    body = "".join(f'  in{i} = "v{i}"\n' for i in range(5000))
    buckets = "".join(f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "x{i}"\n}}\n' for i in range(5000))
    (tmp_path / "main.tf").write_text(
        f'module "m" {{\n  source = "acme/vpc/aws"\n  version = "2.0.0"\n{body}}}\n{buckets}'
    )
    (use,), resources, _, _ = find_usage(tmp_path)
    assert len(use.inputs) == 5000 and use.inputs[-1] == ("in4999", "v4999", 5003)
    assert [(r.line, r.name) for r in resources][::2500] == [(5005, "b0"), (12505, "b2500")]
    assert (resources[-1].line, resources[-1].name) == (20002, "b4999")


def test_json_templates_with_thousands_of_resources_keep_every_line(tmp_path: Path) -> None:
    resources = {
        f"Bucket{i}": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"b{i}"}} for i in range(3000)
    }
    (tmp_path / "stack.json").write_text(json.dumps({"Resources": resources}, indent=1))
    buckets = {"aws_s3_bucket": {f"b{i}": {"bucket": f"x{i}"} for i in range(3000)}}
    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": buckets}, indent=1))
    _, found, skipped, _ = find_usage(tmp_path)
    assert skipped == []
    by_file = {
        path: [(r.line, r.name) for r in found if r.path == path] for path in ("main.tf.json", "stack.json")
    }
    assert by_file["main.tf.json"][-1] == (3 + 3 * 2999 + 1, "b2999")
    assert by_file["stack.json"][-1] == (2 + 6 * 2999 + 1, "Bucket2999")
