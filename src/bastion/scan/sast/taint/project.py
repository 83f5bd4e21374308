"""A set of modules analysed together: function lookup across modules, summaries on demand,
class attributes, and the hits found.

Summaries are computed when first needed (a call site asks for its callee's); a call back
into a function still being analysed (recursion, cyclic imports) gets the conservative
summary "every parameter flows to the return value, no sink".
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from bastion.scan.sast.taint import shapes
from bastion.scan.sast.taint.analyzer import FunctionAnalysis
from bastion.scan.sast.taint.module import FunctionInfo, ModuleInfo
from bastion.scan.sast.taint.spec import RuleBook
from bastion.scan.sast.taint.summary import Summary, TaintHit
from bastion.scan.sast.taint.values import (
    ALL_CWES,
    CLEAN,
    WEAK_RANDOM_CWE,
    Flow,
    Origin,
    Step,
    Taint,
    join,
    join_all,
)

__all__ = ["Project"]

MAX_PASSES = 3
"""Whole-project passes while class attributes keep gaining taint."""


class Project:
    """Every module of one scan, and what the analysis learnt about them."""

    def __init__(self, rules: RuleBook, modules: Iterable[ModuleInfo]) -> None:
        self.rules = rules
        self.modules: list[ModuleInfo] = list(modules)
        self._by_name: dict[str, ModuleInfo] = {}
        for module in self.modules:
            for name in _names(module):
                self._by_name.setdefault(name, module)
        self._summaries: dict[tuple[str, str], Summary] = {}
        self._running: set[tuple[str, str]] = set()
        self._globals: dict[str, dict[str, Taint]] = {}
        self._class_attrs: dict[tuple[str, str], dict[str, Taint]] = {}
        self._changed = False
        self.hits: dict[tuple[str, int, int], TaintHit] = {}
        self.safe_sinks: set[tuple[str, int, int]] = set()
        self.unsafe_sinks: set[tuple[str, int, int]] = set()
        self.clean_lines: set[tuple[str, int]] = set()
        self.tainted_lines: set[tuple[str, int]] = set()
        self.dead_lines: dict[str, set[int]] = {}
        self.param_sinks: dict[tuple[str, int, int], str] = {}
        self.called: set[tuple[str, str]] = set()
        self.random_sites: set[tuple[str, int]] = set()
        self.focus: set[tuple[str, int]] = set()
        """Lines another tool flagged: their functions are analysed even if no source is in sight."""
        checks = rules.rules.api_checks
        self._source_words = (
            {(name.split(".")[1] if "." in name else name) for name in rules.source_names}
            | set(rules.request_names)
            | set(checks.cookie_methods)
            | {name.split(".")[-1] for name in (*checks.weak_hashes, *checks.weak_random) if "." in name}
        )
        self._entries: dict[tuple[str, str], bool] = {}
        self._patterns: dict[str, re.Pattern[str]] = {}
        self.failures: list[tuple[str, str]] = []
        """(relpath, reason) of functions that could not be analysed."""
        self._dependencies: set[str] | None = None

    def is_dependency_function(self, module: ModuleInfo, qualname: str) -> bool:
        """True when ``module.qualname`` is named in some ``Depends(f)``/``Security(f)``: FastAPI
        fills its parameters from the request like a route's."""
        if self._dependencies is None:
            self._dependencies = set()
            for each in self.modules:
                if any("Depends(" in line or "Security(" in line for line in each.lines):
                    self._dependencies.update(shapes.dependency_targets(each))
        return f"{module.name}.{qualname}" in self._dependencies

    def run(self) -> list[TaintHit]:
        """Analyse every module body and function; the hits, one per (file, line, CWE)."""
        for _ in range(MAX_PASSES):
            self._changed = False
            self._summaries.clear()
            self._globals.clear()
            self._entries.clear()
            for module in self.modules:
                pattern = self._patterns.setdefault(module.relpath, self._entry_pattern(module))
                if pattern.search("\n".join(module.lines)) is not None:
                    self.module_globals(module)
                for info in module.functions.values():
                    if self._is_entry(module, info, pattern):
                        self.summary(module, info)
            if not self._changed:
                break
        return list(self.hits.values())

    def _entry_pattern(self, module: ModuleInfo) -> re.Pattern[str]:
        """Words whose presence lets a function read untrusted data: source roots, request
        parameter names, and local aliases of sources (``from flask import request as rq``)."""
        words = set(self._source_words)
        for local, qualified in module.aliases.items():
            if self.rules.source_label(qualified) is not None or any(
                name.startswith(qualified + ".") for name in self.rules.source_names
            ):
                words.add(local)
        return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\b")

    def _is_entry(self, module: ModuleInfo, info: FunctionInfo, pattern: re.Pattern[str]) -> bool:
        """Whether analysing ``info`` on its own can find anything: it may read a source, is a
        web handler, or reads ``self`` attributes known to hold untrusted data. Other functions
        are analysed only when a caller needs their summary."""
        key = (module.relpath, info.qualname)
        known = self._entries.get(key)
        if known is None:
            known = self._decides(module, info, pattern)
            self._entries[key] = known
        return known or self._reads_tainted_globals(module, info)

    def _reads_tainted_globals(self, module: ModuleInfo, info: FunctionInfo) -> bool:
        """True when the function's text names a module-level variable holding untrusted data
        (not cached: the module body may still be under analysis when first asked)."""
        tainted = [name for name, taint in self._globals.get(module.relpath, {}).items() if taint]
        if not tainted:
            return False
        node = info.node
        text = "\n".join(module.lines[node.lineno - 1 : node.end_lineno or node.lineno])
        return re.search(r"\b(?:" + "|".join(map(re.escape, tainted)) + r")\b", text) is not None

    def may_read_sources(self, module: ModuleInfo, info: FunctionInfo) -> bool:
        """True when ``info`` may produce untrusted data without being given any."""
        return self._is_entry(
            module, info, self._patterns.setdefault(module.relpath, self._entry_pattern(module))
        )

    def _decides(self, module: ModuleInfo, info: FunctionInfo, pattern: re.Pattern[str]) -> bool:
        node = info.node
        for dec in node.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            last = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if last in self.rules.route_decorators:
                return True
        if info.class_name and self._class_attrs.get((module.relpath, info.class_name)):
            return True
        if self.focus:
            end_line = node.end_lineno or node.lineno
            if any(path == module.relpath and node.lineno <= line <= end_line for path, line in self.focus):
                return True
        end = node.end_lineno or node.lineno
        text = "\n".join(module.lines[node.lineno - 1 : end])
        return pattern.search(text) is not None

    def lookup(self, qualified: str) -> tuple[ModuleInfo, FunctionInfo, bool] | None:
        """The function ``qualified`` names (``app.utils.helper``, ``app.models.User``), if analysed.

        A class resolves to its ``__init__``; the flag says ``self`` is passed implicitly.
        """
        parts = qualified.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = self._by_name.get(".".join(parts[:cut]))
            if module is None:
                continue
            local = ".".join(parts[cut:])
            info = module.functions.get(local)
            if info is not None:
                return module, info, False
            if local in module.classes:
                init = module.functions.get(f"{local}.__init__")
                return (module, init, True) if init is not None else None
            return None
        return None

    def class_def(self, qualified: str) -> ast.ClassDef | None:
        """The definition of the class ``qualified`` names in an analysed module, if any."""
        module_name, _, local = qualified.rpartition(".")
        module = self._by_name.get(module_name)
        return module.classes.get(local) if module is not None else None

    def module_value(self, qualified: str) -> ast.expr | None:
        """The expression a module-level name of an analysed module is bound to once, if any."""
        module_name, _, local = qualified.rpartition(".")
        module = self._by_name.get(module_name)
        return module.values.get(local) if module is not None else None

    def is_class(self, qualified: str) -> bool:
        """True when ``qualified`` names a class of an analysed module."""
        module_name, _, local = qualified.rpartition(".")
        module = self._by_name.get(module_name)
        return module is not None and local in module.classes

    def summary(self, module: ModuleInfo, info: FunctionInfo) -> Summary:
        """The summary of ``info``, analysing it now if needed."""
        key = (module.relpath, info.qualname)
        cached = self._summaries.get(key)
        if cached is not None:
            return cached
        if key in self._running:
            return _conservative(info)
        self._running.add(key)
        analysis = FunctionAnalysis(self, module, info)
        try:
            analysis.run()
        except RecursionError:
            self.failures.append((module.relpath, f"{info.qualname}: nested too deeply to analyse"))
        finally:
            self._running.discard(key)
        self._summaries[key] = analysis.summary
        self.after_function(module, info, analysis.summary)
        return analysis.summary

    def module_globals(self, module: ModuleInfo) -> dict[str, Taint]:
        """Taint of module-level names after the module body ran."""
        cached = self._globals.get(module.relpath)
        if cached is not None:
            return cached
        self._globals[module.relpath] = {}
        before = set(self._summaries)
        analysis = FunctionAnalysis(self, module, None)
        try:
            analysis.run()
        except RecursionError:
            self.failures.append((module.relpath, "module body nested too deeply to analyse"))
        self._globals[module.relpath] = dict(analysis.summary.self_attrs)
        # summaries made while the module body ran saw its globals half-built: make them again
        for key in set(self._summaries) - before:
            if key[0] == module.relpath:
                del self._summaries[key]
        return self._globals[module.relpath]

    def module_global(self, module: ModuleInfo, name: str) -> Taint:
        """Taint of one module-level name (clean when unknown)."""
        return self.module_globals(module).get(name, CLEAN)

    def class_attr(self, module: ModuleInfo, class_name: str, attr: str) -> Taint:
        """Taint any method (or a constructor call) stored in ``self.attr`` of the class."""
        attrs = self._class_attrs.get((module.relpath, class_name))
        return attrs.get(attr, CLEAN) if attrs else CLEAN

    def constructed(
        self, module: ModuleInfo, class_name: str, summary: Summary, args: dict[int, Taint]
    ) -> Taint:
        """Record the attributes a constructor call stores; the taint of the new object."""
        out: list[Taint] = []
        for attr, flows in summary.self_attrs.items():
            real: list[Flow] = []
            for flow in flows:
                if flow.origin.param < 0:
                    real.append(flow)
                else:
                    real.extend(
                        Flow(f.origin, (*f.steps, *flow.steps[1:]), f.cleared | flow.cleared)
                        for f in args.get(flow.origin.param, CLEAN)
                    )
            if real:
                self.add_class_attr(module, class_name, attr, tuple(real))
                out.append(tuple(real))
        return join_all(out)

    def add_class_attr(self, module: ModuleInfo, class_name: str, attr: str, taint: Taint) -> None:
        """Join real-source taint into ``self.attr`` of a class (flow-insensitive)."""
        attrs = self._class_attrs.setdefault((module.relpath, class_name), {})
        before = attrs.get(attr, CLEAN)
        after = join(before, taint)
        if after != before:
            attrs[attr] = after
            self._changed = True

    def note_sink(self, path: str, line: int, cwe: int, safe: bool) -> None:
        """Record that a sink call was analysed, and whether anything dangerous reached it."""
        (self.safe_sinks if safe else self.unsafe_sinks).add((path, line, cwe))

    def note_param_sink(self, path: str, line: int, cwe: int, function: str) -> None:
        """A sink only the function's own parameters reach: safe if every caller seen passes safe values."""
        self.param_sinks[(path, line, cwe)] = function

    def note_call(self, module: ModuleInfo, info: FunctionInfo) -> None:
        """Record that a call to ``info`` was seen in the analysed code."""
        self.called.add((module.relpath, info.qualname))

    def note_dead(self, path: str, start: int, end: int) -> None:
        """Record lines that can never run (a branch whose condition is a constant)."""
        self.dead_lines.setdefault(path, set()).update(range(start, end + 1))

    def note_random(self, path: str, line: int) -> None:
        """Record a predictable random number produced at ``path:line``."""
        self.random_sites.add((path, line))

    def note_line(self, path: str, line: int, value: Taint) -> None:
        """Record the taint of a statement's value (a string built for a query, say); a value
        sanitised for every weakness (an int cast) counts as clean."""
        tainted = any(ALL_CWES not in flow.cleared for flow in value)
        (self.tainted_lines if tainted else self.clean_lines).add((path, line))

    def proven_safe(self, path: str, line: int, cwe: int) -> bool:
        """True when every analysis of the call at ``path:line`` for ``cwe`` found nothing dangerous
        (constants, sanitised or server-side values), or, on a line with no such call, every
        analysis computed a clean value (a query string built from constants)."""
        key = (path, line, cwe)
        if line in self.dead_lines.get(path, ()):
            return True
        if cwe == WEAK_RANDOM_CWE and (path, line) in self.random_sites:
            return (path, line) not in self._random_used()
        if key in self.unsafe_sinks:
            return False
        if key in self.param_sinks:
            # reached only through parameters: safe when callers exist and none passed untrusted data
            return (path, self.param_sinks[key]) in self.called and key not in self.hits
        if key in self.safe_sinks:
            return True
        if (path, line) in self.clean_lines and (path, line) not in self.tainted_lines:
            return True
        # a query string built from input on a line that is not itself a sink: harmless when every
        # sink of that weakness in the file was analysed and proven safe
        analysed = (path, line) in self.clean_lines or (path, line) in self.tainted_lines
        sinks = [k for k in self.safe_sinks if k[0] == path and k[2] == cwe]
        unsafe = any(k[0] == path and k[2] == cwe for k in self.unsafe_sinks) or any(
            k[0] == path and k[2] == cwe and not self.proven_safe(*k) for k in self.param_sinks
        )
        return analysed and not unsafe and (bool(sinks) or bool(self.dead_lines.get(path)))

    def _random_used(self) -> set[tuple[str, int]]:
        """Where the random numbers that reached a CWE-330 sink were produced."""
        return {
            (hit.flow.steps[0].path, hit.flow.steps[0].line)
            for hit in self.hits.values()
            if hit.rule.cwe == WEAK_RANDOM_CWE and hit.flow.steps
        }

    def report(self, hit: TaintHit) -> None:
        """Keep the first hit per sink location and CWE."""
        key = (hit.sink.path, hit.sink.line, hit.rule.cwe)
        self.hits.setdefault(key, hit)

    def after_function(self, module: ModuleInfo, info: FunctionInfo, summary: Summary) -> None:
        """Methods publish the real-source taint they store in ``self`` attributes."""
        if info.class_name is None:
            return
        for attr, taint in summary.self_attrs.items():
            real = tuple(f for f in taint if f.origin.param < 0)
            if real:
                self.add_class_attr(module, info.class_name, attr, real)


def _names(module: ModuleInfo) -> list[str]:
    from bastion.scan.sast.taint.module import module_names

    return module_names(module.relpath)


def _conservative(info: FunctionInfo) -> Summary:
    node = info.node
    params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    flows = tuple(Flow(Origin(f"param:{a.arg}", i), (Step("", a.lineno, ""),)) for i, a in enumerate(params))
    return Summary(returns=flows[:3])


_ = ast
