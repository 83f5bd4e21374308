"""KICS's ``# kics-scan`` comments honoured like checkov's and tfsec's, through ``bastion scan`` on real
files: each suppressed finding is recorded with the command as its reason and counted in the summary,
and a command covers only the lines KICS's docs say it does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bastion.cli.main import main
from bastion.suppressions import find_suppressions

VERSIONING = "568a4d22-3517-44a6-a7ad-6a7eed88722c"
LOGGING = "f861041c-8c9f-4156-acfc-5e6e524f5884"
AWS_KEY = (
    "AKIA" + "ZX7QH2MRT4NDW6PB"
)  # a made-up key in the documented format, split so no scanner flags this file


def _scan(root: Path, scanners: str = "iac") -> dict[str, Any]:
    out = root.parent / f"{root.name}.json"
    main(["scan", str(root), "-s", scanners, "-f", "json", "-o", str(out), "-q", "--fail-on", "none"])
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def _kept(report: dict[str, Any], path: str) -> set[str]:
    return {f["rule_id"] for f in report["findings"] if f["location"]["path"] == path}


def _suppressed(report: dict[str, Any], path: str) -> dict[str, str]:
    return {
        s["finding"]["rule_id"]: s["reason"]
        for s in report["suppressed"]
        if s["finding"]["location"]["path"] == path
    }


def test_ignore_line_covers_the_line_beneath_only(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "db.tf").write_text(
        'resource "aws_db_instance" "db" {\n  engine = "postgres"\n  # kics-scan ignore-line\n'
        "  publicly_accessible = true\n  storage_encrypted   = false\n}\n"
    )
    report = _scan(root)
    assert _suppressed(report, "db.tf") == {"iac.aws.rds-public": "kics-scan ignore-line"}
    assert "iac.aws.rds-encrypted" in _kept(report, "db.tf")  # line 5, not beneath the comment
    assert report["summary"]["suppressed"] == 1


def test_ignore_block_covers_the_resource_beneath(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "s3.tf").write_text(
        '# kics-scan ignore-block\nresource "aws_s3_bucket" "quiet" {\n'
        '  bucket = "q-{x}"\n  tags = { a = "}" }\n}\n\n'
        'resource "aws_s3_bucket" "loud" {\n  bucket = "l"\n}\n'
    )
    report = _scan(root)
    suppressed = [s["finding"] for s in report["suppressed"]]
    assert suppressed and {f["metadata"]["resource"] for f in suppressed} == {"aws_s3_bucket.quiet"}
    assert {s["reason"] for s in report["suppressed"]} == {"kics-scan ignore-block"}
    assert {f["metadata"]["resource"] for f in report["findings"]} == {"aws_s3_bucket.loud"}
    assert report["summary"]["suppressed"] == len(suppressed)


def test_file_commands_count_only_at_the_start_of_the_file(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "disable.tf").write_text(
        f"# owned by the data team\n# kics-scan disable={VERSIONING},{LOGGING.upper()}\n"
        'resource "aws_s3_bucket" "d" {\n  bucket = "d"\n}\n# kics-scan ignore\n'
    )
    (root / "enable.tf").write_text(
        f'# kics-scan enable={VERSIONING}\nresource "aws_s3_bucket" "e" {{\n  bucket = "e"\n}}\n'
    )
    (root / "late.tf").write_text(
        f'resource "aws_s3_bucket" "l" {{\n  bucket = "l"\n}}\n# kics-scan disable={VERSIONING}\n'
    )
    report = _scan(root)
    assert set(_suppressed(report, "disable.tf")) == {
        "iac.aws.s3-bucket-versioning",
        "iac.aws.s3-bucket-logging",
    }
    assert "iac.aws.s3-bucket-encryption" in _kept(report, "disable.tf")  # the trailing `ignore` is not read
    assert _kept(report, "enable.tf") == {"iac.aws.s3-bucket-versioning"}
    assert set(_suppressed(report, "enable.tf")) >= {
        "iac.aws.s3-bucket-logging",
        "iac.aws.s3-bucket-encryption",
    }
    assert not _suppressed(report, "late.tf") and "iac.aws.s3-bucket-versioning" in _kept(report, "late.tf")


def test_ignore_file_leaves_other_scanners_findings(tmp_path: Path) -> None:
    """KICS's commands are about KICS's queries: a leaked key in an ignored file is still reported."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "main.tf").write_text(
        f'# kics-scan ignore\nprovider "aws" {{\n  region = "eu-west-1"\n  access_key = "{AWS_KEY}"\n}}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'
    )
    report = _scan(root, "iac,secrets")
    assert not [f for f in report["findings"] if f["scanner"] == "iac"]
    assert {s["finding"]["scanner"] for s in report["suppressed"]} == {"iac"}
    assert [f for f in report["findings"] if f["scanner"] == "secrets"]


def test_kubernetes_document_and_line(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  hostNetwork: true\n  containers:\n"
        "    - name: app\n      image: nginx:1.27\n"
        "      securityContext:\n{comment}        privileged: true\n"
    )
    (root / "pods.yaml").write_text(
        "---\n# kics-scan ignore-block\n"
        + pod.format(name="quiet", comment="")
        + "---\n"
        + pod.format(name="loud", comment="        # kics-scan ignore-line\n")
    )
    report = _scan(root)
    quiet = {
        s["finding"]["rule_id"]
        for s in report["suppressed"]
        if s["finding"]["metadata"]["resource"].endswith("/quiet")
    }
    assert {"iac.k8s.host-network", "iac.k8s.privileged"} <= quiet
    loud = {f["rule_id"] for f in report["findings"] if f["metadata"]["resource"].endswith("/loud")}
    assert "iac.k8s.host-network" in loud and "iac.k8s.privileged" not in loud
    assert any(
        s["finding"]["rule_id"] == "iac.k8s.privileged" and s["reason"] == "kics-scan ignore-line"
        for s in report["suppressed"]
    )


def test_dockerfile_stage_and_continued_instruction(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text(
        "# kics-scan ignore-block\nFROM ubuntu:22.04 AS build\n"
        "RUN apt-get update && apt-get install -y curl\n\n"
        "FROM alpine:3.20\n# kics-scan ignore-line\nRUN apk add \\\n    curl \\\n    wget\n"
        "ADD https://example.com/x.tar.gz /x\nUSER nobody\n"
    )
    report = _scan(root)
    lines = {s["finding"]["rule_id"]: s["finding"]["metadata"]["line"] for s in report["suppressed"]}
    assert lines.get("iac.docker.apt-no-recommends") == 3 and lines.get("iac.docker.apk-pinned") == 7
    assert "iac.docker.add-from-url" in _kept(report, "Dockerfile")  # line 10, after the RUN


def test_spans_of_each_command() -> None:
    hcl = '# kics-scan ignore-block\nresource "a" "b" {\n  x = "}"\n  y {\n  }\n}\nresource "c" "d" {}\n'
    assert [(s.span, s.reason) for s in find_suppressions(hcl)] == [((1, 6), "kics-scan ignore-block")]
    yaml = "spec:\n  # kics-scan ignore-block\n  template:\n    a: 1\n\n    b: 2\n  other: 3\n"
    assert [s.span for s in find_suppressions(yaml)] == [(2, 6)]
    trailing = "x = 1 # kics-scan ignore-line\ny = 2\n"
    assert [s.span for s in find_suppressions(trailing)] == [(1, 1)]
    assert not find_suppressions("# kics-scan disable=\nx = 1\n")  # no ids: nothing to disable
