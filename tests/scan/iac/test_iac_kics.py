"""KICS query ids on the policies: listed as equivalents in the rule catalog and on each finding, so
``--check``/``--skip-check`` and migration tables accept a KICS id as they accept a checkov id. Only
ids read from KICS's own query list and metadata are listed (the source of each is recorded in
bench/iac/kics_ids.py and bench/iac/RESULTS.md)."""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path

from iac_helpers import run_iac

from bastion.ci.checks import resolve_selection
from bastion.scan.iac.policy import builtin_policies
from bastion.scan.iac.scanner import IacScanner

SSH = "65905cec-d691-4320-b320-2000436cb696"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_kics_ids_are_uuids_and_each_names_one_policy() -> None:
    owners: dict[str, str] = {}
    for policy in builtin_policies():
        for kics in policy.kics:
            assert UUID.match(kics), (policy.id, kics)
            assert owners.setdefault(kics, policy.id) == policy.id, kics
    assert owners[SSH] == "iac.aws.security-group-open-ssh"
    assert owners["35113e6f-2c6b-414d-beec-7a9482d3b2d1"] == "iac.aws.rds-public"
    assert owners["5572cc5e-1e4c-4113-92a6-7a8a3bd25e6d"] == "iac.k8s.privilege-escalation"
    assert owners["302736f4-b16c-41b8-befe-c0baffa0bd9d"] == "iac.k8s.host-pid"
    assert owners["d0cc8694-fcad-43ff-ac86-32331d7e867f"] == "iac.aws.s3-public-access-block-settings"
    assert owners["12944ec4-1fa0-47be-8b17-42a034f937c2"] == "iac.azure.storage-https-only"
    assert owners["c4dcdcdf-10dd-4bf4-b4a0-8f6239e6aaa0"] == "iac.gcp.firewall-open-ssh"
    assert owners["6e856af2-62d7-4ba2-adc1-73b62cef9cc1"] == "iac.cfn.security-group-open-ssh"
    assert owners["fd54f200-402c-4333-a5a4-36ef6709af2f"] == "iac.docker.user-root"
    assert len(owners) >= 270


def test_policies_with_kics_ids_per_platform() -> None:
    mapped = Counter(p.id.split(".")[1] for p in builtin_policies() if p.kics)
    assert sum(mapped.values()) >= 250
    assert mapped["aws"] >= 90 and mapped["azure"] >= 40 and mapped["gcp"] >= 25 and mapped["ali"] >= 10
    assert mapped["cfn"] >= 25 and mapped["k8s"] >= 25 and mapped["arm"] >= 5 and mapped["docker"] >= 10


def test_rule_catalog_lists_kics_ids() -> None:
    rule = next(r for r in IacScanner().rules() if r.id == "iac.aws.security-group-open-ssh")
    assert rule.equivalent_ids["kics"] == SSH
    assert rule.equivalent_ids["checkov"] == "CKV_AWS_24"


def test_check_and_skip_check_accept_a_kics_id() -> None:
    rules = IacScanner().rules()
    selection = resolve_selection([SSH], [SSH.upper()], None, rules)
    assert "iac.aws.security-group-open-ssh" in selection.checks
    assert "iac.aws.security-group-open-ssh" in selection.skips


def test_findings_carry_the_kics_id(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_security_group" "web" {\n  description = "web"\n'
        '  ingress {\n    from_port = 22\n    to_port = 22\n    protocol = "tcp"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n    description = "ssh"\n  }\n}\n'
    )
    findings, _ = run_iac(tmp_path)
    ssh = next(f for f in findings if f.rule_id == "iac.aws.security-group-open-ssh")
    assert ssh.metadata["equivalent_ids"] == ["CKV_AWS_24", "aws-ec2-no-public-ingress-sgr", SSH]


def test_every_kics_id_is_recorded_with_what_was_read() -> None:
    """The policy files hold exactly the ids bench/iac/kics_ids.py records (each with the KICS query
    name and the file read), and no policy left unmapped there for a stated reason carries one."""
    script = Path(__file__).resolve().parents[3] / "bench" / "iac" / "kics_ids.py"
    spec = importlib.util.spec_from_file_location("kics_ids", script)
    assert spec is not None and spec.loader is not None
    record = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(record)
    recorded = record.mapping()
    held = {p.id: list(p.kics) for p in builtin_policies() if p.kics}
    assert held == recorded
    unmapped = {pid for pid, _query, _why in record.NOT_MAPPED}
    assert not unmapped & set(held)
