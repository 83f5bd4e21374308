"""Without an advisory database the deps scanner's result is "unknown", never clean: one loud
line on stderr, the summary says so and suggests --strict, and --strict fails the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.cli.main import main


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / "missing" / "advisories.db"))
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("requests==2.19.0\nflask==0.12\n", encoding="utf-8")
    return root


def test_machine_format_warns_once_on_stderr(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tree.parent / "report.json"
    assert main(["scan", str(tree), "-s", "deps", "-f", "json", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("WARNING: no advisory database") == 1
    assert "deps: unknown" in err and "--strict" in err
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["scope"]["scanners"]["deps"]["status"] == "skipped"
    assert report["summary"]["total"] == 0
    assert "not checked (deps: unknown), --strict fails on it" in err


def test_table_summary_says_unknown(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tree), "-s", "deps"]) == 0
    captured = capsys.readouterr()
    assert "not checked (deps: unknown), --strict fails on it" in captured.out
    assert "WARNING: skipped deps: no advisory database" in captured.out
    assert "WARNING" not in captured.err  # the table on stdout carries it: said once


def test_strict_fails_and_drops_the_advice(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tree.parent / "report.sarif"
    assert main(["scan", str(tree), "-s", "deps", "--strict", "-f", "sarif", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("WARNING: no advisory database") == 1
    assert "add --strict" not in err
    assert main(["scan", str(tree), "-s", "deps", "-q", "-f", "json", "-o", str(out)]) == 0
    assert capsys.readouterr().err == ""


def test_reports_name_no_path_of_the_scanning_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The skip quotes where the database was looked for (the user's cache): the reports say ~."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / ".cache" / "bastion" / "advisories.db"))
    root = tmp_path / "work" / "app"
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text("requests==2.19.0\n", encoding="utf-8")
    outputs = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "sarif", "gitlab")}
    for fmt, out in outputs.items():
        assert main(["scan", str(root), "-s", "deps", "-f", fmt, "-o", str(out), "-q"]) == 0
        text = out.read_text(encoding="utf-8")
        assert "~/.cache/bastion/advisories.db" in text
        assert str(tmp_path) not in text
    capsys.readouterr()
