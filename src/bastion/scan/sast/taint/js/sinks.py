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
from bastion.scan.sast.taint.values import (
    WEAK_RANDOM_CWE,
    Flow,
    Origin,
    Step,
    Taint,
    add_step,
    join,
    live_for,
)

__all__ = ["SinkCheck", "options_match", "receiver_names", "strips_to_allow_list"]

_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function", "generator_function"})


_RESPONSES = frozenset({"res", "response", "reply"})


def assigned_name(node: Node) -> str:
    """The variable or field a call's result (through method chains) is stored in, or ""."""
    current: Node | None = node
    while current is not None and current.parent is not None:
        parent = current.parent
        if parent.type in ("member_expression", "call_expression", "arguments", "await_expression"):
            current = parent
            continue
        if parent.type == "variable_declarator":
            return text_of(parent.child_by_field_name("name"))
        if parent.type == "assignment_expression":
            return (access_path(parent.child_by_field_name("left")) or "").rsplit(".", 1)[-1]
        if parent.type == "pair":
            return text_of(parent.child_by_field_name("key")).strip("'\"")
        return ""
    return ""


_ALLOW_CLASS = re.compile(r"^/\[\^[A-Za-z0-9_.\\ -]*\]\+?/[a-z]*g[a-z]*$")


def strips_to_allow_list(args: list[Node]) -> bool:
    """``.replace(/[^a-z0-9]/g, "")``: everything outside a harmless character class removed."""
    if len(args) != 2 or args[0].type != "regex" or text_of(args[1]) not in ('""', "''", "``"):
        return False
    return bool(_ALLOW_CLASS.match(text_of(args[0])))


def _positions(rule: JsSinkRule, args: list[Node]) -> tuple[int, ...]:
    """The dangerous argument positions: also the argv array when the program is a shell
    (``spawn("sh", ["-c", cmd])``)."""
    if rule.shell_programs and args and args[0].type == "string":
        program = text_of(args[0]).strip("'\"`").rsplit("/", 1)[-1].lower()
        if program in rule.shell_programs:
            return (*rule.args, 1)
    return rule.args


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
        fields: list[dict[str, Taint] | None] | None = None,
    ) -> None:
        """Check the call at ``node`` (``sink`` its step, ``values`` its arguments' taint,
        ``fields`` the fields' taint of arguments that are options objects)."""
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
            for index in _positions(rule, args):
                pos = index if index >= 0 else len(args) + index
                if not 0 <= pos < len(args) or (rule.string_only and args[pos].type in _FUNCTIONS):
                    continue
                value = values[pos]
                known = fields[pos] if fields is not None and pos < len(fields) else None
                if rule.option_fields and known:
                    value = join(*(known.get(name, ()) for name in rule.option_fields))
                for flow in live_for(value, rule.cwe):
                    self.seen[key] = self.seen[key] or not self._excluded(rule, flow)
                    self.report(
                        rule,
                        add_step((flow,), sink)[0],
                        sink,
                        text_of(node.child_by_field_name("function") or node)[:60],
                        frame,
                    )

    def check_store(self, path: str, value: Taint, sink: Step, frame: Frame) -> None:
        """``req.session.user = v``: a field of a store sink written (trust boundary, and a
        predictable number kept as a session secret); ``token = Math.random()``: a predictable
        number under a secret's name."""
        if not value:
            return
        root, _, rest = path.partition(".")
        spelled = f"req.{rest}" if root in frame.request_vars and rest else path
        for store, rules in self.book.store_sinks.items():
            if spelled.startswith(store + "."):
                for rule in rules:
                    for flow in live_for(value, rule.cwe):
                        self.report(rule, add_step((flow,), sink)[0], sink, store, frame)
        pattern = self.book.rules.api_checks.secret_names
        secret = self.book.api_rules.get(WEAK_RANDOM_CWE)
        if secret is not None and pattern and re.search(pattern, path.rsplit(".", 1)[-1]):
            for flow in live_for(value, WEAK_RANDOM_CWE):
                self.report(secret, add_step((flow,), sink)[0], sink, path, frame)

    def check_api(
        self,
        node: Node,
        sink: Step,
        name: str,
        method: str,
        receiver: Node | None,
        args: list[Node],
        frame: Frame,
    ) -> None:
        """Weak hash algorithms (CWE-328, unless the digest is an ``etag``/``checksum``) and
        ``res.cookie`` without ``secure: true`` or with ``httpOnly: false`` (CWE-614)."""
        checks = self.book.rules.api_checks
        weak = name in checks.weak_hashes
        if not weak and name in checks.hash_factories and args and args[0].type == "string":
            weak = text_of(args[0]).strip("'\"`").lower() in checks.weak_hash_names
        if weak:
            target = assigned_name(node)
            if not (checks.integrity_names and target and re.search(checks.integrity_names, target)):
                self._api_hit(328, sink, name, frame)
        if method in checks.cookie_methods and set(receiver_names(receiver)) & _RESPONSES:
            options = args[2] if len(args) > 2 else None
            if options is None:
                self._api_hit(614, sink, f"res.{method}", frame)
            elif options.type == "object":
                flags = {
                    text_of(pair.child_by_field_name("key")).strip("'\""): text_of(
                        pair.child_by_field_name("value")
                    )
                    for pair in children(options)
                    if pair.type == "pair"
                }
                if flags.get("secure") != "true" or flags.get("httpOnly") == "false":
                    self._api_hit(614, sink, f"res.{method}", frame)

    def _api_hit(self, cwe: int, sink: Step, call: str, frame: Frame) -> None:
        rule = self.book.api_rules.get(cwe)
        if rule is not None:
            self.seen[(sink.path, sink.line, cwe)] = True
            self.report(rule, Flow(Origin(call, kind="api"), (sink,)), sink, call, frame)

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
