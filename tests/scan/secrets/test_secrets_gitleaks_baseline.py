"""gitleaks baselines: a gitleaks report named by ``[scanners.secrets] gitleaks_baseline`` leaves the
secrets it lists out of the report (matched by file and secret, or by lines when the report is
redacted, and by commit in history scans), and Bastion's own findings convert to such a report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.errors import InputError
from bastion.scan.secrets import gitleaks_baseline
from bastion.scan.secrets.gitleaks_baseline import load_baseline, to_gitleaks

# Generated for this test; they grant nothing.
TOKEN_A = "Zt4Kq8Lm2Nx7Pw3R"
TOKEN_B = "Hb3Jc9Kd2Le7Mf4N"
TOKEN_C = "Pz9Ox8Ny7Mw6Lv5K"


def _gitleaks_entry(file: str, line: int, secret: str, commit: str = "") -> dict[str, object]:
    """One finding as gitleaks 8 writes it to its JSON report."""
    return {
        "Description": "Generic API Key",
        "StartLine": line,
        "EndLine": line,
        "StartColumn": 16,
        "EndColumn": 32,
        "Match": f"PASSWORD={secret}",
        "Secret": secret,
        "File": file,
        "SymlinkFile": "",
        "Commit": commit,
        "Entropy": 3.9,
        "Author": "",
        "Email": "",
        "Date": "",
        "Message": "",
        "Tags": [],
        "RuleID": "generic-api-key",
        "Fingerprint": f"{file}:generic-api-key:{line}",
    }


def _scan(root: Path, *extra: str) -> tuple[int, dict[str, object]]:
    out = root.parent / f"{root.name}-report.json"
    code = main(
        ["scan", str(root), "-s", "secrets", "-f", "json", "-o", str(out), "-q", "--fail-on", "low", *extra]
    )
    return code, json.loads(out.read_text()) if out.exists() else {}


def _config(root: Path, baseline: str) -> Path:
    config = root.parent / "bastion.toml"
    config.write_text(f'[scanners.secrets]\ngitleaks_baseline = "{baseline}"\n')
    return config


def _lines(report: dict[str, object]) -> set[tuple[str, int]]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return {(f["location"]["path"], f["location"]["start_line"]) for f in findings}


def test_secrets_listed_in_a_gitleaks_report_are_not_reported(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "conf").mkdir(parents=True)
    (root / "conf" / "app.env").write_text(
        f"# moved down a line since the baseline\nDB_PASSWORD={TOKEN_A}\nAPI_SECRET={TOKEN_B}\n"
    )
    (root / "other.env").write_text(f"ADMIN_PASSWORD={TOKEN_C}\n")
    redacted = _gitleaks_entry("other.env", 1, "REDACTED")
    (root / "gitleaks-report.json").write_text(
        json.dumps(
            [
                _gitleaks_entry("./conf/app.env", 1, TOKEN_A),  # secret known: matched wherever it moved
                _gitleaks_entry("/ci/workspace/conf/app.env", 9, TOKEN_C),  # another secret: not this one
                redacted,  # gitleaks --redact: matched by lines
                {"File": "", "StartLine": 1},  # unusable: counted as not applied
            ]
        )
    )
    code, report = _scan(root, "--config", str(_config(root, "gitleaks-report.json")))
    assert code == 1
    assert _lines(report) == {("conf/app.env", 3)}
    text = json.dumps(report)
    assert "2 secrets not reported as the gitleaks baseline gitleaks-report.json lists them" in text
    assert "1 entries of gitleaks-report.json not applied" in text
    for token in (TOKEN_A, TOKEN_B, TOKEN_C):
        assert token not in json.dumps(report["findings"])


def test_a_redacted_entry_on_other_lines_does_not_hide_a_new_secret(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.env").write_text(f"A=1\nB=2\nADMIN_PASSWORD={TOKEN_C}\n")
    (root / "base.json").write_text(json.dumps([_gitleaks_entry("app.env", 1, "REDACTED")]))
    code, report = _scan(root, "--config", str(_config(root, "base.json")))
    assert code == 1
    assert _lines(report) == {("app.env", 3)}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "gitleaks baseline not found"),
        ("{not json", "gitleaks baseline is not JSON"),
        ('{"findings": []}', "a gitleaks report is a JSON list of findings"),
    ],
)
def test_a_bad_gitleaks_baseline_is_one_line_and_exit_2(
    tmp_path: Path, content: str | None, message: str
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.env").write_text(f"ADMIN_PASSWORD={TOKEN_C}\n")
    if content is not None:
        (root / "base.json").write_text(content)
    code, report = _scan(root, "--config", str(_config(root, "base.json")))
    assert code == 2
    failures = report["failures"]
    assert isinstance(failures, list) and len(failures) == 1
    error = failures[0]["error"]
    assert message in error and "base.json" in error and "\n" not in error


def test_null_report_means_no_finding_accepted(tmp_path: Path) -> None:
    (tmp_path / "null.json").write_text("null")
    baseline = load_baseline(tmp_path / "null.json")
    assert baseline.by_name == {} and baseline.summary() is None
    assert not baseline.lists("a.env", 1, 1, TOKEN_A)
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(InputError, match="could not be read"):
        load_baseline(tmp_path / "dir.json")


def _git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@localhost", "HOME": str(root), "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env
    )
    return done.stdout.strip()


def test_history_scans_match_by_commit_and_lines(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "app.env").write_text(f"DB_PASSWORD={TOKEN_A}\n")
    _git(root, "add", "app.env")
    _git(root, "commit", "-q", "-m", "one")
    first = _git(root, "rev-parse", "HEAD")
    (root / "app.env").write_text(f"DB_PASSWORD={TOKEN_A}\nADMIN_PASSWORD={TOKEN_C}\n")
    _git(root, "commit", "-q", "-am", "two")
    (root.parent / "base.json").write_text(
        json.dumps(
            [
                _gitleaks_entry("app.env", 1, "REDACTED", first),
                _gitleaks_entry("app.env", 2, "REDACTED", "0" * 40),
            ]
        )
    )
    config = _config(root, str(root.parent / "base.json"))
    code, report = _scan(root, "--git-history", "--config", str(config))
    assert code == 1
    assert _lines(report) == {("app.env", 2)}  # the second entry names another commit
    assert "1 secrets not reported as the gitleaks baseline base.json" in json.dumps(report)


def test_bastion_findings_round_trip_through_a_written_gitleaks_baseline(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.env").write_text(f"DB_PASSWORD={TOKEN_A}\nADMIN_PASSWORD={TOKEN_C}\n")
    code, first = _scan(root)
    assert code == 1 and _lines(first) == {("app.env", 1), ("app.env", 2)}
    written = tmp_path / "gitleaks-baseline.json"
    assert gitleaks_baseline.main([str(tmp_path / "repo-report.json"), "-o", str(written)]) == 0
    entries = json.loads(written.read_text())
    assert [(e["File"], e["StartLine"], e["Secret"]) for e in entries] == [
        ("app.env", 1, "REDACTED"),
        ("app.env", 2, "REDACTED"),
    ]
    assert {e["RuleID"] for e in entries} == {"secrets.generic-password"}
    assert TOKEN_A not in written.read_text() and TOKEN_C not in written.read_text()
    code, second = _scan(root, "--config", str(_config(root, str(written))))
    assert code == 0 and _lines(second) == set()


def test_the_converter_rejects_what_is_not_a_bastion_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert gitleaks_baseline.main([str(tmp_path / "bad.json"), "-o", str(tmp_path / "o.json")]) == 2
    assert "a Bastion JSON report has a 'findings' list" in capsys.readouterr().err
    assert gitleaks_baseline.main([str(tmp_path / "none.json"), "-o", str(tmp_path / "o.json")]) == 2
    assert "not a readable JSON report" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()
    other = [{"scanner": "iac", "rule_id": "iac.aws.x", "location": {"path": "main.tf", "start_line": 3}}]
    assert to_gitleaks(other) == []
