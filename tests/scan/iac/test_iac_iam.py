"""IAM policy documents: data "aws_iam_policy_document", jsonencode({...}) and CloudFormation,
evaluated like inline JSON wherever they are referenced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from iac_helpers import index, run_iac

from bastion.cli.main import main
from bastion.scan.iac.iamdoc import policy_document, statements
from bastion.scan.iac.model import Outcome, Ref, Result, Unresolved

MAIN_TF = """locals {
  admin_actions = ["*"]
  bucket        = "logs"
}
variable "env" { default = "prod" }
data "aws_iam_policy_document" "admin" {
  statement {
    actions   = local.admin_actions
    resources = ["*"]
  }
}
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}
data "aws_iam_policy_document" "ok" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${local.bucket}/*"]
  }
}
resource "aws_iam_policy" "from_data" {
  name   = "admin-${var.env}"
  policy = data.aws_iam_policy_document.admin.json
}
resource "aws_iam_role" "r" {
  name               = "r"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}
resource "aws_iam_role_policy" "inline" {
  role = aws_iam_role.r.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["iam:PassRole", "s3:PutObject"]
      Resource = "*"
    }]
  })
}
resource "aws_iam_user_policy" "ok" {
  user   = "u"
  policy = data.aws_iam_policy_document.ok.json
}
resource "aws_s3_bucket_policy" "pub" {
  bucket = "b"
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject",
                   Resource = "${aws_s3_bucket.b.arn}/*" }]
  })
}
resource "aws_s3_bucket" "b" { bucket = local.bucket }
"""


def _found(root: Path) -> set[tuple[str, str]]:
    findings, _ = run_iac(root)
    return {(rule, resource) for rule, _, resource in index(findings)}


def test_policy_documents_are_computed_and_followed_where_referenced(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN_TF)
    found = _found(tmp_path)
    for rule in ("iac.aws.iam-policy-no-admin", "iac.aws.iam-policy-star-action"):
        assert (rule, "data.aws_iam_policy_document.admin") in found
        assert (rule, "aws_iam_policy.from_data") in found  # through data.X.json and a local
    assert ("iac.aws.iam-role-assume-everyone", "aws_iam_role.r") in found
    assert ("iac.aws.resource-policy-public-principal", "data.aws_iam_policy_document.trust") in found
    # jsonencode({...}) with a resource reference inside is still read
    assert ("iac.aws.resource-policy-public-principal", "aws_s3_bucket_policy.pub") in found
    assert ("iac.aws.iam-privilege-escalation", "aws_iam_role_policy.inline") in found
    assert ("iac.aws.iam-policy-no-admin", "aws_iam_role_policy.inline") not in found
    assert not {
        rule
        for rule, resource in found
        if resource.endswith(".ok") and rule != "iac.aws.iam-user-direct-policy"
    }


def test_cloudformation_documents_inline_and_managed(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        "        {Statement: [{Effect: Allow, Principal: {AWS: '*'}, Action: sts:AssumeRole}]}\n"
        "      Policies:\n        - PolicyName: p\n"
        "          PolicyDocument: {Statement: [{Effect: Allow, NotAction: 'iam:*', Resource: '*'}]}\n"
        "  Managed:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n"
        "      PolicyDocument:\n        Statement:\n          - Effect: Allow\n"
        "            Action: 'iam:CreateAccessKey'\n"
        "            Resource: '*'\n"
        "  Key:\n    Type: AWS::KMS::Key\n    Properties:\n"
        "      KeyPolicy: {Statement: [{Effect: Allow, Principal: '*', Action: 'kms:*', Resource: '*'}]}\n"
    )
    found = _found(tmp_path)
    assert ("iac.cfn.iam-role-assume-everyone", "Role") in found
    assert ("iac.cfn.iam-policy-not-action", "Role") in found
    assert ("iac.cfn.iam-credentials-exposure", "Managed") in found
    assert ("iac.cfn.resource-policy-public-principal", "Key") in found
    assert ("iac.cfn.iam-policy-no-admin", "Managed") not in found


def test_unknown_documents_are_unknown_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "doc" {}\n'
        'resource "aws_iam_policy" "p" {\n  policy = var.doc\n}\n'
        'data "aws_iam_policy_document" "d" {\n  source_policy_documents = [var.doc]\n}\n'
        'resource "aws_iam_policy" "q" {\n  policy = data.aws_iam_policy_document.d.json\n}\n'
    )
    out = tmp_path / "r.json"
    main(["scan", str(tmp_path), "-s", "iac", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"])
    report = out.read_text()
    assert "on aws_iam_policy.p (line 3): var.doc has no default" in report
    assert "on aws_iam_policy.q" in report and "a source document is unknown" in report
    assert not [f for f in json.loads(report)["findings"] if f["rule_id"].startswith("iac.aws.iam-policy")]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}', 1),
        ('{"Statement": "not a list"}', 0),
        ("[1, 2]", 0),
        ("{not json", Outcome.UNKNOWN),
        (Unresolved("var.x"), Outcome.UNKNOWN),
        (Ref("aws_iam_policy_document.x", "json"), Outcome.UNKNOWN),
        ({"Statement": [{"Effect": "Allow"}, "junk", 3]}, 1),
    ],
)
def test_malformed_documents_never_crash(document: object, expected: object) -> None:
    got = statements(document)
    if isinstance(expected, Outcome):
        assert isinstance(got, Result) and got.outcome is expected
    else:
        assert isinstance(got, list) and len(got) == expected


def test_policy_document_data_source_shape() -> None:
    doc = policy_document(
        {
            "statement": [
                {
                    "effect": "Deny",
                    "not_actions": ["s3:GetObject"],
                    "not_resources": ["arn:aws:s3:::b"],
                    "principals": [{"type": "*", "identifiers": ["*"]}],
                    "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
                }
            ],
            "source_policy_documents": ['{"Statement": [{"Effect": "Allow", "Action": "s3:ListBucket"}]}'],
        }
    )["json"]
    assert doc["Statement"][0] == {"Effect": "Allow", "Action": "s3:ListBucket"}
    assert doc["Statement"][1] == {
        "Effect": "Deny",
        "NotAction": ["s3:GetObject"],
        "NotResource": ["arn:aws:s3:::b"],
        "Principal": "*",
        "Condition": {"Bool": {"aws:SecureTransport": ["false"]}},
    }
