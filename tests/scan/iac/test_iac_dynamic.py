"""``dynamic`` blocks are expanded like Terraform does: every element of a known ``for_each`` (list,
set or map) becomes a block after the static ones, through ``iterator`` or the block's own name, nested
dynamic blocks too; an unknown ``for_each`` leaves the checks over those blocks unknown, never passed."""

from __future__ import annotations

from pathlib import Path

from iac_helpers import index, run_iac

SG = "aws_security_group.web"


def _scan(tmp_path: Path, text: str) -> tuple[set[tuple[str, str, str]], list[str]]:
    (tmp_path / "main.tf").write_text(text)
    findings, notices = run_iac(tmp_path)
    return {(rule, resource) for rule, _, resource in index(findings)}, [n.message for n in notices]


def test_iterator_over_a_variable_list_beside_a_static_block(tmp_path: Path) -> None:
    found, _ = _scan(
        tmp_path,
        'variable "ports" {\n  default = [80, 443]\n}\n'
        'resource "aws_security_group" "web" {\n  description = "web"\n'
        '  dynamic "ingress" {\n    for_each = var.ports\n    iterator = port\n'
        '    content {\n      from_port = port.value\n      to_port = port.value\n      protocol = "tcp"\n'
        '      cidr_blocks = ["0.0.0.0/0"]\n    }\n  }\n'
        '  ingress {\n    from_port = 22\n    to_port = 22\n    protocol = "tcp"\n'
        '    cidr_blocks = ["10.0.0.0/8"]\n  }\n}\n',
    )
    assert ("iac.aws.security-group-open-http", SG) in found  # from the generated blocks
    assert ("iac.aws.security-group-open-ssh", SG) not in found  # the static block is private


def test_block_name_as_iterator_over_objects_and_maps(tmp_path: Path) -> None:
    found, _ = _scan(
        tmp_path,
        'locals {\n  rules = [{ port = 22, cidr = "0.0.0.0/0" }, { port = 443, cidr = "10.0.0.0/8" }]\n'
        "  admin = { rdp = 3389 }\n}\n"
        'resource "aws_security_group" "web" {\n'
        '  dynamic "ingress" {\n    for_each = local.rules\n'
        "    content {\n      from_port = ingress.value.port\n      to_port = ingress.value.port\n"
        '      protocol = "tcp"\n      cidr_blocks = [ingress.value.cidr]\n    }\n  }\n'
        '  dynamic "ingress" {\n    for_each = local.admin\n'
        "    content {\n      description = ingress.key\n      from_port = ingress.value\n"
        '      to_port = ingress.value\n      protocol = "tcp"\n'
        '      cidr_blocks = ["0.0.0.0/0"]\n    }\n  }\n}\n',
    )
    assert ("iac.aws.security-group-open-ssh", SG) in found
    assert ("iac.aws.security-group-open-rdp", SG) in found
    assert ("iac.aws.security-group-open-https", SG) not in found


def test_nested_dynamic_blocks_are_expanded(tmp_path: Path) -> None:
    found, _ = _scan(
        tmp_path,
        'resource "aws_s3_bucket_server_side_encryption_configuration" "e" {\n  bucket = "b"\n'
        '  dynamic "rule" {\n    for_each = ["one"]\n    content {\n'
        '      dynamic "apply_server_side_encryption_by_default" {\n        for_each = ["AES256"]\n'
        "        iterator = algo\n        content {\n          sse_algorithm = algo.value\n        }\n"
        "      }\n    }\n  }\n}\n",
    )
    assert ("iac.aws.s3-encryption-kms", "aws_s3_bucket_server_side_encryption_configuration.e") in found


def test_an_unknown_for_each_beside_static_blocks_is_unknown_not_a_pass(tmp_path: Path) -> None:
    found, notices = _scan(
        tmp_path,
        'variable "ports" {}\n'
        'resource "aws_security_group" "web" {\n'
        '  ingress {\n    from_port = 443\n    to_port = 443\n    protocol = "tcp"\n'
        '    cidr_blocks = ["10.0.0.0/8"]\n  }\n'
        '  dynamic "ingress" {\n    for_each = var.ports\n'
        "    content {\n      from_port = ingress.value\n      to_port = ingress.value\n"
        '      protocol = "tcp"\n      cidr_blocks = ["0.0.0.0/0"]\n    }\n  }\n}\n',
    )
    assert ("iac.aws.security-group-open-ssh", SG) not in found
    assert any("iac.aws.security-group-open-ssh" in n and "dynamic block 'ingress'" in n for n in notices)
