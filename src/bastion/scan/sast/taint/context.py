"""What a function's analysis may ask of the whole project: the one seam between the per-function
analysis (analyzer, expressions, sinks) and :class:`project.Project`, which drives it.

A Protocol, so the per-function modules depend on this small interface and not on the module
that imports them back.
"""

from __future__ import annotations

import ast
from typing import Protocol

from bastion.scan.sast.taint.module import FunctionInfo, ModuleInfo
from bastion.scan.sast.taint.spec import RuleBook
from bastion.scan.sast.taint.summary import Summary, TaintHit
from bastion.scan.sast.taint.values import Taint

__all__ = ["ProjectContext"]


class ProjectContext(Protocol):
    """The project-wide lookups and records a function analysis uses."""

    rules: RuleBook

    def may_read_sources(self, module: ModuleInfo, info: FunctionInfo) -> bool:
        """Whether untrusted data can enter ``info`` (worth analysing on its own)."""
        ...

    def lookup(self, qualified: str) -> tuple[ModuleInfo, FunctionInfo, bool] | None:
        """The function a qualified name resolves to, and whether ``self`` is implicit."""
        ...

    def is_dependency_function(self, module: ModuleInfo, qualname: str) -> bool:
        """Whether the function is passed to ``Depends``/``Security`` somewhere in the project."""
        ...

    def module_value(self, qualified: str) -> ast.expr | None:
        """The expression a module-level name of the project is bound to once, if any."""
        ...

    def is_class(self, qualified: str) -> bool:
        """Whether a qualified name is a class of the project."""
        ...

    def class_def(self, qualified: str) -> ast.ClassDef | None:
        """The definition of the project class ``qualified`` names, if any."""
        ...

    def summary(self, module: ModuleInfo, info: FunctionInfo) -> Summary:
        """The (cached) taint summary of a function."""
        ...

    def module_global(self, module: ModuleInfo, name: str) -> Taint:
        """The taint of a module-level name."""
        ...

    def class_attr(self, module: ModuleInfo, class_name: str, attr: str) -> Taint:
        """The taint a class attribute may hold."""
        ...

    def constructed(
        self, module: ModuleInfo, class_name: str, summary: Summary, args: dict[int, Taint]
    ) -> Taint:
        """The taint of an object built from ``args``."""
        ...

    def note_sink(self, path: str, line: int, cwe: int, safe: bool) -> None:
        """Record a sink reached, safely or not."""
        ...

    def note_param_sink(self, path: str, line: int, cwe: int, function: str) -> None:
        """Record a sink reached by a function parameter."""
        ...

    def note_call(self, module: ModuleInfo, info: FunctionInfo) -> None:
        """Record that a function was called from analysed code."""
        ...

    def note_dead(self, path: str, start: int, end: int) -> None:
        """Record lines in a branch that never runs."""
        ...

    def note_random(self, path: str, line: int) -> None:
        """Record a pseudo-random value used where security matters."""
        ...

    def note_line(self, path: str, line: int, value: Taint) -> None:
        """Record the taint seen on a line."""
        ...

    def report(self, hit: TaintHit) -> None:
        """Report a tainted sink."""
        ...
