"""The scanner through the engine: options, pairing, fingerprints, sharding."""

from __future__ import annotations

import random
import string
import zlib
from pathlib import Path

import pytest

from bastion.errors import ConfigError
from bastion.findings import Confidence, Severity
from bastion.scan.base import ScanContext, ScanTarget, SourceFile
from bastion.scan.engine import Concurrency, EngineOptions, run_scan
from bastion.scan.registry import Registration, load_scanner
from bastion.scan.secrets import SecretsScanner
from bastion.scan.secrets.scanner import parse_options
from bastion.scan.secrets.validators import base62

SECRETS = Registration("secrets", "bastion.scan.secrets:SecretsScanner")
RNG = random.Random(3)


def _token() -> str:
    body = "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(30))
    return "ghp_" + body + base62(zlib.crc32(body.encode())).rjust(6, "0")


def _aws_id() -> str:
    return "AKIA" + "".join(RNG.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def _aws_secret() -> str:
    return "".join(RNG.choice(string.ascii_letters + string.digits + "/+") for _ in range(40))


def _scan(root: Path, **options: object) -> list[object]:
    return list(
        run_scan(root, [SECRETS], EngineOptions(jobs=1, scanner_options={"secrets": options})).findings
    )


def test_scanner_is_loadable_and_shardable() -> None:
    scanner = load_scanner(SECRETS.reference)
    assert scanner.name == "secrets"
    assert getattr(scanner, "shardable", False) is True


def test_findings_through_the_engine(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(f'TOKEN = "{_token()}"\n')
    result = run_scan(tmp_path, [SECRETS], EngineOptions(jobs=1))
    (finding,) = result.findings
    assert finding.rule_id == "secrets.github-pat-classic"
    assert finding.scanner == "secrets"
    assert finding.location.path == "a.py" and finding.location.start_line == 1
    assert finding.location.start_column == 10
    assert finding.cwe == (798,)
    assert len(finding.controls) == 3
    assert finding.evidence == "ghp_\u2026(40 chars)"


def test_sharded_process_pool_finds_the_same(tmp_path: Path) -> None:
    for i in range(450):
        (tmp_path / f"m{i}.py").write_text(f"x = {i}\n" + (f'T = "{_token()}"\n' if i % 50 == 0 else ""))
    single = run_scan(tmp_path, [SECRETS], EngineOptions(jobs=1))
    pooled = run_scan(tmp_path, [SECRETS], EngineOptions(concurrency=Concurrency.PROCESS, jobs=2))
    assert len(single.findings) == 9
    assert pooled.findings == single.findings


def test_aws_key_id_alone_is_medium_and_paired_is_critical(tmp_path: Path) -> None:
    key_id = _aws_id()
    (tmp_path / "alone.py").write_text(f'AWS_ACCESS_KEY_ID = "{key_id}"\n')
    far = "\n" * 12
    (tmp_path / "far.py").write_text(
        f'AWS_ACCESS_KEY_ID = "{_aws_id()}"{far}AWS_SECRET_ACCESS_KEY = "{_aws_secret()}"\n'
    )
    (tmp_path / "pair.ini").write_text(
        f"[default]\naws_access_key_id = {_aws_id()}\naws_secret_access_key = {_aws_secret()}\n"
    )
    by_path = {}
    for finding in run_scan(tmp_path, [SECRETS], EngineOptions(jobs=1)).findings:
        if finding.rule_id == "secrets.aws-access-key-id":
            by_path[finding.location.path] = finding
    assert by_path["alone.py"].severity is Severity.MEDIUM
    assert by_path["far.py"].severity is Severity.MEDIUM
    assert by_path["pair.ini"].severity is Severity.CRITICAL
    assert by_path["pair.ini"].confidence is Confidence.HIGH


def test_fingerprint_is_stable_when_lines_move_and_hides_the_secret(tmp_path: Path) -> None:
    token = _token()
    (tmp_path / "a.py").write_text(f'T = "{token}"\n')
    (before,) = run_scan(tmp_path, [SECRETS], EngineOptions(jobs=1)).findings
    (tmp_path / "a.py").write_text(f'import os\n\n\nT = "{token}"\n')
    (after,) = run_scan(tmp_path, [SECRETS], EngineOptions(jobs=1)).findings
    assert before.fingerprint == after.fingerprint
    assert after.location.start_line == 4
    assert token not in before.fingerprint


def test_disable_and_generic_options(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text(f'GH="{_token()}"\nDB_PASSWORD=Hq8vLz2Pw9mKt4Xr\n')
    assert {f.rule_id for f in _scan(tmp_path)} == {"secrets.github-pat-classic", "secrets.generic-password"}
    assert {f.rule_id for f in _scan(tmp_path, disable=["secrets.github-pat-classic"])} == {
        "secrets.generic-password"
    }
    assert {f.rule_id for f in _scan(tmp_path, generic=False)} == {"secrets.github-pat-classic"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"colour": "red"}, "scanners.secrets.colour: unknown key"),
        ({"rules": 3}, "scanners.secrets.rules"),
        ({"generic": "maybe"}, "scanners.secrets.generic"),
    ],
)
def test_bad_options_are_config_errors_naming_the_key(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_options(options)


def test_unknown_disabled_rule_and_bad_rule_dir_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    target = ScanTarget(tmp_path, (SourceFile(tmp_path / "a.py", "a.py", 6),))
    with pytest.raises(ConfigError, match="unknown rule id"):
        list(SecretsScanner().scan(target, ScanContext("secrets", {"disable": ["secrets.nope"]})))
    with pytest.raises(ConfigError, match="not found"):
        list(SecretsScanner().scan(target, ScanContext("secrets", {"rules": [str(tmp_path / "none")]})))


def test_user_rules_directory_through_the_options(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.toml").write_text(
        '[[rules]]\nid = "secrets.acme-key"\ndescription = "ACME key"\n'
        "regex = '(?P<secret>acmek_[a-z0-9]{24})'\nkeywords = [\"acmek_\"]\n"
        'severity = "high"\nconfidence = "high"\n'
        'examples.positive = ["acmek_q8w7e6r5t4y3u2i1o0p9a8s7"]\nexamples.negative = ["acmek_"]\n'
    )
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.txt").write_text("key: acmek_q8w7e6r5t4y3u2i1o0p9a8s7\n")
    assert [f.rule_id for f in _scan(repo, rules=[str(rules)])] == ["secrets.acme-key"]
