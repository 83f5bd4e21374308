"""Policies taken from checkov's catalogue run through the whole scan like any other: they fail the
resources checkov fails, pass the fixed ones, and a team's ``#checkov:skip`` comments silence them."""

from __future__ import annotations

import json
from pathlib import Path

from bastion.cli.main import main
from bastion.scan.iac.policy import Policy, builtin_policies

CATALOGUE_FILES = {"aws-services.yml", "azure-services.yml", "gcp-services.yml", "other-clouds.yml"}


def _twin(checkov_id: str) -> Policy:
    return next(p for p in builtin_policies() if checkov_id in p.checkov)


def _scan(root: Path) -> dict[str, object]:
    out = root.parent / "report.json"
    assert (
        main(["scan", str(root), "-s", "iac", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"]) == 0
    )
    report: dict[str, object] = json.loads(out.read_text())
    return report


def test_catalogue_policies_fail_and_pass_real_terraform_and_honour_checkov_skips(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "main.tf").write_text(
        'resource "aws_dms_replication_instance" "open" {\n'
        '  replication_instance_id = "open"\n  publicly_accessible = true\n}\n'
        'resource "aws_dms_replication_instance" "private" {\n'
        '  replication_instance_id = "private"\n  publicly_accessible = false\n}\n'
        'resource "aws_dms_replication_instance" "accepted" {\n'
        "  #checkov:skip=CKV_AWS_89:migration window, closed after cut-over\n"
        '  replication_instance_id = "accepted"\n  publicly_accessible = true\n}\n'
        'resource "alicloud_ram_account_password_policy" "weak" {\n  require_symbols = false\n}\n'
    )
    report = _scan(root)
    dms, ali = _twin("CKV_AWS_89"), _twin("CKV_ALI_15")
    findings = report["findings"]
    assert isinstance(findings, list)
    found = {(f["rule_id"], f["metadata"]["resource"]) for f in findings}
    assert (dms.id, "aws_dms_replication_instance.open") in found
    assert (dms.id, "aws_dms_replication_instance.private") not in found
    assert (ali.id, "alicloud_ram_account_password_policy.weak") in found
    suppressed = report["suppressed"]
    assert isinstance(suppressed, list)
    reasons = {
        (s["finding"]["rule_id"], s["finding"]["metadata"]["resource"]): s["reason"] for s in suppressed
    }
    assert (
        reasons[(dms.id, "aws_dms_replication_instance.accepted")]
        == "migration window, closed after cut-over"
    )
    finding = next(f for f in findings if f["rule_id"] == dms.id)
    assert finding["title"] == "DMS replication instance is publicly accessible"  # says what is wrong
    assert finding["cwe"] == [284]


def test_every_catalogue_policy_names_its_twin_and_says_what_is_wrong() -> None:
    taken = [p for p in builtin_policies() if p.origin.rsplit("/", 1)[-1] in CATALOGUE_FILES]
    assert len(taken) >= 350
    assert all(p.checkov and p.fix and not p.title.lower().startswith("ensure") for p in taken)
    assert len({p.id for p in taken}) == len(taken)
