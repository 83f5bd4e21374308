"""Run bandit in-process over Python files and map its issues to findings.

bandit is driven through its API (``BanditManager``), not a subprocess: one import,
no per-run interpreter start. bandit reports through the ``bandit`` logger and, at
INFO level or below with many files, draws a rich progress bar on stdout; both are
contained by :func:`_contained`, so a scan never prints. ``# nosec`` comments are
honoured exactly as bandit honours them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.rules import RuleInfo
from bastion.scan.base import SourceFile
from bastion.scan.sast.common import (
    Problem,
    SourceLines,
    ToolOutcome,
    evidence_text,
    redact_literals,
)
from bastion.scan.sast.cwe import BanditRule, bandit_rules

__all__ = ["BANDIT_SUFFIXES", "bandit_available", "bandit_rule_infos", "bandit_test_ids", "run_bandit"]

log = logging.getLogger(__name__)

BANDIT_SUFFIXES = frozenset({".py", ".pyi", ".pyw"})
"""Files handed to bandit."""

_SEVERITY = {"HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW}
_CONFIDENCE = {"HIGH": Confidence.HIGH, "MEDIUM": Confidence.MEDIUM, "LOW": Confidence.LOW}
_QUIETED_LOGGERS = ("bandit", "stevedore")


def bandit_available() -> bool:
    """True when the bandit package can be imported."""
    return importlib.util.find_spec("bandit") is not None


class _Collect(logging.Handler):
    """Keeps bandit's log records so they go to Bastion's debug log instead of stderr."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _contained() -> Iterator[None]:
    """Silence bandit while it runs: its loggers and the warnings of parsing scanned code.

    The level is pinned to WARNING so bandit never takes its progress-bar branch, and
    propagation is cut so its records never reach the CLI's handlers. The captured
    records are re-logged at DEBUG on this module's logger. ``ast.parse`` warns
    (SyntaxWarning) about the scanned code; that is not ours to show either.
    """
    collector = _Collect()
    saved: list[tuple[logging.Logger, int, bool, list[logging.Handler]]] = []
    for name in _QUIETED_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate, list(logger.handlers)))
        logger.handlers = [collector]
        logger.propagate = False
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level, propagate, handlers in saved:
            logger.handlers = handlers
            logger.propagate = propagate
            logger.setLevel(level)
        for record in collector.records:
            log.debug("bandit: %s", record.getMessage())


def _bandit_modules() -> tuple[Any, Any, Any, Any]:
    """Import bandit's API: ``(config, docs_utils, extension_loader, manager)``.

    The first import loads every plug-in, and bandit's loader ``print``s to stderr for
    a plug-in without an id; that one-time output is captured and logged at DEBUG.
    Call inside :func:`_contained`.
    """
    stray = io.StringIO()
    first = "bandit.core.extension_loader" not in sys.modules
    with contextlib.redirect_stderr(stray) if first else contextlib.nullcontext():
        from bandit.core import config, docs_utils, extension_loader, manager
    if stray.getvalue().strip():
        log.debug("bandit wrote to stderr while loading plug-ins: %s", stray.getvalue().strip())
    return config, docs_utils, extension_loader, manager


def bandit_test_ids() -> list[str]:
    """Every test id the installed bandit ships (plug-ins and blacklist calls/imports)."""
    with _contained():
        _, _, extension_loader, _ = _bandit_modules()
        manager = extension_loader.MANAGER
        return sorted(set(manager.plugins_by_id) | set(manager.blacklist_by_id))


def bandit_rule_infos() -> tuple[RuleInfo, ...]:
    """Every bandit test as :class:`RuleInfo`: the ids and documentation links from the installed
    bandit's own plug-in and blacklist lists, titles, CWEs and fixes from ``bandit_cwe.toml``.
    Without bandit installed, the shipped table alone (no links). A bandit finding's severity is
    set per issue by the plug-in, so none is listed."""
    table = bandit_rules()
    names: dict[str, str] = {}
    urls: dict[str, str] = {}
    if bandit_available():
        with _contained():
            _, docs_utils, extension_loader, _ = _bandit_modules()
            manager = extension_loader.MANAGER
            names.update({test_id: str(plugin.name) for test_id, plugin in manager.plugins_by_id.items()})
            names.update({test_id: str(entry["name"]) for test_id, entry in manager.blacklist_by_id.items()})
            urls = {test_id: str(docs_utils.get_url(test_id)) for test_id in names}
    infos = []
    for test_id in sorted(names or table):
        rule = table.get(test_id)
        infos.append(
            RuleInfo(
                id=f"sast.bandit.{test_id}",
                title=rule.title if rule else names[test_id].replace("_", " "),
                scanner="sast",
                cwe=rule.cwe if rule else (),
                fix=rule.fix if rule else "",
                help_uri=urls.get(test_id, ""),
                equivalent_ids={"bandit": test_id},
            )
        )
    return tuple(infos)


def run_bandit(files: Sequence[SourceFile], skip: Sequence[str] = ()) -> ToolOutcome:
    """Run bandit over ``files`` (Python sources), leaving out the tests in ``skip``.

    Files bandit cannot parse become problems naming the file; nothing is raised for
    a bad file.
    """
    outcome = ToolOutcome()
    if not files:
        return outcome
    by_name = {str(f.path): f for f in files}
    with _contained():
        b_config, docs_utils, _, b_manager = _bandit_modules()
        manager = b_manager.BanditManager(
            b_config.BanditConfig(),
            "file",
            quiet=True,
            profile={"include": [], "exclude": list(skip)},
        )
        manager.files_list = sorted(by_name)
        manager.run_tests()
        issues = list(manager.get_issue_list())
        skipped = list(manager.get_skipped())
        urls = {issue.test_id: docs_utils.get_url(issue.test_id) for issue in issues}
    for fname, reason in skipped:
        source = by_name.get(str(fname))
        outcome.problems.append(Problem(f"bandit: {reason}", source.relpath if source else str(fname)))
    lines = SourceLines()
    rules = bandit_rules()
    for issue in issues:
        source = by_name.get(str(issue.fname))
        if source is None:
            log.debug("bandit reported a file it was not given: %s", issue.fname)
            continue
        outcome.findings.append(_finding(issue, source, rules.get(issue.test_id), urls, lines))
    return outcome


def _finding(
    issue: Any, source: SourceFile, rule: BanditRule | None, urls: dict[str, str], lines: SourceLines
) -> Finding:
    """Map one ``bandit.core.issue.Issue`` (untyped: bandit ships no stubs) to a Finding."""
    test_id = str(issue.test_id)
    rule_id = f"sast.bandit.{test_id}"
    start = int(issue.lineno)
    linerange = [int(n) for n in (issue.linerange or [start])]
    end = max(max(linerange), start)
    col = int(issue.col_offset)
    end_col = int(issue.end_col_offset or 0)
    location = Location(
        path=source.relpath,
        start_line=start,
        end_line=end,
        start_column=col + 1 if col >= 0 else None,
        end_column=end_col + 1 if end_col > 0 else None,
    )
    snippet = lines.region(source.path, start, end)
    message = str(issue.text)
    redact = rule.redact if rule else False
    evidence = evidence_text(snippet)
    if redact:
        evidence = redact_literals(evidence)
        message = redact_literals(message)
    content = "\n".join(snippet) or message
    return Finding(
        rule_id=rule_id,
        scanner="sast",
        title=rule.title if rule else str(issue.test).replace("_", " "),
        severity=_SEVERITY.get(str(issue.severity).upper(), Severity.INFO),
        location=location,
        message=message,
        fingerprint=make_fingerprint(rule_id, location, content),
        evidence=evidence,
        confidence=_CONFIDENCE.get(str(issue.confidence).upper(), Confidence.LOW),
        cwe=rule.cwe if rule else (),
        fix=rule.fix if rule else "",
        help_uri=urls.get(test_id, ""),
        metadata={"tool": "bandit", "test": str(issue.test)},
    )
