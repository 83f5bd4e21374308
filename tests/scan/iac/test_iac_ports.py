"""Exposed-port policies: ranges, wildcards, lists and unknown values, in every firewall form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from iac_helpers import index, run_iac

from bastion.cli.main import main
from bastion.scan.iac import portgen
from bastion.scan.iac.policy import builtin_policies

_SG = """
variable "cidr" {}
variable "cidrs" { type = list(string) }
resource "aws_security_group" "web" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [%s]
  }
}
"""


@pytest.mark.parametrize("cidrs", ["var.cidr", 'var.cidr, "10.0.0.0/8"', '"10.0.0.0/8", var.cidr'])
def test_unset_variable_inside_a_list_is_unknown_never_a_pass(tmp_path: Path, cidrs: str) -> None:
    """Issue 13 item 5: `[var.cidr]` without default used to pass silently."""
    (tmp_path / "main.tf").write_text(_SG % cidrs)
    findings, notices = run_iac(tmp_path)
    assert not any(f.rule_id == "iac.aws.security-group-open-ssh" for f in findings)
    ssh = [n.message for n in notices if "iac.aws.security-group-open-ssh" in n.message]
    assert ssh and all("var.cidr has no default" in m for m in ssh), [n.message for n in notices]


def test_known_open_element_decides_even_next_to_an_unknown_one(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(_SG % 'var.cidr, "0.0.0.0/0"')
    findings, _ = run_iac(tmp_path)
    assert any(f.rule_id == "iac.aws.security-group-open-ssh" for f in findings)


def test_unknown_cidr_is_reported_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(_SG % "var.cidr")
    out = tmp_path / "r.json"
    main(["scan", str(tmp_path), "-s", "iac", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"])
    text = out.read_text()
    assert "iac.aws.security-group-open-ssh" in text and "var.cidr has no default" in text
    assert not any(f["rule_id"] == "iac.aws.security-group-open-ssh" for f in json.loads(text)["findings"])


def _aws(ports: str, proto: str = "tcp", cidr: str = '"0.0.0.0/0"') -> str:
    low, _, high = ports.partition("-")
    return (
        f'resource "aws_security_group" "g" {{\n  ingress {{\n    from_port = {low}\n'
        f"    to_port = {high or low}\n"
        f'    protocol = "{proto}"\n    cidr_blocks = [{cidr}]\n  }}\n}}\n'
        f'resource "aws_security_group_rule" "r" {{\n  type = "ingress"\n  from_port = {low}\n'
        f'  to_port = {high or low}\n  protocol = "{proto}"\n  cidr_blocks = ["10.1.0.0/16", {cidr}]\n'
        '  security_group_id = "sg-1"\n}\n'
        f'resource "aws_vpc_security_group_ingress_rule" "v" {{\n  from_port = {low}\n'
        f"  to_port = {high or low}\n"
        f'  ip_protocol = "{proto}"\n  cidr_ipv4 = {cidr}\n  security_group_id = "sg-1"\n}}\n'
    )


def _azure(port: str, source: str) -> str:
    return (
        'resource "azurerm_network_security_group" "n" {\n  name = "n"\n  security_rule {\n'
        '    name = "a"\n    direction = "Inbound"\n    access = "Allow"\n    protocol = "Tcp"\n'
        f"    source_address_prefix = {source}\n    destination_port_range = {port}\n  }}\n}}\n"
        'resource "azurerm_network_security_rule" "r" {\n  name = "r"\n  direction = "inbound"\n'
        f'  access = "allow"\n  protocol = "*"\n  source_address_prefixes = ["10.0.0.0/8", {source}]\n'
        f'  destination_port_ranges = ["443", {port}]\n}}\n'
    )


def _gcp(allow: str, source: str = '"0.0.0.0/0"') -> str:
    return (
        f'resource "google_compute_firewall" "f" {{\n  name = "f"\n  network = "default"\n'
        f"  source_ranges = [{source}]\n  allow {{\n{allow}\n  }}\n}}\n"
    )


_AWS_IDS = {
    "iac.aws.security-group-open-ssh",
    "iac.aws.security-group-rule-open-ssh",
    "iac.aws.vpc-ingress-rule-open-ssh",
}
_AZURE_IDS = {"iac.azure.nsg-open-ssh", "iac.azure.nsg-rule-open-ssh"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_aws("22"), _AWS_IDS),
        (_aws("0-65535"), _AWS_IDS),
        (_aws("20-30"), _AWS_IDS),
        (_aws("0", proto="-1"), _AWS_IDS),
        (_aws("0", proto="all"), _AWS_IDS),
        (_aws("22", cidr='"::/0"'), _AWS_IDS),
        (_aws("80-443"), set()),
        (_aws("22", cidr='"10.0.0.0/8"'), set()),
        (_azure('"22"', '"*"'), _AZURE_IDS),
        (_azure('"0-65535"', '"Internet"'), _AZURE_IDS),
        (_azure('"20-30"', '"any"'), _AZURE_IDS),
        (_azure('"*"', '"0.0.0.0/0"'), _AZURE_IDS),
        (_azure('"80-90"', '"*"'), set()),
        (_azure('"22"', '"VirtualNetwork"'), set()),
        (_gcp('    protocol = "tcp"\n    ports = ["22"]'), {"iac.gcp.firewall-open-ssh"}),
        (_gcp('    protocol = "tcp"\n    ports = ["80", "20-30"]'), {"iac.gcp.firewall-open-ssh"}),
        (_gcp('    protocol = "tcp"'), {"iac.gcp.firewall-open-ssh"}),
        (_gcp('    protocol = "all"'), {"iac.gcp.firewall-open-ssh"}),
        (_gcp('    protocol = "icmp"'), set()),
        (_gcp('    protocol = "tcp"\n    ports = ["80", "443"]'), set()),
        (_gcp('    protocol = "tcp"\n    ports = ["22"]', '"10.0.0.0/8"'), set()),
    ],
)
def test_ranges_wildcards_and_lists_in_every_terraform_form(
    tmp_path: Path, text: str, expected: set[str]
) -> None:
    (tmp_path / "main.tf").write_text(text)
    findings, _ = run_iac(tmp_path)
    found = {rule for rule, _, _ in index(findings) if rule.endswith("-open-ssh")}
    assert found == expected


def test_cloudformation_and_arm_ranges(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: g\n"
        "      SecurityGroupIngress:\n        - {IpProtocol: '-1', CidrIp: 0.0.0.0/0, Description: all}\n"
        "  I:\n    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n"
        "      {IpProtocol: tcp, FromPort: 0, ToPort: 65535, CidrIpv6: '::/0', GroupId: sg-1}\n"
    )
    rules = [
        {
            "name": "a",
            "properties": {
                "direction": "Inbound",
                "access": "Allow",
                "protocol": "Tcp",
                "sourceAddressPrefix": "Internet",
                "destinationPortRanges": ["20-25"],
            },
        }
    ]
    (tmp_path / "arm.json").write_text(
        json.dumps(
            {
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "resources": [
                    {
                        "type": "Microsoft.Network/networkSecurityGroups",
                        "name": "n",
                        "apiVersion": "2020-01-01",
                        "properties": {"securityRules": rules},
                    }
                ],
            }
        )
    )
    findings, _ = run_iac(tmp_path)
    found = {rule for rule, _, _ in index(findings) if rule.endswith("-open-ssh")}
    assert found == {
        "iac.cfn.security-group-open-ssh",
        "iac.cfn.security-group-ingress-open-ssh",
        "iac.arm.nsg-open-ssh",
    }


def test_ports_file_is_what_the_generator_writes() -> None:
    assert portgen.TARGET.read_text(encoding="utf-8") == portgen.render()
    ids = {p.id for p in builtin_policies()}
    for port in portgen.PORTS:
        assert f"iac.gcp.firewall-open-{port.name}" in ids and f"iac.arm.nsg-open-{port.name}" in ids
    ssh = next(p for p in builtin_policies() if p.id == "iac.aws.security-group-open-ssh")
    assert ssh.checkov == ("CKV_AWS_24",) and ssh.title.endswith("opens port 22 (ssh) to the internet")


def test_checkov_skip_comments_are_honoured_with_their_reason(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_security_group" "bastion_host" {\n'
        "  #checkov:skip=CKV_AWS_24:jump host, reachable by design\n"
        '  ingress {\n    from_port = 22\n    to_port = 22\n    protocol = "tcp"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
        'resource "aws_security_group" "other" {\n'
        "  #checkov:skip=CKV_AWS_25:not this check\n"
        '  ingress {\n    from_port = 22\n    to_port = 22\n    protocol = "tcp"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
    )
    out = tmp_path / "r.json"
    main(["scan", str(tmp_path), "-s", "iac", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"])
    report = json.loads(out.read_text())
    suppressed = {
        (s["finding"]["rule_id"], s["finding"]["metadata"]["resource"]): s["reason"]
        for s in report["suppressed"]
    }
    key = ("iac.aws.security-group-open-ssh", "aws_security_group.bastion_host")
    assert suppressed[key] == "jump host, reachable by design"
    reported = {(f["rule_id"], f["metadata"]["resource"]) for f in report["findings"]}
    assert ("iac.aws.security-group-open-ssh", "aws_security_group.other") in reported
    assert key not in reported


def test_tfsec_and_trivy_ignore_comments_are_honoured(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_security_group_rule" "ssh" {\n'
        '  type = "ingress"\n  from_port = 22\n  to_port = 22\n  protocol = "tcp"\n'
        '  cidr_blocks = ["0.0.0.0/0"] #tfsec:ignore:aws-ec2-no-public-ingress-sgr\n'
        '  security_group_id = "sg-1"\n}\n'
        "#trivy:ignore:google-compute-no-public-ingress\n"
        'resource "google_compute_firewall" "f" {\n  name = "f"\n  network = "n"\n'
        '  source_ranges = ["0.0.0.0/0"]\n  allow {\n    protocol = "tcp"\n    ports = ["22"]\n  }\n}\n'
    )
    out = tmp_path / "r.json"
    main(["scan", str(tmp_path), "-s", "iac", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"])
    report = json.loads(out.read_text())
    suppressed = {s["finding"]["rule_id"]: s["reason"] for s in report["suppressed"]}
    assert suppressed["iac.aws.security-group-rule-open-ssh"] == "tfsec:ignore"
    assert suppressed["iac.gcp.firewall-open-ssh"] == "trivy:ignore"
    assert not [f for f in report["findings"] if f["rule_id"].endswith("-open-ssh")]


def test_all_ports_policies_see_ranges_wildcards_and_protocols(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        _aws("0-65535")
        + _azure('"*"', '"Internet"')
        + _gcp('    protocol = "all"')
        + 'resource "aws_security_group" "web" {\n  ingress {\n    from_port = 443\n    to_port = 443\n'
        '    protocol = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
    )
    findings, _ = run_iac(tmp_path)
    found = {(rule, resource) for rule, _, resource in index(findings) if "all-ports" in rule}
    assert found == {
        ("iac.aws.security-group-all-ports-open", "aws_security_group.g"),
        ("iac.aws.security-group-rule-open-all-ports", "aws_security_group_rule.r"),
        ("iac.aws.vpc-ingress-rule-open-all-ports", "aws_vpc_security_group_ingress_rule.v"),
        ("iac.azure.nsg-open-all-ports", "azurerm_network_security_group.n"),
        ("iac.azure.nsg-rule-open-all-ports", "azurerm_network_security_rule.r"),  # ["443", "*"]
        ("iac.gcp.firewall-open-all-ports", "google_compute_firewall.f"),
    }


def test_strict_fails_when_a_check_ended_unknown(tmp_path: Path) -> None:
    """Issue 13 item 5: the unchecked file is a skip record, so --strict exits 1 and an upload does
    not mark that file's findings fixed."""
    (tmp_path / "main.tf").write_text(_SG % "var.cidr")
    out = tmp_path / "r.json"
    code = main(
        [
            "scan",
            str(tmp_path),
            "-s",
            "iac",
            "-f",
            "json",
            "-o",
            str(out),
            "-q",
            "--fail-on",
            "none",
            "--strict",
        ]
    )
    assert code == 1
    assert "skipped iac main.tf" in out.read_text() or "iac main.tf" in out.read_text()
    (tmp_path / "main.tf").write_text(_SG % '"10.0.0.0/8"')
    assert (
        main(["scan", str(tmp_path), "-s", "iac", "-q", "--fail-on", "none", "--strict", "-o", str(out)]) == 0
    )
