"""Sinks of the JavaScript analysis: which calls are dangerous, and reporting what reaches them.

:class:`SinkCheck` matches a call against ``js/rules.yml`` (by resolved name, or by method and
receiver), honours option objects (``{shell: true}`` makes ``spawn`` a shell, ``{root: ...}``
keeps ``sendFile`` inside a folder), and turns a live flow into a finding (real source) or a
parameter sink of the function's summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from bastion.scan.sast.taint.js.parse import access_path, children, text_of
from bastion.scan.sast.taint.js.spec import JsRuleBook, JsSinkRule
from bastion.scan.sast.taint.js.state import Frame
from bastion.scan.sast.taint.summary import ParamSink, TaintHit
from bastion.scan.sast.taint.values import Flow, Step, Taint, add_step, live_for

__all__ = ["SinkCheck", "options_match", "receiver_names", "strips_to_allow_list"]

_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function", "generator_function"})


_ALLOW_CLASS = re.compile(r"^/\[\^[A-Za-z0-9_.\\ -]*\]\+?/[a-z]*g[a-z]*$")


def strips_to_allow_list(args: list[Node]) -> bool:
    """``.replace(/[^a-z0-9]/g, "")``: everything outside a harmless character class removed."""
    if len(args) != 2 or args[0].type != "regex" or text_of(args[1]) not in ('""', "''", "``"):
        return False
    return bool(_ALLOW_CLASS.match(text_of(args[0])))


def receiver_names(receiver: Node | None) -> list[str]:
    """Names a receiver is spelled with: ``this.db`` -> this, db; ``res.status(200)`` -> res."""
    while receiver is not None and receiver.type == "call_expression":
        func = receiver.child_by_field_name("function")
        receiver = (
            func.child_by_field_name("object")
            if func is not None and func.type == "member_expression"
            else None
        )
    path = access_path(receiver)
    return path.split(".") if path else []


def options_match(rule: JsSinkRule, args: list[Node]) -> bool:
    """Whether the call's option objects make ``rule`` apply (``{shell: true}``; not ``{root: ...}``)."""
    options: dict[str, str] = {}
    for arg in args:
        if arg.type == "object":
            for pair in children(arg):
                if pair.type == "pair":
                    value = text_of(pair.child_by_field_name("value"))
                    options[text_of(pair.child_by_field_name("key")).strip("'\"")] = value.rsplit(".", 1)[-1]
    if rule.when_option and not any(options.get(k) in v for k, v in rule.when_option.items()):
        return False
    return not any(k in options and ("*" in v or options[k] in v) for k, v in rule.safe_option.items())


@dataclass
class SinkCheck:
    """Sink matching and the findings of one file (keyed by sink location and rule)."""

    book: JsRuleBook
    hits: dict[tuple[str, int, int, str], TaintHit] = field(default_factory=dict)
    seen: dict[tuple[str, int, int], bool] = field(default_factory=dict)
    """Every sink call evaluated (path, line, CWE): True once untrusted or unknown data reached it."""

    def check(
        self,
        node: Node,
        sink: Step,
        name: str,
        method: str,
        receiver: Node | None,
        args: list[Node],
        values: list[Taint],
        frame: Frame,
    ) -> None:
        """Check the call at ``node`` (``sink`` its step, ``values`` its arguments' taint)."""
        rules = self.book.sink_calls.get(name, ())
        if method and not rules:
            parts = set(receiver_names(receiver))
            rules = tuple(
                r
                for r in self.book.sink_methods.get(method, ())
                if not r.receiver_names or parts & set(r.receiver_names)
            )
        for rule in rules:
            key = (sink.path, sink.line, rule.cwe)
            self.seen[key] = self.seen.get(key, False)
            if not options_match(rule, args):
                continue
            for index in rule.args:
                pos = index if index >= 0 else len(args) + index
                if not 0 <= pos < len(args) or (rule.string_only and args[pos].type in _FUNCTIONS):
                    continue
                for flow in live_for(values[pos], rule.cwe):
                    self.seen[key] = self.seen[key] or not self._excluded(rule, flow)
                    self.report(
                        rule,
                        add_step((flow,), sink)[0],
                        sink,
                        text_of(node.child_by_field_name("function") or node)[:60],
                        frame,
                    )

    def _excluded(self, rule: JsSinkRule, flow: Flow) -> bool:
        """A source that does not count for this weakness (``process.argv`` for paths)."""
        if flow.origin.param >= 0:
            return False
        source = self.book.sources.get(flow.origin.label.split(" ", 1)[0])
        return source is not None and rule.cwe in source.excludes

    def proven_safe(self) -> set[tuple[str, int, int]]:
        """Sink calls (path, line, CWE) where no evaluation found anything dangerous arriving."""
        return {key for key, live in self.seen.items() if not live}

    def report(self, rule: JsSinkRule | object, flow: Flow, sink: Step, call: str, frame: Frame) -> None:
        """A flow reaching a sink: a finding for a real source, a parameter sink otherwise."""
        if not isinstance(rule, JsSinkRule):
            return
        if not live_for((flow,), rule.cwe):
            return
        if flow.origin.param >= 0:
            frame.param_sinks.append(ParamSink(flow, rule, sink, call))
            return
        if self._excluded(rule, flow):
            return
        key = (sink.path, sink.line, rule.cwe, rule.id)
        if key not in self.hits:
            self.hits[key] = TaintHit(rule, flow, sink, call)
