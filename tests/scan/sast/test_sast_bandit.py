"""bandit through the sast scanner: rule ids and lines, mapping, redaction, silence, fingerprints."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from sast_helpers import BANDIT_EXPECTED, PROJECT, keys, run_sast

from bastion.findings import Confidence, Finding, Severity
from bastion.scan.base import NoticeKind
from bastion.scan.sast.bandit import run_bandit

BANDIT_ONLY = {"tools": ["bandit"]}


def _by_rule(findings: list[Finding]) -> dict[str, Finding]:
    return {f.rule_id: f for f in findings}


def test_expected_findings_with_rule_and_line() -> None:
    findings, context = run_sast(PROJECT, BANDIT_ONLY)
    assert keys(findings) == BANDIT_EXPECTED
    assert len(findings) == len(BANDIT_EXPECTED)
    assert context.notices == [] and context.skips == []


def test_clean_files_and_nosec_give_nothing() -> None:
    findings, _ = run_sast(PROJECT, BANDIT_ONLY)
    assert not [f for f in findings if f.location.path == "app/clean.py"]
    # line 39 is eval(...) marked "# nosec B307"
    assert not [f for f in findings if f.location.start_line == 39]


def test_finding_fields_are_mapped() -> None:
    findings, _ = run_sast(PROJECT, BANDIT_ONLY)
    shell = _by_rule(findings)["sast.bandit.B602"]
    assert shell.scanner == "sast"
    assert shell.severity is Severity.HIGH
    assert shell.confidence is Confidence.HIGH
    assert shell.cwe == (78,)
    assert shell.title == "subprocess call with shell=True"
    assert "shell=True" in shell.message
    assert shell.evidence == 'subprocess.call("generate-report " + name, shell=True)'
    assert (shell.location.start_line, shell.location.end_line) == (14, 14)
    assert shell.location.start_column == 5
    assert shell.location.end_column is not None and shell.location.end_column > 5
    assert shell.fix.startswith("Drop shell=True")
    assert shell.help_uri.startswith("https://bandit.readthedocs.io/")
    assert "b602" in shell.help_uri
    assert shell.metadata == {"tool": "bandit", "test": "subprocess_popen_with_shell_equals_true"}
    # the data file, not bandit's own CWE (20), decides
    assert _by_rule(findings)["sast.bandit.B506"].cwe == (502,)
    assert _by_rule(findings)["sast.bandit.B403"].severity is Severity.LOW


def test_hardcoded_password_is_redacted() -> None:
    findings, _ = run_sast(PROJECT, BANDIT_ONLY)
    password = _by_rule(findings)["sast.bandit.B105"]
    assert password.evidence == 'DB_PASSWORD = "***"'
    assert "hunter2" not in password.message
    assert "hunter2" not in password.evidence
    assert "hunter2" not in str(password.to_dict())


def test_bandit_skip_leaves_tests_out() -> None:
    findings, _ = run_sast(PROJECT, {**BANDIT_ONLY, "bandit_skip": ["B403", "B404"]})
    assert keys(findings) == {
        k for k in BANDIT_EXPECTED if k[0] not in {"sast.bandit.B403", "sast.bandit.B404"}
    }


def test_only_python_files_go_to_bandit(tmp_path: Path) -> None:
    (tmp_path / "script.txt").write_text("import pickle\npickle.loads(x)\n", encoding="utf-8")
    (tmp_path / "stub.pyi").write_text("import pickle\n", encoding="utf-8")
    findings, _ = run_sast(tmp_path, BANDIT_ONLY)
    assert keys(findings) == {("sast.bandit.B403", "stub.pyi", 1)}


def test_unparsable_file_becomes_a_notice(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n", encoding="utf-8")
    (tmp_path / "ok.py").write_text("import subprocess\n", encoding="utf-8")
    findings, context = run_sast(tmp_path, BANDIT_ONLY)
    assert keys(findings) == {("sast.bandit.B404", "ok.py", 1)}
    assert [(n.kind, n.path, n.message) for n in context.notices] == [
        (NoticeKind.SCANNER, "broken.py", "bandit: syntax error while parsing AST from file")
    ]


def test_bandit_prints_nothing_even_with_debug_logging(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # More than bandit's PROGRESS_THRESHOLD (50) files with the root logger at DEBUG is
    # the case where bandit would draw a progress bar on stdout and log to stderr.
    for i in range(60):
        (tmp_path / f"m{i}.py").write_text(f"import pickle\nx{i} = '\\d'\n", encoding="utf-8")
    (tmp_path / "broken.py").write_text("def f(:\n", encoding="utf-8")
    root = logging.getLogger()
    handler = logging.StreamHandler()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        capfd.readouterr()
        findings, context = run_sast(tmp_path, BANDIT_ONLY)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    out, err = capfd.readouterr()
    assert out == ""
    assert "bandit" not in err.lower() and "working on file" not in err
    assert len(findings) == 60
    assert len(context.notices) == 1
    bandit_logger = logging.getLogger("bandit")
    assert bandit_logger.propagate and bandit_logger.handlers == []


def test_fingerprint_survives_inserted_lines_and_changes_with_the_code(tmp_path: Path) -> None:
    target = tmp_path / "app"
    target.mkdir()
    source = PROJECT / "app" / "vulnerable.py"
    shutil.copy(source, target / "vulnerable.py")
    before = {f.rule_id: f for f in run_sast(tmp_path, BANDIT_ONLY)[0]}

    text = source.read_text(encoding="utf-8")
    moved = text.replace("import hashlib\n", "import hashlib\n\n\n\ndef unrelated():\n    return 42\n\n", 1)
    (target / "vulnerable.py").write_text(moved, encoding="utf-8")
    after_move = {f.rule_id: f for f in run_sast(tmp_path, BANDIT_ONLY)[0]}
    assert after_move["sast.bandit.B602"].location.start_line == 20
    assert {r: f.fingerprint for r, f in after_move.items()} == {r: f.fingerprint for r, f in before.items()}

    edited = moved.replace('"generate-report " + name', '"generate-report --fast " + name')
    (target / "vulnerable.py").write_text(edited, encoding="utf-8")
    after_edit = {f.rule_id: f for f in run_sast(tmp_path, BANDIT_ONLY)[0]}
    assert after_edit["sast.bandit.B602"].fingerprint != before["sast.bandit.B602"].fingerprint
    unchanged = set(before) - {"sast.bandit.B602"}
    assert all(after_edit[r].fingerprint == before[r].fingerprint for r in unchanged)


def test_run_bandit_with_no_files_does_nothing() -> None:
    outcome = run_bandit([])
    assert outcome.findings == [] and outcome.problems == []
