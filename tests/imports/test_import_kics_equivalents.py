"""A KICS JSON report imported through ``bastion import``: a query a Bastion policy lists among its
``kics:`` ids takes that policy's controls, CWE and id (``metadata["equivalent_ids"]``), as checkov and
tfsec results do; KICS's own severity stays. The report is written here in KICS's ``--report-formats
json`` shape (``queries``, each with its ``files``), with values made up for the test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bastion.cli.main import main
from bastion.comply.mapping import controls_for
from bastion.scan.iac.policy import builtin_policies

VERSIONING = "568a4d22-3517-44a6-a7ad-6a7eed88722c"
PUBLIC_ACLS = "d0cc8694-fcad-43ff-ac86-32331d7e867f"
RDS_ENCRYPTED = "08bd0760-8752-44e1-9779-7bb369b2b4e4"
UNMAPPED = "e38a8e0a-b88b-4902-b3fe-b0fcb17d5c10"  # "Resource Not Using Tags": no Bastion policy


def _query(query_id: str, name: str, severity: str, cwe: str, place: dict[str, Any]) -> dict[str, Any]:
    return {
        "query_name": name,
        "query_id": query_id,
        "query_url": "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket",
        "severity": severity,
        "platform": "Terraform",
        "cwe": cwe,
        "cloud_provider": "AWS",
        "category": "Insecure Configurations",
        "experimental": False,
        "description": f"{name} (test)",
        "description_id": query_id[:8],
        "files": [place],
    }


def _place(line: int, key: str, issue: str) -> dict[str, Any]:
    return {
        "file_name": "infra/s3.tf",
        "similarity_id": f"{line:064x}",
        "line": line,
        "resource_type": "aws_s3_bucket",
        "resource_name": "logs",
        "issue_type": issue,
        "search_key": key,
        "search_line": line,
        "search_value": "",
        "expected_value": f"{key} should be set",
        "actual_value": f"{key} is not set",
    }


def _report(tmp_path: Path) -> Path:
    queries = [
        _query(
            VERSIONING,
            "S3 Bucket Without Versioning",
            "MEDIUM",
            "",
            _place(3, "aws_s3_bucket[logs].versioning", "MissingAttribute"),
        ),
        _query(
            PUBLIC_ACLS,
            "S3 Bucket Allows Public ACL",
            "MEDIUM",
            "284",
            _place(12, "aws_s3_bucket_public_access_block[logs].block_public_acls", "IncorrectValue"),
        ),
        _query(
            RDS_ENCRYPTED,
            "DB Instance Storage Not Encrypted",
            "HIGH",
            "",
            _place(30, "aws_db_instance[main].storage_encrypted", "MissingAttribute"),
        ),
        _query(
            UNMAPPED,
            "Resource Not Using Tags",
            "INFO",
            "",
            _place(3, "aws_s3_bucket[logs].tags", "MissingAttribute"),
        ),
    ]
    counters = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 0, "INFO": 1, "TRACE": 0}
    document = {
        "kics_version": "v2.1.3",
        "files_scanned": 1,
        "lines_scanned": 20,
        "files_parsed": 1,
        "lines_parsed": 20,
        "lines_ignored": 0,
        "files_failed_to_scan": 0,
        "queries_total": 4,
        "queries_failed_to_execute": 0,
        "queries_failed_to_compute_similarity_id": 0,
        "scan_id": "console",
        "severity_counters": counters,
        "total_counter": 4,
        "total_bom_resources": 0,
        "start": "2026-12-07T10:00:00Z",
        "end": "2026-12-07T10:00:05Z",
        "paths": ["infra"],
        "queries": queries,
    }
    path = tmp_path / "kics-results.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def test_mapped_queries_take_the_policy_controls_and_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(_report(tmp_path)), "--tool", "kics"]) == 0
    findings = {f["rule_id"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    policies = {p.id: p for p in builtin_policies()}

    versioning = findings[f"kics.{VERSIONING}"]
    assert versioning["metadata"]["equivalent_ids"] == ["iac.aws.s3-bucket-versioning"]
    assert versioning["controls"] == list(controls_for("iac.aws.s3-bucket-versioning"))
    assert versioning["controls"] and versioning["severity"] == "medium"  # KICS's rating kept

    acls = findings[f"kics.{PUBLIC_ACLS}"]
    assert acls["metadata"]["equivalent_ids"] == ["iac.aws.s3-public-access-block-settings"]
    assert acls["cwe"] == [284]  # the report's own CWE wins over the policy's
    assert PUBLIC_ACLS in policies["iac.aws.s3-public-access-block-settings"].kics

    tags = findings[f"kics.{UNMAPPED}"]
    assert "equivalent_ids" not in tags["metadata"]
    assert not any(UNMAPPED in p.kics for p in policies.values())


def test_a_query_without_cwe_takes_the_policy_cwe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(_report(tmp_path)), "--tool", "kics"]) == 0
    findings = {f["rule_id"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    rds = findings[f"kics.{RDS_ENCRYPTED}"]
    assert rds["metadata"]["equivalent_ids"] == ["iac.aws.rds-encrypted"]
    assert rds["cwe"] == [311] and rds["severity"] == "high"
