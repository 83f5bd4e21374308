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
    analysed: set[str] = field(default_factory=set)
    """Relative paths of the files that were parsed and analysed."""
    project: Project | None = None
    """The analysis itself, for :meth:`Project.proven_safe` questions."""
    dead_lines: dict[str, set[int]] = field(default_factory=dict)
    """Lines no run reaches, by path, found without a project (the JavaScript analysis)."""
    proven: set[tuple[str, int, int]] = field(default_factory=set)
    """(path, line, CWE) of sink calls proven safe without a project (the JavaScript analysis)."""

    def dead(self, path: str, line: int) -> bool:
        """True when ``path:line`` sits in a branch whose condition is a constant that skips it."""
        if line in self.dead_lines.get(path, ()):
            return True
        return self.project is not None and line in self.project.dead_lines.get(path, ())

    def proven_safe(self, path: str, line: int, cwe: int) -> bool:
        """True when the analysis showed nothing dangerous reaches ``path:line`` for ``cwe``."""
        if (path, line, cwe) in self.proven:
            return True
        return self.project is not None and self.project.proven_safe(path, line, cwe)


def analyze(
    sources: Iterable[tuple[str, str]],
    rules: RuleBook | None = None,
    focus: Iterable[tuple[str, int]] = (),
) -> TaintResult:
    """Analyse ``(relpath, text)`` pairs of Python files together (calls across them resolve).

    ``focus`` lines (flagged by another tool) get their enclosing functions analysed even when
    no source is in sight, so :meth:`TaintResult.proven_safe` can answer for them.
    """
    book = rules or rule_book()
    result = TaintResult()
    modules: list[ModuleInfo] = []
    for relpath, text in sources:
        try:
            modules.append(parse_module(relpath, text))
        except ParseError as exc:
            result.problems.append((relpath, str(exc)))
    project = Project(book, modules)
    project.focus = set(focus)
    result.project = project
    result.analysed = {m.relpath for m in modules}
    result.hits = sorted(project.run(), key=lambda h: (h.sink.path, h.sink.line, h.rule.cwe))
    result.problems.extend(project.failures)
    return result
