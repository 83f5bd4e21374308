"""Statements and functions of one JavaScript/TypeScript file (the entry point is :mod:`.project`).

Each function is analysed flow-sensitively: branches are joined, a branch that returns or
throws does not reach what follows, conditions that are constants are evaluated, and guards
(``ALLOWED.includes(x)``, ``x === "a"``, ``/^\\w+$/.test(x)``) clear taint in the branch they
protect. Functions of the file get summaries (return taint and sinks in terms of parameters)
on demand; Express handlers (functions passed to ``app.get(...)`` and the like, or whose
parameter is named ``req``) are analysed with their request as the source.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field

from tree_sitter import Node

from bastion.scan.sast.taint.js.constants import UNKNOWN, const_value, literal
from bastion.scan.sast.taint.js.expressions import Expressions
from bastion.scan.sast.taint.js.parse import (
    access_path,
    children,
    text_of,
)
from bastion.scan.sast.taint.js.state import Frame, join_envs
from bastion.scan.sast.taint.summary import Summary
from bastion.scan.sast.taint.values import ALL_CWES, CLEAN, Flow, Origin, Taint, clear, join_all

__all__ = ["FileAnalysis"]

_FUNCTIONS = frozenset(
    {
        "arrow_function",
        "function_expression",
        "function",
        "generator_function",
        "function_declaration",
        "generator_function_declaration",
        "method_definition",
    }
)
_LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
_EXITS = frozenset({"return_statement", "throw_statement"})

Guards = dict[str, frozenset[int]]
_SUFFIXES = (".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx", ".mts", ".cts")
_WRAPPERS = frozenset({"String", "decodeURIComponent", "Number", "parseInt", "parseFloat"})
"""Conversions a guard may test through: ``isAlphanumeric(String(v))`` checks ``v``."""


@dataclass
class FileAnalysis:
    """The analysis of one file: its functions, their summaries, and the hits found."""

    expr: Expressions
    root: Node
    nodes: list[Node]
    """The file's declarations, imports, assignments and functions, in source order."""
    functions: dict[str, Node] = field(default_factory=dict)
    summaries: dict[int, Summary | None] = field(default_factory=dict)
    handled: set[int] = field(default_factory=set)
    dead: set[int] = field(default_factory=set)
    """Lines no run reaches: branches a constant condition skips, code after return/throw."""
    inlining: set[int] = field(default_factory=set)
    """Nested functions being analysed at a call (recursion stops there)."""
    modules: dict[str, FileAnalysis] = field(default_factory=dict)
    """Every file of the project by relative path (for ``require``/``import`` of own modules)."""

    def inline(self, name: str, values: list[Taint], frame: Frame) -> Taint | None:
        """A nested function called where it is visible: analysed with the caller's closure."""
        node = self.functions.get(name)
        if node is None or not _nested(node) or node.start_byte in self.inlining:
            return None
        self.inlining.add(node.start_byte)
        self.handled.add(node.start_byte)
        try:
            inner = Frame(dict(frame.env), frame.request_vars, True, [], frame.param_sinks)
            for index, param in enumerate(_params(node)):
                value = values[index] if index < len(values) else CLEAN
                self.expr.bind(param, value, None, inner, param)
            self.body(node, inner)
            return join_all(inner.returns)
        finally:
            self.inlining.discard(node.start_byte)

    def imported_summary(self, name: str) -> Summary | None:
        """``./helpers.build``: resolve the module next to this file, then its function."""
        spec, _, member = name.rpartition(".")
        target = self._resolve(spec)
        return target.summary_of(member) if target is not None and member else None

    def _resolve(self, spec: str) -> FileAnalysis | None:
        if not spec.startswith("."):
            return None
        base = posixpath.normpath(posixpath.join(posixpath.dirname(self.expr.path), spec))
        for candidate in (base, *(base + s for s in _SUFFIXES), *(f"{base}/index{s}" for s in _SUFFIXES)):
            found = self.modules.get(candidate)
            if found is not None:
                return found
        return None

    # -- the Functions protocol ----------------------------------------------------------
    def summary_of(self, name: str) -> Summary | None:
        """The summary of the file's function ``name``, computed once (None while recursing)."""
        node = self.functions.get(name)
        if node is None:
            return None
        key = node.start_byte
        if key not in self.summaries:
            self.summaries[key] = None
            self.summaries[key] = self._summarise(node)
        return self.summaries[key]

    def analyse_callback(self, node: Node, frame: Frame, route: bool, first: Taint = CLEAN) -> None:
        """A function written as an argument: a handler (``route``) or another callback whose
        first parameter receives ``first``."""
        if node.start_byte in self.handled:
            return
        self.handled.add(node.start_byte)
        params = _params(node)
        request = {text_of(params[0])} if route and params and params[0].type == "identifier" else set()
        inner = Frame(dict(frame.env), frame.request_vars | request | self._named_requests(params))
        for param in params:
            for key in [k for k in inner.env if k == text_of(param) or k.startswith(text_of(param) + ".")]:
                del inner.env[key]
        if route and params and params[0].type == "object_pattern":
            self._request_pattern(params[0], inner)
        elif first and params:
            self.expr.bind(params[0], first, None, inner, params[0])
        self.body(node, inner)

    def _request_pattern(self, pattern: Node, frame: Frame) -> None:
        """``({ query, body: { cmd } }, res) =>``: the names take the request's parts."""
        request = Frame({}, frozenset({"req"}))
        for part in children(pattern):
            key = part.child_by_field_name("key") if part.type == "pair_pattern" else part
            target = part.child_by_field_name("value") if part.type == "pair_pattern" else part
            if key is None or target is None:
                continue
            taint = self.expr.source_of(["req", text_of(key)], request)
            if taint is None:
                continue
            if target.type == "shorthand_property_identifier_pattern":
                frame.env[text_of(target)] = taint
            else:
                self.expr.bind(target, taint, None, frame, part)

    def handler_by_name(self, name: str) -> None:
        """``app.get("/", handler)``: analyse ``handler`` with its first parameter the request."""
        node = self.functions.get(name)
        if node is None or node.start_byte in self.handled:
            return
        self.handled.add(node.start_byte)
        params = _params(node)
        request = {text_of(params[0])} if params and params[0].type == "identifier" else set()
        self.body(node, Frame({}, frozenset(request) | self._named_requests(params)))

    # -- functions -------------------------------------------------------------------------
    def _named_requests(self, params: list[Node]) -> frozenset[str]:
        return frozenset(text_of(p) for p in params if text_of(p) in self.expr.book.request_names)

    def _summarise(self, node: Node) -> Summary:
        params = _params(node)
        env: dict[str, Taint] = {}
        for index, param in enumerate(params):
            name = access_path(param) or text_of(param)
            step = self.expr.step(param, f"parameter {name}")
            placeholder = (Flow(Origin(f"param:{name}", param=index), (step,)),)
            if param.type == "identifier":
                env[name] = placeholder
            else:
                scratch = Frame(env, frozenset())
                self.expr.bind(param, placeholder, None, scratch, param)
        frame = Frame(env, self._named_requests(params))
        self.body(node, frame)
        return Summary(returns=join_all(frame.returns), sinks=list(frame.param_sinks))

    def body(self, node: Node, frame: Frame) -> None:
        """Run a function's body (an expression body is its return value)."""
        body = node.child_by_field_name("body")
        if body is None:
            return
        if body.type == "statement_block":
            self.block(children(body), frame)
        else:
            frame.returns.append(self.expr.eval(body, frame))

    # -- statements ------------------------------------------------------------------------
    def block(self, statements: Iterable[Node], frame: Frame) -> None:
        """Statements in order; nothing after a ``return``/``throw`` is reached."""
        listed = list(statements)
        for index, statement in enumerate(listed):
            if not frame.alive:
                for skipped in listed[index:]:
                    self._mark_dead(skipped)
                return
            self.statement(statement, frame)

    def _mark_dead(self, node: Node) -> None:
        self.dead.update(range(node.start_point[0] + 1, node.end_point[0] + 2))

    def statement(self, node: Node, frame: Frame) -> None:
        """One statement."""
        kind = node.type
        ev = self.expr
        if kind in ("lexical_declaration", "variable_declaration"):
            for decl in children(node):
                if decl.type == "variable_declarator":
                    value_node = decl.child_by_field_name("value")
                    ev.bind(
                        decl.child_by_field_name("name"), ev.eval(value_node, frame), value_node, frame, decl
                    )
        elif kind == "expression_statement":
            for part in children(node):
                ev.eval(part, frame)
        elif kind in _EXITS:
            value = children(node)
            taint = ev.eval(value[0], frame) if value else CLEAN
            if kind == "return_statement":
                frame.returns.append(taint)
            frame.alive = False
        elif kind == "statement_block":
            self.block(children(node), frame)
        elif kind == "if_statement":
            self._if(node, frame)
        elif kind in _LOOPS:
            self._loop(node, frame)
        elif kind == "try_statement":
            self._try(node, frame)
        elif kind == "switch_statement":
            self._switch(node, frame)
        elif kind in ("export_statement", "labeled_statement"):
            self.block((c for c in children(node) if c.type not in ("string", "statement_identifier")), frame)

    def _if(self, node: Node, frame: Frame) -> None:
        cond = node.child_by_field_name("condition")
        yes = node.child_by_field_name("consequence")
        alt = node.child_by_field_name("alternative")
        no = children(alt)[0] if alt is not None and children(alt) else None
        value = const_value(cond, self.expr.consts)
        if value is not UNKNOWN:
            chosen, skipped = (yes, no) if value else (no, yes)
            if skipped is not None:
                self._mark_dead(skipped)
            if chosen is not None:
                self.statement(chosen, frame)
            return
        self.expr.eval(cond, frame)
        when_true, when_false = self.guards(cond, frame)
        branches = []
        for branch, guards in ((yes, when_true), (no, when_false)):
            forked = frame.fork()
            for key, cwes in guards.items():
                forked.env[key] = clear(self.expr.read(key, node, forked), cwes)
            if branch is not None:
                self.statement(branch, forked)
            branches.append(forked)
        frame.env, frame.alive = join_envs(branches)

    def guards(self, cond: Node | None, frame: Frame) -> tuple[Guards, Guards]:
        """Access paths cleared when ``cond`` is true, and when it is false."""
        if cond is None:
            return {}, {}
        kind = cond.type
        if kind == "parenthesized_expression":
            inner = children(cond)
            return self.guards(inner[-1], frame) if inner else ({}, {})
        if kind == "unary_expression" and text_of(cond.child_by_field_name("operator")) == "!":
            yes, no = self.guards(cond.child_by_field_name("argument"), frame)
            return no, yes
        if kind == "binary_expression":
            return self._binary_guard(cond, frame)
        if kind == "call_expression":
            return self._call_guard(cond, frame), {}
        return {}, {}

    def _binary_guard(self, cond: Node, frame: Frame) -> tuple[Guards, Guards]:
        op = text_of(cond.child_by_field_name("operator"))
        left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
        if op in ("&&", "||"):
            (lt, lf), (rt, rf) = self.guards(left, frame), self.guards(right, frame)
            if op == "&&":
                return {**lt, **rt}, {k: lf[k] & rf[k] for k in lf.keys() & rf.keys()}
            return {k: lt[k] & rt[k] for k in lt.keys() & rt.keys()}, {**lf, **rf}
        if op not in ("===", "==", "!==", "!=") or left is None or right is None:
            return {}, {}
        for var, other in ((left, right), (right, left)):
            path = access_path(var)
            if path is not None and (
                literal(other) not in (UNKNOWN, None) or text_of(other) in self.expr.consts
            ):
                cleared = {path: frozenset({ALL_CWES})}
                return (cleared, {}) if op in ("===", "==") else ({}, cleared)
        return {}, {}

    def _call_guard(self, cond: Node, frame: Frame) -> Guards:
        func = cond.child_by_field_name("function")
        args_node = cond.child_by_field_name("arguments")
        args = children(args_node) if args_node is not None else []
        if func is None or not args:
            return {}
        path = access_path(_unwrap(args[0]))
        if path is None:
            return {}
        cwes = self.expr.book.guard_calls.get(self.expr.qualified(func))
        if cwes is None and func.type == "member_expression":
            method = text_of(func.child_by_field_name("property"))
            receiver = func.child_by_field_name("object")
            if method in self.expr.book.guard_methods and not self.expr.eval(receiver, frame):
                cwes = self.expr.book.guard_methods[method]
        return {path: cwes} if cwes is not None else {}

    def _loop(self, node: Node, frame: Frame) -> None:
        body = node.child_by_field_name("body")
        cond = node.child_by_field_name("condition")
        if node.type == "while_statement" and const_value(cond, self.expr.consts) is False:
            return
        if node.type == "for_in_statement":
            right = node.child_by_field_name("right")
            self.expr.bind(node.child_by_field_name("left"), self.expr.eval(right, frame), right, frame, node)
        elif node.type == "for_statement":
            init = node.child_by_field_name("initializer")
            if init is not None:
                self.statement(init, frame)
        for _ in range(2):
            forked = frame.fork()
            if body is not None:
                self.statement(body, forked)
            forked.alive = True
            frame.env, _alive = join_envs([frame, forked])

    def _try(self, node: Node, frame: Frame) -> None:
        before = frame.fork()
        body = node.child_by_field_name("body")
        if body is not None:
            self.statement(body, frame)
        handler = node.child_by_field_name("handler")
        if handler is not None:
            caught = before.fork()
            caught.env, _alive = join_envs([before, Frame(dict(frame.env), frame.request_vars)])
            handler_body = handler.child_by_field_name("body")
            if handler_body is not None:
                self.statement(handler_body, caught)
            frame.env, frame.alive = join_envs([frame, caught])
        final = node.child_by_field_name("finalizer")
        if final is not None:
            alive = frame.alive
            frame.alive = True
            self.block(children(final), frame)
            frame.alive = frame.alive and alive

    def _switch(self, node: Node, frame: Frame) -> None:
        self.expr.eval(node.child_by_field_name("value"), frame)
        body = node.child_by_field_name("body")
        branches = [frame.fork()]
        for case in children(body) if body is not None else []:
            forked = frame.fork()
            self.block((c for c in children(case) if c != case.child_by_field_name("value")), forked)
            forked.alive = True
            branches.append(forked)
        frame.env, frame.alive = join_envs(branches)


def _nested(node: Node) -> bool:
    """True when ``node`` (a function) is declared inside another function."""
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTIONS:
            return True
        parent = parent.parent
    return False


def _unwrap(node: Node) -> Node:
    """``String(v)`` -> ``v`` (a guard on a conversion checks the value itself)."""
    for _ in range(8):
        if node.type != "call_expression" or text_of(node.child_by_field_name("function")) not in _WRAPPERS:
            break
        inner = node.child_by_field_name("arguments")
        args = children(inner) if inner is not None else []
        if not args:
            break
        node = args[0]
    return node


def _params(node: Node) -> list[Node]:
    params = node.child_by_field_name("parameters")
    if params is None:
        single = node.child_by_field_name("parameter")
        return [single] if single is not None else []
    out = []
    for param in children(params):
        inner = (
            param.child_by_field_name("pattern")
            if param.type in ("required_parameter", "optional_parameter")
            else param
        )
        out.append(inner or param)
    return out
