"""Write ``policies/ports.yml`` from one table of ports and one template per firewall form.

Every exposed-port policy (AWS security groups and their rules, CloudFormation, Azure NSGs and
rules, ARM, GCP firewalls) is the same question asked of a different schema: does an inbound
allow rule from anywhere cover this port? Ranges (``"20-30"``, ``"0-65535"``), wildcards
(``"*"``, protocol ``-1``/``all``) and lists of either are read by the ``covers_port`` and
``intersects`` operators, so each form is written once here instead of by hand per port.

Run ``python -m bastion.scan.iac.portgen`` after editing the table; a test checks the committed
file is what this module writes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.atomic import write_text

__all__ = ["PORTS", "Port", "policies", "render"]

TARGET = Path(__file__).with_name("policies") / "ports.yml"


@dataclass(frozen=True)
class Port:
    """One port that must not be reachable from the whole internet."""

    name: str
    number: int
    severity: str
    checkov: dict[str, str]
    """Form key (``aws``, ``azure``, ``gcp``) -> checkov's id for the same check, where it has one."""


PORTS: tuple[Port, ...] = (
    Port("ssh", 22, "high", {"aws": "CKV_AWS_24", "azure": "CKV_AZURE_10", "gcp": "CKV_GCP_2"}),
    Port("rdp", 3389, "high", {"aws": "CKV_AWS_25", "azure": "CKV_AZURE_9", "gcp": "CKV_GCP_3"}),
    Port("telnet", 23, "high", {}),
    Port("ftp", 21, "high", {}),
    Port("smb", 445, "high", {}),
    Port("vnc", 5900, "high", {}),
    Port("docker-api", 2375, "critical", {}),
    Port("kubelet", 10250, "high", {}),
    Port("mysql", 3306, "high", {}),
    Port("postgres", 5432, "high", {}),
    Port("mssql", 1433, "high", {}),
    Port("oracle", 1521, "high", {}),
    Port("mongodb", 27017, "high", {}),
    Port("redis", 6379, "high", {}),
    Port("elasticsearch", 9200, "high", {}),
    Port("memcached", 11211, "high", {}),
    Port("http", 80, "low", {"aws": "CKV_AWS_260", "azure": "CKV_AZURE_160", "gcp": "CKV_GCP_106"}),
    Port("all-ports", -1, "critical", {"aws": "CKV_AWS_277"}),
)
ALL_PORTS = -1
"""The port number standing for every port (0-65535, ``*``, protocol -1/all)."""
KEPT_IDS = {
    "iac.aws.security-group-open-all-ports": "iac.aws.security-group-all-ports-open",
    "iac.cfn.security-group-open-all-ports": "iac.cfn.security-group-all-open",
}
"""Ids the all-ports policies had before they were generated (kept for baselines and suppressions)."""

INTERNET = ["0.0.0.0/0", "::/0"]
"""CIDRs that mean every address."""
# bastion: ignore[sast.bandit.B104] source prefixes the policies look for; nothing binds to them
AZURE_ANY = ["*", "0.0.0.0/0", "0.0.0.0", "Internet", "Any", "::/0"]
"""Azure source prefixes that mean every address (service tag ``Internet`` included)."""
ALL_PROTOCOLS = ["-1", "all", "*"]
TFSEC = {
    "aws": "aws-ec2-no-public-ingress-sgr",
    "azure": "azure-network-no-public-ingress",
    "gcp": "google-compute-no-public-ingress",
}
"""tfsec/trivy's id for "ingress from the internet" per form (one check for every port there)."""
KICS = {
    # "Security Group With Unrestricted Access To SSH" (assets/queries/terraform/aws/
    # security_group_with_unrestricted_access_to_ssh/metadata.json in Checkmarx/kics)
    "iac.aws.security-group-open-ssh": "65905cec-d691-4320-b320-2000436cb696",
    # the rest from KICS's query list (docs/queries/terraform-queries.md; bench/iac/kics_ids.py)
    "iac.aws.security-group-open-rdp": "151187cb-0efc-481c-babd-ad24e3c9bc22",
    "iac.aws.security-group-open-http": "ffac8a12-322e-42c1-b9b9-81ff85c39ef7",
    "iac.azure.nsg-rule-open-rdp": "efbf6449-5ec5-4cfe-8f15-acc51e0d787c",
    "iac.azure.nsg-rule-open-ssh": "3e3c175e-aadf-4e2b-a464-3fdac5748d24",
    "iac.gcp.firewall-open-rdp": "678fd659-96f2-454a-a2a0-c2571f83a4a3",
    "iac.gcp.firewall-open-ssh": "c4dcdcdf-10dd-4bf4-b4a0-8f6239e6aaa0",
    "iac.cfn.security-group-open-ssh": "6e856af2-62d7-4ba2-adc1-73b62cef9cc1",
    "iac.cfn.security-group-open-rdp": "3ae83918-7ec7-4cb8-80db-b91ef0f94002",
    "iac.cfn.security-group-all-open": "adcd0082-e90b-4b63-862b-21899f6e6a48",
    "iac.arm.nsg-open-ssh": "2ade1579-4b2c-4590-bebb-f99bf597f612",
    "iac.arm.nsg-open-rdp": "59cb3da7-f206-4ae6-b827-7abf0a9cab9d",
}
"""KICS query ids by policy id: KICS has one query per platform and port, so they are listed one by
one, only where the query's metadata and Rego were read and check the same thing."""


def _span(port: int) -> tuple[int, int]:
    """The ports a rule must reach: one port, or every port (``ALL_PORTS``)."""
    return (1, 65535) if port == ALL_PORTS else (port, port)


def _covers(attr: str, port: int) -> dict[str, Any]:
    low, high = _span(port)
    if low == high:
        return {"attr": attr, "covers_port": low}
    return {"all": [{"attr": attr, "covers_port": low}, {"attr": attr, "covers_port": high}]}


def _aws(port: int, from_: str, to: str, proto: str, cidrs: list[tuple[str, list[str]]]) -> dict[str, Any]:
    """An AWS-style rule (from/to port, protocol -1 for every port) open to the internet."""
    low, high = _span(port)
    return {
        "all": [
            {
                "any": [
                    {"all": [{"attr": from_, "lte": low}, {"attr": to, "gte": high}]},
                    {"attr": proto, "in": [*ALL_PROTOCOLS, -1], "ignore_case": True},
                ]
            },
            {"any": [{"attr": attr, "intersects": values} for attr, values in cidrs]},
        ]
    }


def _azure(port: int, prefix: str = "") -> dict[str, Any]:
    """An Azure NSG rule (``prefix`` is ``properties.`` and camelCase names for ARM)."""

    def name(snake: str, camel: str) -> str:
        return f"{prefix}{camel}" if prefix else snake

    return {
        "all": [
            {"attr": name("direction", "direction"), "equals": "Inbound", "ignore_case": True},
            {"attr": name("access", "access"), "equals": "Allow", "ignore_case": True},
            {
                "any": [
                    {
                        "attr": name("source_address_prefix", "sourceAddressPrefix"),
                        "intersects": AZURE_ANY,
                        "ignore_case": True,
                    },
                    {
                        "attr": name("source_address_prefixes", "sourceAddressPrefixes"),
                        "intersects": AZURE_ANY,
                        "ignore_case": True,
                    },
                ]
            },
            {
                "any": [
                    _covers(name("destination_port_range", "destinationPortRange"), port),
                    _covers(name("destination_port_ranges", "destinationPortRanges"), port),
                ]
            },
        ]
    }


def _gcp(port: int) -> dict[str, Any]:
    """A GCP firewall open to the internet whose ``allow`` blocks reach the port (no ports = all)."""
    return {
        "all": [
            {"attr": "source_ranges", "intersects": INTERNET},
            {
                "attr": "allow",
                "any": {
                    "any": [
                        {"attr": "protocol", "in": ["all"], "ignore_case": True},
                        _covers("ports", port),
                        {
                            "all": [
                                {
                                    "attr": "protocol",
                                    "in": ["tcp", "udp", "sctp", "6", "17", "132"],
                                    "ignore_case": True,
                                },
                                {"attr": "ports", "exists": False},
                            ]
                        },
                    ]
                },
            },
        ]
    }


def _gcp_examples(port: int) -> dict[str, list[Any]]:
    """Written examples for the GCP form (its ``any`` over allow blocks cannot be derived)."""
    world = ["0.0.0.0/0"]
    if port == ALL_PORTS:
        return {
            "pass": [
                {"source_ranges": world, "allow": [{"protocol": "tcp", "ports": ["22", "443"]}]},
                {"source_ranges": ["10.0.0.0/8"], "allow": [{"protocol": "all"}]},
            ],
            "fail": [
                {"source_ranges": world, "allow": [{"protocol": "tcp", "ports": ["0-65535"]}]},
                {"source_ranges": world, "allow": [{"protocol": "all"}]},
                {"source_ranges": ["::/0"], "allow": [{"protocol": "udp"}]},
            ],
        }
    return {
        "pass": [
            {"source_ranges": world, "allow": [{"protocol": "tcp", "ports": [str(port + 1)]}]},
            {"source_ranges": ["10.0.0.0/8"], "allow": [{"protocol": "all"}]},
            {"source_ranges": world, "allow": [{"protocol": "icmp"}]},
        ],
        "fail": [
            {
                "source_ranges": world,
                "allow": [{"protocol": "tcp", "ports": ["443", f"{port - 1}-{port + 1}"]}],
            },
            {"source_ranges": ["::/0"], "allow": [{"protocol": "tcp"}]},
            {"source_ranges": world, "allow": [{"protocol": "icmp"}, {"protocol": "ALL"}]},
        ],
    }


def _azure_examples(pid: str) -> dict[str, list[Any]]:
    """Written examples for the all-ports Azure forms (two port tests on one attribute)."""

    def rule(ports: dict[str, Any]) -> dict[str, Any]:
        body = {"direction": "Inbound", "access": "Allow", "source_address_prefix": "*", **ports}
        if ".arm." in pid:
            camel = {
                "source_address_prefix": "sourceAddressPrefix",
                "destination_port_range": "destinationPortRange",
                "destination_port_ranges": "destinationPortRanges",
            }
            return {"properties": {camel.get(k, k): v for k, v in body.items()}}
        return body

    def wrap(ports: dict[str, Any]) -> dict[str, Any]:
        if ".arm." in pid:
            return {"properties": {"securityRules": [rule(ports)]}}
        return {"security_rule": [rule(ports)]} if "nsg-open" in pid else rule(ports)

    return {
        "pass": [wrap({"destination_port_range": "443"}), wrap({"destination_port_ranges": ["22", "443"]})],
        "fail": [wrap({"destination_port_range": "*"}), wrap({"destination_port_ranges": ["0-65535"]})],
    }


def _policy(
    pid: str, title: str, port: Port, resource: str, check: dict[str, Any], fix: str, form: str
) -> dict[str, Any]:
    what = "all ports" if port.number == ALL_PORTS else f"port {port.number} ({port.name})"
    policy: dict[str, Any] = {
        "id": KEPT_IDS.get(pid, pid),
        "title": f"{title} opens {what} to the internet",
        "severity": port.severity,
        "resource": resource,
        "check": check,
        "fix": fix,
        "cwe": [284],
    }
    if form in port.checkov:
        policy["checkov"] = [port.checkov[form]]
    if form in TFSEC:
        policy["tfsec"] = [TFSEC[form]]
    if policy["id"] in KICS:
        policy["kics"] = [KICS[policy["id"]]]
    return policy


def policies() -> list[dict[str, Any]]:
    """Every exposed-port policy, in the order they are written."""
    out: list[dict[str, Any]] = []
    aws_cidrs = [("cidr_blocks", INTERNET), ("ipv6_cidr_blocks", INTERNET)]
    cfn_cidrs = [("CidrIp", INTERNET), ("CidrIpv6", INTERNET)]
    for port in PORTS:
        n, name = port.number, port.name
        ports = "only the ports the service needs" if n == ALL_PORTS else f"port {n}"
        fix = (
            f"Allow {ports} only from the networks that need it (VPN, bastion, peered VPC), never 0.0.0.0/0."
        )
        azure_fix = f"Allow {ports} only from named networks or a bastion service, never from Internet or *."
        inline = _aws(n, "from_port", "to_port", "protocol", aws_cidrs)
        cfn = _aws(n, "FromPort", "ToPort", "IpProtocol", cfn_cidrs)
        vpc_rule = _aws(
            n, "from_port", "to_port", "ip_protocol", [("cidr_ipv4", INTERNET), ("cidr_ipv6", INTERNET)]
        )
        rule = _policy(
            f"iac.aws.security-group-rule-open-{name}",
            "Security group rule",
            port,
            "aws_security_group_rule",
            {"not": inline},
            fix,
            "aws",
        )
        rule = {**rule, "when": {"attr": "type", "equals": "ingress"}}
        out += [
            _policy(
                f"iac.aws.security-group-open-{name}",
                "Security group",
                port,
                "aws_security_group",
                {"attr": "ingress", "all": {"not": inline}},
                fix,
                "aws",
            ),
            rule,
            _policy(
                f"iac.aws.vpc-ingress-rule-open-{name}",
                "VPC ingress rule",
                port,
                "aws_vpc_security_group_ingress_rule",
                {"not": vpc_rule},
                fix,
                "aws",
            ),
            _policy(
                f"iac.cfn.security-group-open-{name}",
                "CloudFormation security group",
                port,
                "AWS::EC2::SecurityGroup",
                {"attr": "SecurityGroupIngress", "all": {"not": cfn}},
                fix,
                "aws",
            ),
            _policy(
                f"iac.cfn.security-group-ingress-open-{name}",
                "CloudFormation ingress rule",
                port,
                "AWS::EC2::SecurityGroupIngress",
                {"not": cfn},
                fix,
                "aws",
            ),
            _policy(
                f"iac.azure.nsg-open-{name}",
                "Network security group",
                port,
                "azurerm_network_security_group",
                {"attr": "security_rule", "all": {"not": _azure(n)}},
                azure_fix,
                "azure",
            ),
            _policy(
                f"iac.azure.nsg-rule-open-{name}",
                "Network security rule",
                port,
                "azurerm_network_security_rule",
                {"not": _azure(n)},
                azure_fix,
                "azure",
            ),
            _policy(
                f"iac.arm.nsg-open-{name}",
                "ARM network security group",
                port,
                "Microsoft.Network/networkSecurityGroups",
                {"attr": "properties.securityRules", "all": {"not": _azure(n, "properties.")}},
                azure_fix,
                "azure",
            ),
            {
                **_policy(
                    f"iac.gcp.firewall-open-{name}",
                    "Firewall rule",
                    port,
                    "google_compute_firewall",
                    {"not": _gcp(n)},
                    f"Allow {ports} only from named source_ranges or use IAP TCP forwarding.",
                    "gcp",
                ),
                "when": {"attr": "direction", "not_equals": "EGRESS", "ignore_case": True},
                "examples": _gcp_examples(n),
            },
        ]
        if n == ALL_PORTS:
            for policy in out[-4:-1]:  # the Azure, Azure rule and ARM forms: two ports on one attribute
                policy["examples"] = _azure_examples(policy["id"])
    return out


def render() -> str:
    """The text of ``ports.yml``: a header and one policy per line (JSON is YAML)."""
    lines = [
        "# Generated by `python -m bastion.scan.iac.portgen` from its port table: do not edit by hand.",
        "# Ports that must not be reachable from the whole internet, one policy per port and firewall form.",
        "policies:",
    ]
    lines += [f"  - {json.dumps(policy)}" for policy in policies()]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Write the file; ``--check`` only compares it and exits 1 when it is out of date."""
    text = render()
    if "--check" in sys.argv[1:]:
        return 0 if TARGET.read_text(encoding="utf-8") == text else 1
    write_text(TARGET, text, what="policy file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
