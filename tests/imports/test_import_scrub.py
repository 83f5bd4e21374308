"""No secret of an imported report survives: not in a finding, not in the written report.

gitleaks and TruffleHog print the secrets they find in full; bandit, checkov and semgrep show the
code around a hard-coded password. The property is checked on every fixture (with the secrets
the fixtures hold) and on generated reports with random secrets of every shape.
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path
from typing import Any

import pytest
from import_samples import FIXTURES, sample_files

from bastion.cli.main import main
from bastion.imports import ImportResult, import_report

# Secrets the fixtures show in code rather than in a field named so.
CODE_SECRETS = ("Sup3rS3cret!2024", "Winter2024!orders")


def fixture_secrets() -> list[str]:
    """Every secret the fixtures hold: gitleaks' Secret fields, TruffleHog's Raw (and decoded)."""
    found = list(CODE_SECRETS)
    found += [leak["Secret"] for leak in json.loads((FIXTURES / "gitleaks/gitleaks8_many.json").read_text())]
    found += [leak["offender"] for leak in json.loads((FIXTURES / "gitleaks/data_one_v7.json").read_text())]
    for line in (FIXTURES / "trufflehog/v3_git.jsonl").read_text().splitlines():
        raw = json.loads(line)["Raw"]
        found += [raw, base64.b64decode(raw).decode()]
    return found


def everything(result: ImportResult) -> str:
    """Every text an import produced, as one string."""
    parts: list[Any] = [f.to_dict() for f in result.findings]
    parts += [{"reason": s.reason, "finding": s.finding.to_dict()} for s in result.suppressed]
    parts += [[s.component, s.reason] for s in result.skips] + [n.to_dict() for n in result.notices]
    return json.dumps(parts, ensure_ascii=False)


def fixture_files() -> list[Path]:
    return sample_files()


def test_the_fixtures_do_hold_the_secrets() -> None:
    raw = "".join(p.read_text(encoding="utf-8") for p in fixture_files())
    assert all(
        secret in raw or base64.b64encode(secret.encode()).decode() in raw for secret in fixture_secrets()
    )


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_no_fixture_secret_in_findings(path: Path) -> None:
    produced = everything(import_report(path.read_bytes(), path.name))
    leaked = [s for s in fixture_secrets() if s in produced]
    assert leaked == []


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab", "junit", "table"])
def test_no_fixture_secret_in_written_reports(tmp_path: Path, fmt: str) -> None:
    for path in fixture_files():
        out = tmp_path / f"{path.stem}.{fmt}"
        assert main(["import", str(path), "-o", str(out), "--format", fmt, "-q"]) == 0
        written = out.read_text(encoding="utf-8")
        assert [s for s in fixture_secrets() if s in written] == [], path


def test_secrets_are_shown_redacted() -> None:
    result = import_report((FIXTURES / "gitleaks/gitleaks8_many.json").read_bytes(), "g.json")
    assert {f.evidence for f in result.findings} >= {"sec\u2026(15 chars)", 'apikey = "dfjk\u2026(24 chars)"'}


_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_{|}~\\'\" "


def random_secret(rng: random.Random) -> str:
    """A secret of random length and characters (regex metacharacters and quotes included)."""
    body = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(8, 64)))
    return rng.choice(["", "sk_live_", "xoxb-", "AKIA", "-----BEGIN KEY-----"]) + body.strip() + "Z9"


def gitleaks_report(secrets: list[str]) -> bytes:
    leaks = [
        {
            "Description": "Generic API Key",
            "StartLine": n + 1,
            "EndLine": n + 1,
            "StartColumn": 1,
            "EndColumn": 40,
            "Match": f"token = {json.dumps(secret)}  # {secret[::-1]}",
            "Secret": secret,
            "File": f"src/config_{n}.py",
            "Commit": "",
            "Entropy": 4.5,
            "Message": f"add token {secret}",
            "Tags": [secret[:3]],
            "RuleID": "generic-api-key",
            "Fingerprint": f"src/config_{n}.py:generic-api-key:{n + 1}",
        }
        for n, secret in enumerate(secrets)
    ]
    return json.dumps(leaks).encode()


def trufflehog_report(secrets: list[str]) -> bytes:
    lines = [
        json.dumps(
            {
                "SourceMetadata": {"Data": {"Filesystem": {"file": f"deploy/{n}.env", "line": n + 1}}},
                "SourceName": "trufflehog - filesystem",
                "DetectorName": "Generic",
                "Verified": n % 2 == 0,
                "Raw": base64.b64encode(secret.encode()).decode(),
                "RawV2": base64.b64encode(f"user:{secret}".encode()).decode(),
                "Redacted": secret,
            }
        )
        for n, secret in enumerate(secrets)
    ]
    return "\n".join(lines).encode()


@pytest.mark.parametrize("seed", range(20))
def test_random_secrets_never_survive(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    secrets = [random_secret(rng) for _ in range(rng.randint(1, 6))]
    for name, data in (("leaks.json", gitleaks_report(secrets)), ("hog.jsonl", trufflehog_report(secrets))):
        produced = everything(import_report(data, name))
        report = tmp_path / f"{name}.sarif"
        (tmp_path / name).write_bytes(data)
        assert main(["import", str(tmp_path / name), "-o", str(report), "-f", "sarif", "-q"]) == 0
        written = report.read_text(encoding="utf-8")
        for secret in secrets:
            assert secret not in produced and secret not in written
            assert json.dumps(secret)[1:-1] not in written  # nor JSON-escaped


def test_secrets_the_tool_did_not_flag_are_scrubbed_as_in_sarif() -> None:
    token = "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"  # generated, grants nothing
    report = {
        "version": "1.100.0",
        "errors": [],
        "paths": {"scanned": ["app.py"]},
        "results": [
            {
                "check_id": "hardcoded-token",
                "path": "app.py",
                "start": {"line": 3, "col": 1},
                "end": {"line": 3, "col": 50},
                "extra": {
                    "message": f"token {token} is hard-coded",
                    "severity": "ERROR",
                    "lines": f"TOKEN = {token}",
                    "metadata": {"references": [f"https://example.com/?t={token}"]},
                },
            }
        ],
    }
    produced = everything(import_report(json.dumps(report).encode(), "semgrep.json"))
    assert token not in produced and "ghp_\u2026(40 chars)" in produced
