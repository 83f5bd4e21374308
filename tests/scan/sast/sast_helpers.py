"""Shared helpers for the sast tests: fixture paths, expected findings, targets."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bastion.findings import Finding
from bastion.scan.base import ScanContext, ScanTarget, SourceFile
from bastion.scan.sast import SastScanner
from bastion.scan.sast.semgrep import find_semgrep

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sast"
PROJECT = FIXTURES / "project"
ANNOTATED = FIXTURES / "semgrep"

needs_semgrep = pytest.mark.skipif(find_semgrep() is None, reason="semgrep is not installed")

# (rule id, path, line) of every finding each tool must report on tests/fixtures/sast/project.
BANDIT_EXPECTED = {
    ("sast.bandit.B403", "app/vulnerable.py", 4),
    ("sast.bandit.B404", "app/vulnerable.py", 5),
    ("sast.bandit.B105", "app/vulnerable.py", 10),
    ("sast.bandit.B602", "app/vulnerable.py", 14),
    ("sast.bandit.B301", "app/vulnerable.py", 18),
    ("sast.bandit.B506", "app/vulnerable.py", 22),
    ("sast.bandit.B324", "app/vulnerable.py", 26),
    ("sast.bandit.B501", "app/vulnerable.py", 30),
    ("sast.bandit.B608", "app/vulnerable.py", 34),
}
# With the default tools the taint analysis runs too: it drops bandit's import warnings (B403
# pickle, B404 subprocess) once it has analysed the file's uses of those modules, and its own
# weak-hash finding absorbs bandit's B324 on the same line (one finding per location and CWE).
BANDIT_DEFAULT = {
    k for k in BANDIT_EXPECTED if k[0] not in {"sast.bandit.B403", "sast.bandit.B404", "sast.bandit.B324"}
} | {("sast.taint.weak-hash", "app/vulnerable.py", 26)}
# The JavaScript taint analysis: req.query.dir reaches child_process.exec in web/vulnerable.js.
TAINT_ONLY_EXPECTED = {
    ("sast.taint.weak-hash", "app/vulnerable.py", 26),
    ("sast.taint.js-command", "web/vulnerable.js", 6),
    ("sast.taint.js-weak-random-secret", "web/vulnerable.js", 14),
}
BANDIT_DEFAULT |= TAINT_ONLY_EXPECTED
SEMGREP_EXPECTED = {
    ("sast.semgrep.python-subprocess-shell-dynamic", "app/vulnerable.py", 14),
    ("sast.semgrep.python-pickle-load", "app/vulnerable.py", 18),
    ("sast.semgrep.python-yaml-unsafe-load", "app/vulnerable.py", 22),
    ("sast.semgrep.python-weak-hash-password", "app/vulnerable.py", 26),
    ("sast.semgrep.python-tls-verify-disabled", "app/vulnerable.py", 30),
    ("sast.semgrep.python-sql-string-built-query", "app/vulnerable.py", 34),
    # bandit honours "# nosec B307" on line 39; semgrep only knows "nosemgrep"
    ("sast.semgrep.python-eval-exec-dynamic", "app/vulnerable.py", 39),
    ("sast.semgrep.js-child-process-exec-dynamic", "web/vulnerable.js", 6),
    ("sast.semgrep.js-inner-html-dynamic", "web/vulnerable.js", 10),
    ("sast.semgrep.js-math-random-for-secret", "web/vulnerable.js", 14),
    ("sast.semgrep.js-weak-cipher-des-ecb", "web/vulnerable.js", 19),
}
# Both tools together: one finding per line and CWE, so semgrep's findings on lines where bandit
# reports the same weakness are merged into bandit's (listed in its metadata["tools"]).
SEMGREP_MERGED_INTO_BANDIT = {
    ("sast.semgrep.python-subprocess-shell-dynamic", "app/vulnerable.py", 14),
    ("sast.semgrep.python-pickle-load", "app/vulnerable.py", 18),
    ("sast.semgrep.python-yaml-unsafe-load", "app/vulnerable.py", 22),
    ("sast.semgrep.python-tls-verify-disabled", "app/vulnerable.py", 30),
    ("sast.semgrep.python-sql-string-built-query", "app/vulnerable.py", 34),
    # and into the JavaScript taint finding on the same line and CWE
    ("sast.semgrep.js-child-process-exec-dynamic", "web/vulnerable.js", 6),
}


def make_target(root: Path) -> ScanTarget:
    """A target of every regular file under ``root``, as the walk would hand it over."""
    root = root.resolve()
    files = tuple(
        SourceFile(path, path.relative_to(root).as_posix(), path.stat().st_size)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    )
    return ScanTarget(root, files)


def run_sast(root: Path, options: Mapping[str, Any] | None = None) -> tuple[list[Finding], ScanContext]:
    """Scan ``root`` with the sast scanner; the findings and the context holding notices/skips."""
    context = ScanContext(scanner="sast", options=dict(options or {}))
    findings = list(SastScanner().scan(make_target(root), context))
    return findings, context


def keys(findings: list[Finding]) -> set[tuple[str, str, int]]:
    """(rule id, path, line) of each finding."""
    return {(f.rule_id, f.location.path or "", f.location.start_line or 0) for f in findings}
