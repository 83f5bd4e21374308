"""A reference to another resource's own argument (``aws_vpc.main.cidr_block``) is the value written
there when that value is known in the files, as Terraform plans it; computed attributes (``id``,
``arn``), arguments of counted resources and values that are themselves unknown stay references,
known after apply, and leave the checks unknown, never passed."""

from __future__ import annotations

from pathlib import Path

from iac_helpers import index, run_iac

RULE = "iac.aws.security-group-rule-open-mysql"
VPC = 'resource "aws_vpc" "main" {\n  cidr_block = %s\n}\n'
INGRESS = (
    'resource "aws_security_group_rule" "db" {\n  type = "ingress"\n  from_port = 3306\n  to_port = 3306\n'
    '  protocol = "tcp"\n  cidr_blocks = [%s]\n  security_group_id = "sg-1"\n}\n'
)


def _scan(tmp_path: Path, text: str) -> tuple[set[str], list[str]]:
    (tmp_path / "main.tf").write_text(text)
    findings, notices = run_iac(tmp_path)
    return {rule for rule, _, resource in index(findings) if resource == "aws_security_group_rule.db"}, [
        n.message for n in notices
    ]


def test_configured_private_range_passes(tmp_path: Path) -> None:
    found, notices = _scan(tmp_path, VPC % '"10.0.0.0/16"' + INGRESS % "aws_vpc.main.cidr_block")
    assert RULE not in found
    assert not any("unknown" in n and "cidr_block" in n for n in notices)


def test_configured_open_range_fails(tmp_path: Path) -> None:
    found, _ = _scan(tmp_path, VPC % '"0.0.0.0/0"' + INGRESS % '"${aws_vpc.main.cidr_block}"')
    assert RULE in found


def test_value_computed_from_a_variable_default_is_followed(tmp_path: Path) -> None:
    variable = 'variable "cidr" {\n  default = "0.0.0.0/0"\n}\n'
    text = variable + VPC % "var.cidr" + INGRESS % "aws_vpc.main.cidr_block"
    found, _ = _scan(tmp_path, text)
    assert RULE in found


def test_computed_attribute_stays_unknown(tmp_path: Path) -> None:
    found, notices = _scan(tmp_path, VPC % '"10.0.0.0/16"' + INGRESS % "aws_vpc.main.ipv6_cidr_block")
    assert RULE not in found
    assert any("aws_vpc.main.ipv6_cidr_block is known after apply" in n for n in notices)


def test_unknown_configured_value_stays_a_reference(tmp_path: Path) -> None:
    text = 'variable "cidr" {}\n' + VPC % "var.cidr" + INGRESS % "aws_vpc.main.cidr_block"
    found, notices = _scan(tmp_path, text)
    assert RULE not in found
    assert any("aws_vpc.main.cidr_block is known after apply" in n for n in notices)


def test_counted_resource_stays_a_reference(tmp_path: Path) -> None:
    text = (
        'resource "aws_vpc" "main" {\n  count = 2\n  cidr_block = "0.0.0.0/0"\n}\n'
        + INGRESS % "aws_vpc.main[0].cidr_block"
    )
    found, notices = _scan(tmp_path, text)
    assert RULE not in found
    assert any("known after apply" in n for n in notices)


def test_reference_cycle_stays_a_reference(tmp_path: Path) -> None:
    text = (
        'resource "aws_vpc" "a" {\n  cidr_block = aws_vpc.b.cidr_block\n}\n'
        'resource "aws_vpc" "b" {\n  cidr_block = aws_vpc.a.cidr_block\n}\n'
        + INGRESS
        % "aws_vpc.a.cidr_block"
    )
    found, notices = _scan(tmp_path, text)
    assert RULE not in found
    assert any("aws_vpc.a.cidr_block is known after apply" in n for n in notices)


def test_map_argument_element_and_connection_by_name(tmp_path: Path) -> None:
    text = (
        'resource "aws_s3_bucket" "logs" {\n  bucket = "my-logs"\n  tags = { Team = "ops" }\n}\n'
        'resource "aws_s3_bucket_versioning" "v" {\n  bucket = aws_s3_bucket.logs.bucket\n'
        '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n'
    )
    (tmp_path / "main.tf").write_text(text)
    findings, _ = run_iac(tmp_path)
    found = {rule for rule, _, resource in index(findings) if resource == "aws_s3_bucket.logs"}
    # the versioning resource names the bucket by its configured name and still counts for it
    assert "iac.aws.s3-bucket-versioning" not in found
