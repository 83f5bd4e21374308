"""Taint of JavaScript expressions: sources, propagation, sanitizers, and sinks at calls.

:class:`Expressions` evaluates one expression in a :class:`~.state.Frame`. Calls are where the
work is: a sink's dangerous arguments are checked (findings, or parameter sinks for a
function's summary), sanitizers clear taint, known functions apply their summaries, and any
other call passes the taint of its receiver and arguments on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from tree_sitter import Node

from bastion.scan.sast.taint.js.classes import constructor_fields
from bastion.scan.sast.taint.js.constants import UNKNOWN, const_value
from bastion.scan.sast.taint.js.parse import access_path, children, required_module, text_of, walk
from bastion.scan.sast.taint.js.sinks import SinkCheck, strips_to_allow_list
from bastion.scan.sast.taint.js.spec import JsRuleBook
from bastion.scan.sast.taint.js.state import Frame
from bastion.scan.sast.taint.summary import Summary
from bastion.scan.sast.taint.values import (
    ALL_CWES,
    CLEAN,
    WEAK_RANDOM,
    Flow,
    Origin,
    Step,
    Taint,
    add_step,
    clear,
    join,
    join_all,
)

__all__ = ["MAX_DEPTH", "Expressions", "Functions"]

MAX_DEPTH = 150
"""Expression nesting evaluated recursively; deeper parts are joined flat (see ``_flat``)."""


class Functions(Protocol):
    """What expressions need from the statement analysis: the file's functions."""

    def summary_of(self, name: str) -> Summary | None:
        """The summary of the file's function ``name`` (None when unknown)."""
        ...

    def analyse_callback(self, node: Node, frame: Frame, route: bool, first: Taint = CLEAN) -> None:
        """Analyse a function passed as an argument (an Express handler when ``route``; its
        first parameter holds ``first``, the data of ``p.then(cb)`` or ``list.map(cb)``)."""
        ...

    def handler_by_name(self, name: str) -> None:
        """Analyse the named function as an Express handler."""
        ...

    def imported_summary(self, name: str) -> Summary | None:
        """``./helpers.build``: the summary of ``build`` in the project's module ``./helpers``."""
        ...

    def inline(self, name: str, values: list[Taint], frame: Frame) -> Taint | None:
        """A function declared inside another, called there: its body with the caller's
        variables (closures) and these arguments; None for other functions."""
        ...


_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function", "generator_function"})
_TRANSPARENT = frozenset(
    {
        "parenthesized_expression",
        "await_expression",
        "as_expression",
        "non_null_expression",
        "satisfies_expression",
        "type_assertion",
        "spread_element",
        "yield_expression",
    }
)
_ARITHMETIC = frozenset({"-", "*", "/", "%", "**", "|", "&", "^", "<<", ">>", ">>>"})
_CLEAN_OPS = frozenset(
    {
        "===",
        "!==",
        "==",
        "!=",
        "<",
        ">",
        "<=",
        ">=",
        "instanceof",
        "in",
        "-",
        "*",
        "/",
        "%",
        "**",
        "|",
        "&",
        "^",
        "<<",
        ">>",
        ">>>",
    }
)


@dataclass
class Expressions:
    """Expression evaluation for one file; the statement analysis extends it."""

    path: str
    book: JsRuleBook
    aliases: Mapping[str, str]
    consts: dict[str, object] = field(default_factory=dict)

    functions: Functions | None = None
    classes: dict[str, Node] = field(default_factory=dict)
    """The file's classes by name (their bodies), for fields of objects built with ``new``."""
    sinks: SinkCheck = field(init=False)

    def __post_init__(self) -> None:
        """The file's sink checker (and its findings)."""
        self.sinks = SinkCheck(self.book)

    depth: int = 0
    """The file's functions (summaries, handlers); set by the statement analysis."""

    # -- values --------------------------------------------------------------------------
    def step(self, node: Node, note: str = "") -> Step:
        """A trace step at ``node``'s line."""
        return Step(self.path, node.start_point[0] + 1, (note or text_of(node)).splitlines()[0][:120])

    def qualified(self, node: Node | None) -> str:
        """The callee's name with ``require``/``import`` aliases resolved (``child_process.exec``)."""
        if node is None:
            return ""
        module = required_module(node)
        if module is not None:
            return module
        if node.type == "identifier":
            name = text_of(node)
            return self.aliases.get(name, name)
        if node.type == "member_expression":
            base = self.qualified(node.child_by_field_name("object"))
            return f"{base}.{text_of(node.child_by_field_name('property'))}" if base else ""
        return ""

    def read(self, path: str, node: Node, frame: Frame) -> Taint:
        """Taint of an access path: the longest known prefix, else a source, else clean."""
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            key = ".".join(parts[:end])
            if key in frame.env:
                return frame.env[key]
            source = self.source_of(parts[:end], frame)
            if source is not None:
                return add_step(source, self.step(node, f"source {text_of(node)}"))
        return CLEAN

    def source_of(self, parts: list[str], frame: Frame) -> Taint | None:
        """A fresh flow when ``parts`` names a source (``req.query``, ``process.argv``)."""
        root = parts[0]
        if root in frame.request_vars and len(parts) > 1:
            key = f"req.{parts[1]}"
        elif root == "process" and len(parts) > 1:
            key = f"process.{parts[1]}"
        else:
            return None
        rule = self.book.sources.get(key)
        if rule is None:
            return None
        return (Flow(Origin(f"{key} ({rule.label})"), ()),)

    def eval(self, node: Node | None, frame: Frame) -> Taint:
        """The taint of ``node``'s value; nesting deeper than ``MAX_DEPTH`` is read flat."""
        if node is None:
            return CLEAN
        if self.depth >= MAX_DEPTH:
            return self._flat(node, frame)
        self.depth += 1
        try:
            return self._eval(node, frame)
        finally:
            self.depth -= 1

    def _flat(self, node: Node, frame: Frame) -> Taint:
        """Every name and member read under ``node`` joined: no recursion, no precision."""
        reads = (n for n in walk(node) if n.type in ("identifier", "member_expression"))
        return join_all(self.read(path, n, frame) for n in reads if (path := access_path(n)) is not None)

    def _eval(self, node: Node, frame: Frame) -> Taint:
        kind = node.type
        if kind in _TRANSPARENT:
            parts = children(node)
            return self.eval(parts[0], frame) if parts else CLEAN
        if kind in ("identifier", "member_expression", "subscript_expression"):
            return self._access(node, frame)
        if kind == "call_expression":
            return self.call(node, frame)
        if kind == "new_expression":
            return self.call(node, frame)
        if kind == "template_string":
            return join_all(self.eval(c, frame) for c in children(node) if c.type == "template_substitution")
        if kind == "template_substitution":
            return join_all(self.eval(c, frame) for c in children(node))
        if kind == "binary_expression":
            return self._binary(node, frame)
        if kind == "ternary_expression":
            return self._ternary(node, frame)
        if kind in ("object", "array", "sequence_expression"):
            return join_all(self.eval(c, frame) for c in children(node))
        if kind == "pair":
            return self.eval(node.child_by_field_name("value"), frame)
        if kind in ("assignment_expression", "augmented_assignment_expression"):
            return self.assign_expression(node, frame)
        if kind == "unary_expression":
            op = text_of(node.child_by_field_name("operator"))
            value = self.eval(node.child_by_field_name("argument"), frame)
            return value if op not in ("!", "typeof", "+", "-", "~", "void", "delete") else CLEAN
        if kind in _FUNCTIONS:
            return CLEAN
        return CLEAN

    def _access(self, node: Node, frame: Frame) -> Taint:
        path = access_path(node)
        if path is not None:
            return self.read(path, node, frame)
        if node.type == "member_expression":
            if text_of(node.child_by_field_name("property")) in self.book.clean_results:
                return CLEAN
            return self.eval(node.child_by_field_name("object"), frame)
        obj = self.eval(node.child_by_field_name("object"), frame)
        self.eval(node.child_by_field_name("index"), frame)
        return obj

    def _binary(self, node: Node, frame: Frame) -> Taint:
        op = text_of(node.child_by_field_name("operator"))
        left = self.eval(node.child_by_field_name("left"), frame)
        right = self.eval(node.child_by_field_name("right"), frame)
        if op in _ARITHMETIC:  # arithmetic on a predictable number stays predictable
            return tuple(f for f in join(left, right) if f.origin.kind == WEAK_RANDOM)
        return CLEAN if op in _CLEAN_OPS else join(left, right)

    def _ternary(self, node: Node, frame: Frame) -> Taint:
        cond = const_value(node.child_by_field_name("condition"), self.consts)
        yes, no = node.child_by_field_name("consequence"), node.child_by_field_name("alternative")
        if cond is not UNKNOWN:
            return self.eval(yes if cond else no, frame)
        return join(self.eval(yes, frame), self.eval(no, frame))

    def assign_expression(self, node: Node, frame: Frame) -> Taint:
        """``x = v`` / ``x += v``: bind the target, return the new value's taint."""
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        value = self.eval(right, frame)
        if node.type == "augmented_assignment_expression":
            value = join(self.eval(left, frame), value)
        self.bind(left, value, right, frame, node)
        return value

    def bind(
        self, target: Node | None, value: Taint, value_node: Node | None, frame: Frame, at: Node
    ) -> None:
        """Give ``target`` (a name, member, or destructuring pattern) the value's taint."""
        if target is None:
            return
        kind = target.type
        if kind in ("object_pattern", "array_pattern"):
            self._destructure(target, value, value_node, frame, at)
            return
        if kind == "assignment_pattern":
            default = self.eval(target.child_by_field_name("right"), frame)
            self.bind(target.child_by_field_name("left"), join(value, default), value_node, frame, at)
            return
        if kind in ("rest_pattern", "required_parameter", "optional_parameter"):
            inner = target.child_by_field_name("pattern") or (
                children(target)[0] if children(target) else None
            )
            self.bind(inner, value, value_node, frame, at)
            return
        path = access_path(target)
        if path is None:
            return
        if value_node is not None and value_node.type == "identifier" and "." not in path:
            # `const request = req`: the alias holds the Express request too
            if text_of(value_node) in frame.request_vars:
                frame.request_vars = frame.request_vars | {path}
            elif path in frame.request_vars:
                frame.request_vars = frame.request_vars - {path}
        tainted = (
            add_step(value, self.step(at, f"{path} = {text_of(value_node)}"))
            if value_node is not None
            else value
        )
        prefix = path + "."
        for key in [k for k in frame.env if k.startswith(prefix)]:
            del frame.env[key]
        if "." in path and path.split(".", 1)[0] in frame.env:
            # A field write: the object now also carries the field's taint.
            root = path.split(".", 1)[0]
            frame.env[root] = join(frame.env[root], tainted)
        frame.env[path] = tainted
        self._fields(path, value_node, frame, at)
        self.sinks.check_store(path, tainted, self.step(at), frame)

    def _fields(self, path: str, value_node: Node | None, frame: Frame, at: Node) -> None:
        while value_node is not None and value_node.type in _TRANSPARENT:
            inner = children(value_node)
            value_node = inner[0] if inner else None
        if value_node is not None and value_node.type == "new_expression":
            self._new_fields(path, value_node, frame, at)
            return
        if value_node is None or value_node.type not in ("object", "array"):
            return
        for index, item in enumerate(children(value_node)):
            if value_node.type == "array":
                self.bind_key(f"{path}.{index}", item, frame, at)
            elif item.type == "pair":
                key = text_of(item.child_by_field_name("key")).strip("'\"")
                self.bind_key(f"{path}.{key}", item.child_by_field_name("value"), frame, at)
            elif item.type == "shorthand_property_identifier":
                self.bind_key(f"{path}.{text_of(item)}", item, frame, at)

    def _new_fields(self, path: str, node: Node, frame: Frame, at: Node) -> None:
        """``x = new Box(raw)`` of a class of this file: each known field its own taint."""
        ctor = node.child_by_field_name("constructor")
        body = self.classes.get(text_of(ctor)) if ctor is not None and ctor.type == "identifier" else None
        if body is None:
            return
        args_node = node.child_by_field_name("arguments")
        args = children(args_node) if args_node is not None else []
        for name, index in constructor_fields(body).items():
            value = self.eval(args[index], frame) if index is not None and index < len(args) else CLEAN
            frame.env[f"{path}.{name}"] = add_step(value, self.step(at)) if value else CLEAN

    def bind_key(self, key: str, node: Node | None, frame: Frame, at: Node) -> None:
        """One field of an object or array literal."""
        value = self.eval(node, frame)
        frame.env[key] = add_step(value, self.step(at)) if value else CLEAN
        self._fields(key, node, frame, at)

    def _destructure(
        self, pattern: Node, value: Taint, value_node: Node | None, frame: Frame, at: Node
    ) -> None:
        base = access_path(value_node) if value_node is not None else None
        temp = None
        if base is None and value_node is not None and value_node.type in ("object", "array"):
            temp = base = f"<tmp{at.start_byte}>"
            frame.env[base] = value
            self._fields(base, value_node, frame, at)
        for index, part in enumerate(children(pattern)):
            kind = part.type
            key: str | None = str(index) if pattern.type == "array_pattern" else None
            target: Node | None = part
            if kind == "shorthand_property_identifier_pattern":
                key = text_of(part)
            elif kind == "pair_pattern":
                key = text_of(part.child_by_field_name("key")).strip("'\"")
                target = part.child_by_field_name("value")
            elif kind == "object_assignment_pattern":
                key = text_of(part.child_by_field_name("left"))
            elif kind == "rest_pattern":
                key = None
            field_taint = self.read(f"{base}.{key}", part, frame) if base and key is not None else value
            if kind == "shorthand_property_identifier_pattern":
                self._bind_name(text_of(part), field_taint, frame, at)
            elif kind == "object_assignment_pattern":
                default = self.eval(part.child_by_field_name("right"), frame)
                self._bind_name(key or "", join(field_taint, default), frame, at)
            else:
                self.bind(target, field_taint, None, frame, at)
        if temp is not None:
            for k in [k for k in frame.env if k == temp or k.startswith(temp + ".")]:
                del frame.env[k]

    def _bind_name(self, name: str, value: Taint, frame: Frame, at: Node) -> None:
        for key in [k for k in frame.env if k.startswith(name + ".")]:
            del frame.env[key]
        frame.env[name] = add_step(value, self.step(at))

    # -- calls ---------------------------------------------------------------------------
    def call(self, node: Node, frame: Frame) -> Taint:
        """Evaluate a call: check sinks, apply sanitizers and summaries, else propagate."""
        func = node.child_by_field_name("function") or node.child_by_field_name("constructor")
        args_node = node.child_by_field_name("arguments")
        args = children(args_node) if args_node is not None and args_node.type == "arguments" else []
        if args_node is not None and args_node.type == "template_string":
            args = [args_node]
        name = self.qualified(func)
        method = (
            text_of(func.child_by_field_name("property"))
            if func is not None and func.type == "member_expression"
            else ""
        )
        receiver = func.child_by_field_name("object") if method and func is not None else None
        chained = receiver is not None and text_of(receiver).split("(", 1)[0].endswith(".route")
        route = method in self.book.route_methods and (len(args) >= 2 or chained) and receiver is not None
        recv_taint = self.eval(receiver, frame) if receiver is not None else CLEAN
        first = recv_taint if method in self.book.element_callbacks else CLEAN
        for arg in args:
            if self.functions is None:
                break
            if arg.type in _FUNCTIONS:
                self.functions.analyse_callback(arg, frame, route, first)
            elif route and arg.type == "identifier":
                self.functions.handler_by_name(text_of(arg))
        values = [self.eval(arg, frame) for arg in args]
        target = access_path(receiver) if method in self.book.container_writes else None
        if target is not None and any(values):
            frame.env[target] = join(recv_taint, add_step(join_all(values), self.step(node)))
        if func is not None and func.type not in ("identifier", "member_expression"):
            recv_taint = self.eval(func, frame)  # new Function(s)(), (await load())()
        fields = [self._option_fields(arg, frame) for arg in args]
        self.sinks.check(node, self.step(node), name, method, receiver, args, values, frame, fields)
        self.sinks.check_api(node, self.step(node), name, method, receiver, args, frame)
        if name in self.book.rules.api_checks.weak_random:
            return (Flow(Origin(f"{name}()", kind=WEAK_RANDOM), (self.step(node),)),)
        path = access_path(func) if method else None
        source = self.source_of(path.split("."), frame) if path else None
        if source is not None:  # req.get("X-Header"), req.header(...)
            return add_step(source, self.step(node, f"source {text_of(node)}"))
        cleared = self.book.sanitizer_calls.get(name)
        if cleared is None and method:
            cleared = self.book.sanitizer_methods.get(method)
        if method in self.book.strip_methods and strips_to_allow_list(args):
            return clear(recv_taint, (ALL_CWES,))
        if cleared is not None:
            return clear(join_all(values), cleared)
        if name in self.book.clean_results or method in self.book.clean_results:
            return CLEAN
        summary = None
        if func is not None and func.type == "identifier" and self.functions is not None:
            inlined = self.functions.inline(text_of(func), values, frame)
            if inlined is not None:
                return inlined
            summary = self.functions.summary_of(text_of(func))
        if summary is None and name.startswith(".") and self.functions is not None:
            summary = self.functions.imported_summary(name)
        if summary is not None:
            return self.apply(summary, values, node, frame)
        return join(recv_taint, join_all(values))

    def _option_fields(self, arg: Node, frame: Frame) -> dict[str, Taint] | None:
        """The fields of an options object passed as an argument: a literal's pairs, or the
        fields recorded for a variable (None when the argument is not a known object)."""
        if arg.type == "object":
            out: dict[str, Taint] = {}
            for pair in children(arg):
                if pair.type == "pair":
                    key = text_of(pair.child_by_field_name("key")).strip("'\"")
                    out[key] = self.eval(pair.child_by_field_name("value"), frame)
                elif pair.type == "shorthand_property_identifier":
                    out[text_of(pair)] = self.read(text_of(pair), pair, frame)
                else:
                    return None  # a spread: fields not known
            return out
        path = access_path(arg)
        if path is None:
            return None
        prefix = path + "."
        known = {
            k[len(prefix) :]: v
            for k, v in frame.env.items()
            if k.startswith(prefix) and "." not in k[len(prefix) :]
        }
        return known or None

    def apply(self, summary: Summary, values: list[Taint], node: Node, frame: Frame) -> Taint:
        """A call to an analysed function: parameter flows replaced by the arguments' taint."""
        at = self.step(node, f"call {text_of(node)}")
        for sink in summary.sinks:
            for flow in self._substitute((sink.flow,), values, at):
                self.sinks.report(sink.rule, flow, sink.sink, sink.call, frame)
        return self._substitute(summary.returns, values, at)

    def _substitute(self, taint: Taint, values: list[Taint], at: Step) -> Taint:
        out: list[Flow] = []
        for flow in taint:
            if flow.origin.param < 0:
                out.append(flow)
                continue
            arg = values[flow.origin.param] if flow.origin.param < len(values) else CLEAN
            for outer in arg:
                steps = (*outer.steps, at, *flow.steps)
                out.append(replace(outer, steps=steps, cleared=outer.cleared | flow.cleared))
        return join(tuple(out))
