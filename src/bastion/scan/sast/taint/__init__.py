"""Bastion's taint analysis for Python: untrusted input followed to dangerous calls.

Sources, sinks, sanitizers and guards are data (``rules.yml``, schema in
:mod:`~bastion.scan.sast.taint.spec`). The analysis is Bastion's own dataflow over
:mod:`ast`: per-function, flow-sensitive, with summaries across functions and modules
(:mod:`~bastion.scan.sast.taint.project`). :func:`analyze` is the entry point.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bastion.scan.sast.taint.module import ModuleInfo, ParseError, parse_module
from bastion.scan.sast.taint.project import Project
from bastion.scan.sast.taint.spec import RuleBook, rule_book
from bastion.scan.sast.taint.summary import TaintHit

__all__ = ["TaintResult", "analyze"]


@dataclass
class TaintResult:
    """What one analysis produced: hits, and (path, reason) for files or functions left out."""

    hits: list[TaintHit] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def analyze(sources: Iterable[tuple[str, str]], rules: RuleBook | None = None) -> TaintResult:
    """Analyse ``(relpath, text)`` pairs of Python files together (calls across them resolve)."""
    book = rules or rule_book()
    result = TaintResult()
    modules: list[ModuleInfo] = []
    for relpath, text in sources:
        try:
            modules.append(parse_module(relpath, text))
        except ParseError as exc:
            result.problems.append((relpath, str(exc)))
    project = Project(book, modules)
    result.hits = sorted(project.run(), key=lambda h: (h.sink.path, h.sink.line, h.rule.cwe))
    result.problems.extend(project.failures)
    return result
