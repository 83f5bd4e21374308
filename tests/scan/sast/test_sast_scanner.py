"""The sast scanner as a whole: missing tools, semgrep failures, batching, isolation, engine."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sast_helpers import (
    BANDIT_DEFAULT,
    BANDIT_EXPECTED,
    PROJECT,
    SEMGREP_EXPECTED,
    SEMGREP_MERGED_INTO_BANDIT,
    TAINT_ONLY_EXPECTED,
    keys,
    needs_semgrep,
    run_sast,
)

import bastion.scan.sast as sast
import bastion.scan.sast.semgrep as semgrep_module
from bastion.findings import Confidence, Severity
from bastion.scan.base import NoticeKind, ScannerUnavailable, Skip
from bastion.scan.engine import Concurrency, EngineOptions, run_scan
from bastion.scan.registry import Registry

FakeSemgrep = Callable[[str], Path]
EMPTY_JSON = '{"results": [], "errors": [], "paths": {"scanned": []}}'
FATAL_JSON = '{"results": [], "errors": [{"type": "SemgrepError", "message": "Invalid rule\\nmore"}]}'


@pytest.fixture
def no_semgrep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No semgrep on PATH and none next to the interpreter."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python"))


def test_scanner_identity() -> None:
    scanner = sast.SastScanner()
    assert scanner.name == "sast"
    assert scanner.description
    assert scanner.shardable is False


@pytest.mark.usefixtures("no_semgrep")
def test_missing_semgrep_is_a_skip_and_bandit_still_runs() -> None:
    findings, context = run_sast(PROJECT)
    assert context.skips == [Skip("sast.semgrep", "semgrep not installed (pip install 'bastion[semgrep]')")]
    assert context.skips[0].describe() == (
        "skipped sast.semgrep: semgrep not installed (pip install 'bastion[semgrep]')"
    )
    assert keys(findings) == BANDIT_DEFAULT


@pytest.mark.usefixtures("no_semgrep")
def test_semgrep_alone_and_missing_makes_the_scanner_unavailable() -> None:
    with pytest.raises(
        ScannerUnavailable, match=r"^semgrep not installed \(pip install 'bastion\[semgrep\]'\)$"
    ):
        run_sast(PROJECT, {"tools": ["semgrep"]})


@pytest.mark.usefixtures("no_semgrep")
def test_both_external_tools_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sast, "bandit_available", lambda: False)
    with pytest.raises(ScannerUnavailable) as info:
        run_sast(PROJECT, {"tools": ["bandit", "semgrep"]})
    assert str(info.value) == (
        "bandit not installed (pip install bandit); semgrep not installed (pip install 'bastion[semgrep]')"
    )
    # the built-in taint analysis still runs by default: both tools are visible skips, not a failure
    result = run_scan(PROJECT, Registry.from_entry_points().select(["sast"]), EngineOptions(jobs=1))
    assert result.failures == []
    assert keys(result.findings) == TAINT_ONLY_EXPECTED
    assert Skip("sast.bandit", "bandit not installed (pip install bandit)") in result.skips
    assert Skip("sast.semgrep", "semgrep not installed (pip install 'bastion[semgrep]')") in result.skips


def test_missing_bandit_is_a_skip(monkeypatch: pytest.MonkeyPatch, fake_semgrep: FakeSemgrep) -> None:
    monkeypatch.setattr(sast, "bandit_available", lambda: False)
    fake_semgrep(f"echo '{EMPTY_JSON}'")
    findings, context = run_sast(PROJECT)
    assert context.skips == [Skip("sast.bandit", "bandit not installed (pip install bandit)")]
    assert keys(findings) == TAINT_ONLY_EXPECTED


def test_semgrep_next_to_the_interpreter_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "semgrep").write_text("#!/bin/sh\n", encoding="utf-8")
    (venv_bin / "semgrep").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    assert semgrep_module.find_semgrep() == venv_bin / "semgrep"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("echo 'this is not json'", "semgrep failed (exit 0): no JSON output"),
        ("echo 'Traceback: boom' >&2; exit 2", "semgrep failed (exit 2): Traceback: boom"),
        ("exit 139", "semgrep failed (exit 139): no JSON output"),
        ("echo '[1, 2]'", "semgrep failed (exit 0): no JSON output"),
        (
            f"printf '%s\\n' '{FATAL_JSON}'; exit 7",
            "semgrep SemgrepError: Invalid rule",
        ),
        ("echo '{\"results\": []}'; echo 'killed' >&2; exit 2", "semgrep failed (exit 2): killed"),
    ],
)
def test_semgrep_failure_is_a_notice_and_bandit_findings_remain(
    fake_semgrep: FakeSemgrep, body: str, message: str
) -> None:
    fake_semgrep(body)
    findings, context = run_sast(PROJECT)
    assert keys(findings) == BANDIT_DEFAULT
    assert [(n.kind, n.message, n.path, n.scanner) for n in context.notices] == [
        (NoticeKind.SCANNER, message, None, "sast")
    ]


def test_semgrep_timeout_is_a_notice(fake_semgrep: FakeSemgrep) -> None:
    fake_semgrep("exec sleep 30")
    findings, context = run_sast(PROJECT, {"semgrep_timeout": 0.5})
    assert keys(findings) == BANDIT_DEFAULT
    assert [n.message for n in context.notices] == ["semgrep timed out after 0.5 s on 4 files"]


def test_semgrep_result_and_file_error_are_mapped(fake_semgrep: FakeSemgrep) -> None:
    staged = "__TREE__/web/vulnerable.js"  # the fake replaces __TREE__ with its last argument
    payload = {
        "results": [
            {
                "check_id": "team-rule",
                "path": staged,
                "start": {"line": 10, "col": 3},
                "end": {"line": 10, "col": 31},
                "extra": {
                    "message": "Custom.  Second sentence.",
                    "severity": "INFO",
                    "metadata": {"references": "https://example.org/rule", "confidence": "LOW"},
                },
            },
            {"check_id": "elsewhere", "path": "/not/scanned.js", "start": {"line": 1}, "extra": {}},
        ],
        "errors": [
            {
                "type": ["PartialParsing", []],
                "level": "warn",
                "message": f"Syntax error at line {staged}:3:\n more",
                "path": staged,
            },
            {"type": "Fatal", "message": "rule r: bad pattern"},
        ],
    }
    fake_semgrep(f'for a; do tree="$a"; done\nsed "s|__TREE__|$tree|g" <<\'EOF\'\n{json.dumps(payload)}\nEOF')
    findings, context = run_sast(PROJECT, {"tools": ["semgrep"]})
    [finding] = findings
    assert keys(findings) == {("sast.semgrep.team-rule", "web/vulnerable.js", 10)}
    assert finding.title == "Custom"
    assert finding.message == "Custom. Second sentence."
    assert finding.evidence == "el.innerHTML = comment.body;"
    assert finding.help_uri == "https://example.org/rule"
    assert finding.confidence is Confidence.LOW
    assert finding.severity is Severity.LOW
    assert finding.cwe == ()
    assert (finding.location.start_column, finding.location.end_column) == (3, 31)
    assert [(n.path, n.message) for n in context.notices] == [
        ("web/vulnerable.js", "semgrep PartialParsing: Syntax error at line web/vulnerable.js:3:"),
        (None, "semgrep Fatal: rule r: bad pattern"),
    ]


def test_semgrep_is_called_offline_and_isolated(
    tmp_path: Path, fake_semgrep: FakeSemgrep, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "calls.txt"
    monkeypatch.setenv("SEMGREP_APP_TOKEN", "not-a-real-token")
    monkeypatch.setenv("SEMGREP_RULES", "p/python")
    fake_semgrep(
        f'printf "%s\\n" "$@" > {record}; for a; do tree="$a"; done\n'
        f'(cd "$tree" && find . -type f | sort) >> {record}\n'
        f"echo --env >> {record}; env >> {record}; echo '{EMPTY_JSON}'"
    )
    _, context = run_sast(PROJECT, {"tools": ["semgrep"]})
    assert context.notices == []
    args, env_text = record.read_text(encoding="utf-8").split("--env\n")
    argv = args.splitlines()
    assert argv[0] == "scan"
    for flag in ("--json", "--metrics=off", "--disable-version-check", "--quiet", "--no-git-ignore"):
        assert flag in argv
    assert argv[argv.index("--config") + 1] == str(sast.builtin_rules())
    assert argv.count("--config") == 1
    tree = argv.index(next(a for a in argv if a.endswith("/target")))
    # one directory target; the staged tree holds exactly the selected files (not notes.txt)
    assert argv[tree + 1 :] == [
        "./.semgrepignore",
        "./app/clean.py",
        "./app/vulnerable.py",
        "./web/clean.js",
        "./web/vulnerable.js",
    ]
    env = dict(line.split("=", 1) for line in env_text.splitlines() if "=" in line)
    assert "SEMGREP_APP_TOKEN" not in env and "SEMGREP_RULES" not in env
    assert env["SEMGREP_SEND_METRICS"] == "off"
    assert env["HOME"] != str(Path.home()) and "bastion-semgrep-" in env["HOME"]
    assert not Path(env["HOME"]).exists()  # the scratch HOME is removed afterwards


@pytest.mark.slow
@needs_semgrep
def test_semgrep_scans_every_walked_file_even_where_its_defaults_ignore(tmp_path: Path) -> None:
    # semgrep's default ignores drop tests/, node_modules/ and the like when it picks files
    # itself; the walk decides here, and a .semgrepignore in the target has no say either.
    (tmp_path / ".semgrepignore").write_text("*.py\n", encoding="utf-8")
    for rel in ("tests/test_a.py", "node_modules/pkg/b.js", ".hidden/c.py", "vendor/d.py"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("eval(user_input)\n", encoding="utf-8")
    findings, context = run_sast(tmp_path, {"tools": ["semgrep"]})
    assert keys(findings) == {
        ("sast.semgrep.python-eval-exec-dynamic", "tests/test_a.py", 1),
        ("sast.semgrep.js-eval-dynamic", "node_modules/pkg/b.js", 1),
        ("sast.semgrep.python-eval-exec-dynamic", ".hidden/c.py", 1),
        ("sast.semgrep.python-eval-exec-dynamic", "vendor/d.py", 1),
    }
    assert context.notices == []


def test_no_matching_files_means_no_semgrep_run(tmp_path: Path, fake_semgrep: FakeSemgrep) -> None:
    (tmp_path / "README.md").write_text("# hi\n", encoding="utf-8")
    marker = tmp_path / "ran"
    fake_semgrep(f"touch {marker}; echo '{EMPTY_JSON}'")
    findings, context = run_sast(tmp_path)
    assert findings == [] and context.notices == []
    assert not marker.exists()


@pytest.mark.slow
@needs_semgrep
@pytest.mark.parametrize("concurrency", [Concurrency.THREAD, Concurrency.PROCESS])
def test_engine_runs_sast_from_its_entry_point(concurrency: Concurrency) -> None:
    registrations = Registry.from_entry_points().select(["sast"])
    result = run_scan(PROJECT, registrations, EngineOptions(concurrency=concurrency, jobs=2))
    assert result.failures == [] and result.skips == [] and result.notices == []
    got = {(f.rule_id, f.location.path, f.location.start_line) for f in result.findings}
    assert got == BANDIT_DEFAULT | (SEMGREP_EXPECTED - SEMGREP_MERGED_INTO_BANDIT)
    b602 = next(f for f in result.findings if f.rule_id == "sast.bandit.B602")
    assert b602.metadata["tools"] == ["bandit", "semgrep"]
    assert b602.metadata["also_reported_as"] == ["sast.semgrep.python-subprocess-shell-dynamic"]
    assert len({f.fingerprint for f in result.findings}) == len(result.findings)


def test_engine_passes_options_and_reports_bad_ones() -> None:
    registrations = Registry.from_entry_points().select(["sast"])
    good = run_scan(
        PROJECT, registrations, EngineOptions(jobs=1, scanner_options={"sast": {"tools": ["bandit"]}})
    )
    assert keys(good.findings) == BANDIT_EXPECTED
    bad = run_scan(PROJECT, registrations, EngineOptions(jobs=1, scanner_options={"sast": {"tool": ["x"]}}))
    assert [f.describe() for f in bad.failures] == [
        "scanner sast failed: scanners.sast.tool: unknown key "
        "(choose from tools, semgrep_rules, bandit_skip, semgrep_timeout)"
    ]
