"""Never leak: no secret appears in full in any finding field or any report format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bastion.findings import Severity
from bastion.gate import evaluate
from bastion.report import ReportFormat, render
from bastion.scan.engine import EngineOptions, run_scan
from bastion.scan.registry import Registration
from bastion.scan.secrets.detect import Detector
from bastion.scan.secrets.redact import redact

SECRETS = Registration("secrets", "bastion.scan.secrets:SecretsScanner")
CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "secrets" / "corpus"


@pytest.mark.parametrize(
    ("secret", "evidence"),
    [
        ("ghp_" + "a" * 36, "ghp_\u2026(40 chars)"),
        ("Hq8#vLz2Pw9!mKt4", "Hq8#\u2026(16 chars)"),
        ("hunter22", "hu\u2026(8 chars)"),
        ("abc", "\u2026(3 chars)"),
    ],
)
def test_redact_shows_a_short_prefix_and_the_length(secret: str, evidence: str) -> None:
    assert redact(secret) == evidence


def _planted(detector: Detector, root: Path) -> list[str]:
    secrets: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        secrets.extend(hit.secret for hit in detector.detect(path.read_text(encoding="utf-8"), path.name))
    return secrets


def test_hits_repr_is_redacted(detector: Detector) -> None:
    (hit,) = detector.detect('STRIPE = "sk_live_' + "Zq9" * 10 + '"', "a.py")
    assert "Zq9Zq9" not in repr(hit)


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_no_report_format_contains_a_secret(tmp_path: Path, detector: Detector, fmt: ReportFormat) -> None:
    root = tmp_path / "repo"
    shutil.copytree(CORPUS, root)
    planted = _planted(detector, root)
    # Dev defaults such as "postgres" are words that also occur in rule ids and titles.
    secrets = [s for s in planted if len(s) >= 10]
    assert len(secrets) >= 12
    scan = run_scan(root, [SECRETS], EngineOptions(jobs=1))
    assert not scan.failures
    assert len(scan.findings) == len(planted)
    for finding in scan.findings:
        text = json.dumps(finding.to_dict())
        assert all(secret not in text for secret in secrets), finding.rule_id
    output = render(evaluate(scan, Severity.LOW), fmt)
    for secret in secrets:
        assert secret not in output
        assert secret[4:] not in output
