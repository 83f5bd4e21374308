"""The ``sast`` scanner: bandit (Python), semgrep (Python, JavaScript/TypeScript, and
any language of user rules) and Bastion's own taint analysis (Python, :mod:`.taint`, and
JavaScript/TypeScript, :mod:`.taint.js`) over the files of the walk.

Taint findings are ``sast.taint.<sink id>`` (``sast.taint.sql``) and carry the trace from
source to sink in ``metadata["flow"]``. Where bandit or semgrep flag the same line for the
same CWE, the findings are merged into the taint one, which lists every tool that saw it.

Rule ids are ``sast.bandit.<test id>`` (``sast.bandit.B602``) and
``sast.semgrep.<rule id>`` (``sast.semgrep.python-pickle-load``). Bastion's curated
semgrep rules are ``rules/semgrep.yml``; bandit's CWE ids, titles and fixes come from
``bandit_cwe.toml``. A tool that is not installed is a visible skip
(``skipped sast.semgrep: semgrep not installed (pip install 'bastion[semgrep]')``);
with neither installed the scanner is unavailable. Options, ``[scanners.sast]``::

    tools = ["bandit", "semgrep", "taint"]  # which tools run
    semgrep_rules = ["rules/extra.yml"] # extra local rule files or directories
    bandit_skip = ["B101"]             # bandit tests to leave out
    semgrep_timeout = 300              # seconds the semgrep run may take

semgrep runs in a worker thread while bandit runs in this one, so the semgrep start-up
(a few seconds) overlaps bandit's CPU work.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

from bastion.errors import ConfigError
from bastion.findings import Finding, Severity
from bastion.results import NoticeKind
from bastion.rules import RuleInfo
from bastion.scan.base import ScanContext, ScannerDefaults, ScannerUnavailable, ScanTarget
from bastion.scan.sast.bandit import BANDIT_SUFFIXES, bandit_available, bandit_rule_infos, run_bandit
from bastion.scan.sast.common import ToolOutcome
from bastion.scan.sast.dataflow import TAINT_SUFFIXES, TaintRun, focus_lines, merge_duplicates, run_taint
from bastion.scan.sast.options import SastOptions, Tool, parse_options, resolve_rule_paths
from bastion.scan.sast.semgrep import (
    SEMGREP_MISSING,
    find_semgrep,
    load_rule_set,
    run_semgrep,
    select_files,
    semgrep_rule_infos,
)
from bastion.scan.sast.taint.js.spec import js_rule_book
from bastion.scan.sast.taint.spec import load_rules as load_taint_rules

__all__ = [
    "BANDIT_MISSING",
    "SEMGREP_MISSING",
    "SastOptions",
    "SastScanner",
    "builtin_rules",
    "parse_options",
    "sast_rules",
]

BANDIT_MISSING = "bandit not installed (pip install bandit)"
"""The skip reason shown when bandit cannot be imported."""


def builtin_rules() -> Path:
    """Path of Bastion's curated semgrep rule file (``rules/semgrep.yml``)."""
    resource = resources.files(__package__).joinpath("rules", "semgrep.yml")
    # Bastion installs as a directory (never a zip), so the resource is a real file.
    return Path(str(resource))


@functools.cache
def sast_rules() -> tuple[RuleInfo, ...]:
    """Every built-in sast rule: bandit's tests, Bastion's curated semgrep rules, the taint sinks."""
    text = resources.files(__package__).joinpath("taint", "rules.yml").read_text(encoding="utf-8")
    taint = tuple(
        RuleInfo(
            id=f"sast.taint.{sink.id}",
            title=sink.title,
            severity=Severity.parse(sink.severity),
            scanner="sast",
            cwe=(sink.cwe,),
        )
        for sink in (*load_taint_rules(text).sinks, *js_rule_book().rules.sinks)
    )
    return (*bandit_rule_infos(), *semgrep_rule_infos(builtin_rules()), *taint)


class SastScanner(ScannerDefaults):
    """Static analysis of source code with bandit and semgrep.

    Not shardable: semgrep costs seconds to start, so the whole file list goes
    to one unit.
    """

    name = "sast"
    description = (
        "insecure code in Python and JavaScript/TypeScript (bandit, semgrep, taint analysis of both)"
    )
    shardable = False

    def rules(self) -> Sequence[RuleInfo]:
        """The built-in rules (semgrep rule files named in ``[scanners.sast]`` are the user's own)."""
        return sast_rules()

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Validate ``[scanners.sast]`` before any scanning; :class:`ConfigError` if invalid."""
        parse_options(options)

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        """Yield bandit, semgrep and taint findings for ``target``, duplicates merged.

        Raises :class:`ConfigError` for invalid options and :class:`ScannerUnavailable`
        when none of the selected tools is installed.
        """
        options = parse_options(context.options)
        extra_rules = (
            resolve_rule_paths(options.semgrep_rules, target.root) if Tool.SEMGREP in options.tools else []
        )
        semgrep_exe = find_semgrep() if Tool.SEMGREP in options.tools else None
        use_bandit = Tool.BANDIT in options.tools and bandit_available()
        missing = []
        if Tool.BANDIT in options.tools and not use_bandit:
            missing.append(("sast.bandit", BANDIT_MISSING))
        if Tool.SEMGREP in options.tools and semgrep_exe is None:
            missing.append(("sast.semgrep", SEMGREP_MISSING))
        use_taint = Tool.TAINT in options.tools
        if not use_bandit and semgrep_exe is None and not use_taint:
            raise ScannerUnavailable("; ".join(reason for _, reason in missing))
        for component, reason in missing:
            context.skip(component, reason)

        outcomes: list[ToolOutcome] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bastion-semgrep") as pool:
            semgrep_future: Future[ToolOutcome] | None = None
            if semgrep_exe is not None:
                try:
                    rules = load_rule_set([builtin_rules(), *extra_rules])
                except ValueError as exc:
                    raise ConfigError(f"scanners.sast.semgrep_rules: {exc}") from None
                files = select_files(target.files, rules)
                semgrep_future = pool.submit(run_semgrep, semgrep_exe, files, rules, options.semgrep_timeout)
            if use_bandit:
                outcomes.append(run_bandit(target.with_suffixes(BANDIT_SUFFIXES), options.bandit_skip))
            taint_run: TaintRun | None = None
            if use_taint:
                flagged = focus_lines(f for outcome in outcomes for f in outcome.findings)
                taint_run = run_taint(target.with_suffixes(TAINT_SUFFIXES), context, flagged)
                outcomes.append(taint_run.outcome)
            if semgrep_future is not None:
                outcomes.append(semgrep_future.result())
        for outcome in outcomes:
            for problem in outcome.problems:
                context.notice(NoticeKind.SCANNER, problem.message, problem.path)
        yield from merge_duplicates((f for outcome in outcomes for f in outcome.findings), taint_run)
