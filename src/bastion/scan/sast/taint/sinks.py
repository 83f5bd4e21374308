"""Sink checks of the Python taint analysis: dangerous calls, returns, stores, API misuse.

:class:`SinkChecks` is mixed into :class:`~bastion.scan.sast.taint.expressions.ExpressionAnalysis`
(which evaluates expressions); it decides, for a call or a statement whose taint is known,
whether a rule's dangerous argument is tainted, reports real flows and records parameter
flows in the function's summary.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, Protocol

from bastion.scan.sast.taint import shapes
from bastion.scan.sast.taint.regexes import catastrophic_regex
from bastion.scan.sast.taint.spec import RuleBook, SinkRule
from bastion.scan.sast.taint.state import State
from bastion.scan.sast.taint.summary import ParamSink, Summary, TaintHit
from bastion.scan.sast.taint.values import (
    CLEAN,
    Flow,
    Origin,
    Step,
    Taint,
    add_step,
    join,
    join_all,
    live_for,
)

if TYPE_CHECKING:
    from bastion.scan.sast.taint.context import ProjectContext as Project
    from bastion.scan.sast.taint.module import FunctionInfo, ModuleInfo

__all__ = ["SinkChecks"]


class _Host(Protocol):
    """What the sink checks use of the expression analysis they are mixed into."""

    project: Project
    module: ModuleInfo
    function: FunctionInfo | None
    rules: RuleBook
    summary: Summary
    html_handler: bool
    integrity_target: bool
    built: dict[int, str]

    def step(self, line: int) -> Step:
        """A trace step at ``line``."""
        ...

    def key(self, node: ast.expr) -> str | None:
        """The access path of ``node``."""
        ...

    def qualname(self, node: ast.expr, state: State) -> str | None:
        """The qualified name of ``node``."""
        ...

    def const(self, node: ast.expr, state: State) -> Any:
        """The constant value of ``node``."""
        ...

    def eval(self, node: ast.expr, state: State) -> Taint:
        """The taint of ``node``."""
        ...

    def hit(self, rule: SinkRule, taint: Taint, sink: Step, call: str) -> None:
        """Report or record flows reaching a sink."""
        ...

    def _safe_call(self, rule: SinkRule, node: ast.Call, state: State) -> bool: ...

    def _allowed(self, node: ast.expr, allowed: tuple[str, ...], state: State, depth: int = 0) -> bool: ...

    def choices(self, node: ast.expr, state: State) -> list[ast.expr]:
        """The expressions ``node``'s value is chosen among."""
        ...

    def _dangerous_args(
        self, rule: SinkRule, node: ast.Call, args: list[Taint], kwargs: dict[str | None, Taint], state: State
    ) -> Taint: ...

    def _header(self, node: ast.expr, name: str, state: State) -> Taint: ...

    def _program(self, rule: SinkRule, node: ast.expr, value: Taint, state: State) -> Taint: ...

    def _api_hit(self, cwe: int, node: ast.Call, call: str) -> None: ...

    def _integrity_function(self) -> bool: ...

    def _receiver_fits(self, rule: SinkRule, receiver: ast.expr, key: str, state: State) -> bool: ...

    def _unsafe_parser_arg(self, node: ast.Call, state: State) -> bool: ...

    def _backtracks(self, node: ast.Call, state: State) -> bool: ...


class SinkChecks:
    """Sink checks for :class:`~bastion.scan.sast.taint.expressions.ExpressionAnalysis`."""

    def hit(self: _Host, rule: SinkRule, taint: Taint, sink: Step, call: str) -> None:
        """Report real flows reaching ``sink``; record parameter flows in this summary."""
        for flow in live_for(taint, rule.cwe):
            if flow.origin.param >= 0:
                if self.function is not None:
                    entry = ParamSink(flow, rule, sink, call)
                    if entry not in self.summary.sinks and len(self.summary.sinks) < 64:
                        self.summary.sinks.append(entry)
            else:
                self.project.report(TaintHit(rule, flow, sink, call))

    def check_sinks(
        self: _Host,
        node: ast.Call,
        name: str | None,
        method: str | None,
        receiver: Taint,
        args: list[Taint],
        kwargs: dict[str | None, Taint],
        state: State,
    ) -> None:
        """Match the call against the sink rules and report tainted dangerous arguments."""
        rules: list[SinkRule] = []
        if name is not None:
            rules.extend(self.rules.sink_calls.get(name, ()))
        if method is not None and isinstance(node.func, ast.Attribute):
            recv_key = self.key(node.func.value) or ""
            for rule in self.rules.sink_methods.get(method, ()):
                if rule in rules:
                    continue
                if (rule.receiver_names or rule.receiver_attributes) and not self._receiver_fits(
                    rule, node.func.value, recv_key, state
                ):
                    continue
                rules.append(rule)
            for tag in state.tags.get(recv_key, ()) if recv_key else ():
                # `conn = ldap3.Connection(...); conn.search(...)` is `ldap3.Connection.search`
                if tag.startswith("type:"):
                    typed = self.rules.sink_calls.get(f"{tag[len('type:') :]}.{method}", ())
                    rules.extend(rule for rule in typed if rule not in rules)
            if recv_key and state.has_tag(recv_key, "unsafe_xml"):
                rules.extend(r for r in self.rules.rules.sinks if method in r.unsafe_parser_methods)
            if method == "setFeature" and recv_key and len(node.args) == 2:
                feature = self.qualname(node.args[0], state) or self.key(node.args[0]) or ""
                if feature.endswith(("feature_external_ges", "feature_external_pes")) and (
                    self.const(node.args[1], state) is True
                ):
                    state.tag(recv_key, "unsafe_xml")
            if receiver:
                for rule in self.rules.receiver_sinks.get(method, ()):
                    self.hit(rule, add_step(receiver, self.step(node.lineno)), self.step(node.lineno), method)
        if (
            name is not None
            and name in self.rules.unsafe_parser_calls
            and self._unsafe_parser_arg(node, state)
        ):
            # `xml.dom.minidom.parseString(s, parser)` with a parser whose external entities are on
            rules.extend(r for r in self.rules.unsafe_parser_calls[name] if r not in rules)
        elif name is not None and name in self.rules.safe_calls:
            for cwe in self.rules.safe_calls[name]:
                self.project.note_sink(self.module.relpath, node.lineno, cwe, safe=True)
        for rule in rules:
            if rule.regex_dos and not self._backtracks(node, state):
                self.project.note_sink(self.module.relpath, node.lineno, rule.cwe, safe=True)
                continue
            if self._safe_call(rule, node, state):
                self.project.note_sink(self.module.relpath, node.lineno, rule.cwe, safe=True)
                continue
            taint = self._dangerous_args(rule, node, args, kwargs, state)
            live = live_for(taint, rule.cwe)
            if live and all(f.origin.param >= 0 for f in live) and self.function is not None:
                self.project.note_param_sink(
                    self.module.relpath, node.lineno, rule.cwe, self.function.qualname
                )
            else:
                self.project.note_sink(self.module.relpath, node.lineno, rule.cwe, safe=not live)
            if taint:
                self.hit(rule, taint, self.step(node.lineno), name or method or rule.id)

    def _backtracks(self: _Host, node: ast.Call, state: State) -> bool:
        """The regular expression of ``re.match(p, s)`` (a constant), or of the ``re.compile``
        that made the receiver of ``regex.match(s)``, backtracks catastrophically."""
        func = node.func
        if isinstance(func, ast.Attribute) and (key := self.key(func.value)) and state.has_tag(key, "redos"):
            return True
        patterns = [kw.value for kw in node.keywords if kw.arg == "pattern"] + node.args[:1]
        value = self.const(patterns[0], state) if patterns else None
        return isinstance(value, str) and catastrophic_regex(value)

    def _unsafe_parser_arg(self: _Host, node: ast.Call, state: State) -> bool:
        """The parser passed to a DOM builder (second argument or ``parser=``) is a SAX parser with
        external entities switched on (``parser.setFeature(feature_external_ges, True)``)."""
        parsers = [kw.value for kw in node.keywords if kw.arg == "parser"] + node.args[1:2]
        keys = [self.key(parser) for parser in parsers]
        return any(key is not None and state.has_tag(key, "unsafe_xml") for key in keys)

    def _receiver_fits(self: _Host, rule: SinkRule, receiver: ast.expr, key: str, state: State) -> bool:
        """The receiver is named like ``receiver_names``, or its expression (or the variable it
        starts from) goes through one of ``receiver_attributes`` (``Entry.objects...``)."""
        if rule.receiver_names and shapes.receiver_matches(key, rule.receiver_names):
            return True
        attrs, root = shapes.chain(receiver)
        if any(attr in rule.receiver_attributes for attr in attrs):
            return True
        return isinstance(root, ast.Name) and any(
            state.has_tag(root.id, "via:" + attr) for attr in rule.receiver_attributes
        )

    def _safe_call(self: _Host, rule: SinkRule, node: ast.Call, state: State) -> bool:
        for position, keyword in rule.safe_positions.items():
            if position < len(node.args) and self._allowed(
                node.args[position], rule.safe_keywords[keyword], state
            ):
                return True
        for kw in node.keywords:
            allowed = rule.safe_keywords.get(kw.arg or "")
            if allowed is not None and self._allowed(kw.value, allowed, state):
                return True
            if rule.safe_parser_keyword and kw.arg == rule.safe_parser_keyword:
                key = self.key(kw.value)
                if key is not None and state.has_tag(key, "safe_parser"):
                    return True
                if isinstance(kw.value, ast.Call) and shapes.safe_parser(kw.value):
                    return True
        if rule.safe_parser_keyword and len(node.args) > 1:
            parser = node.args[1]
            key = self.key(parser)
            if (key is not None and state.has_tag(key, "safe_parser")) or (
                isinstance(parser, ast.Call) and shapes.safe_parser(parser)
            ):
                return True
        return False

    def _allowed(self: _Host, node: ast.expr, allowed: tuple[str, ...], state: State, depth: int = 0) -> bool:
        """True when ``node`` is spelled, resolves to, or evaluates to one of ``allowed``, or is
        chosen among values that all are (``getattr(yaml, "CSafeLoader", yaml.SafeLoader)``,
        through a module-level name)."""
        spelled = self.key(node) or ""
        qual = self.qualname(node, state) or ""
        value = self.const(node, state)
        if spelled in allowed or qual in allowed or (isinstance(value, str) and value in allowed):
            return True
        choices = self.choices(node, state) if depth < 4 else []
        return bool(choices) and all(self._allowed(c, allowed, state, depth + 1) for c in choices)

    def _dangerous_args(
        self: _Host,
        rule: SinkRule,
        node: ast.Call,
        args: list[Taint],
        kwargs: dict[str | None, Taint],
        state: State,
    ) -> Taint:
        picked: list[Taint] = []
        shell = any(kw.arg == "shell" and self.const(kw.value, state) is True for kw in node.keywords)
        for pos in rule.args:
            if pos < len(node.args):
                arg_node = node.args[pos]
                if isinstance(arg_node, ast.Starred):
                    picked.append(args[pos])
                elif rule.program_only_without_shell and not shell and pos == 0:
                    picked.append(self._program(rule, arg_node, args[pos], state))
                else:
                    picked.append(args[pos])
        for kw in node.keywords:
            if kw.arg in rule.keywords and rule.header_name:
                picked.append(self._header(kw.value, rule.header_name, state))
            elif kw.arg in rule.keywords or (kw.arg is not None and "*" in rule.keywords):
                if rule.program_only_without_shell and not shell:
                    picked.append(self._program(rule, kw.value, kwargs[kw.arg], state))
                else:
                    picked.append(kwargs[kw.arg])
            elif kw.arg is None and not rule.header_name:
                picked.append(kwargs[None])
        return join_all(picked)

    def _header(self: _Host, node: ast.expr, name: str, state: State) -> Taint:
        """Taint of one header (``Location``) in a dict literal; other shapes are not judged."""
        if not isinstance(node, ast.Dict):
            return CLEAN
        return join_all(
            self.eval(value, state)
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and key.value.lower() == name.lower()
        )

    def _program(self: _Host, rule: SinkRule, node: ast.expr, value: Taint, state: State) -> Taint:
        """Without a shell only the program runs: a list's first item, or the whole string; a
        list that starts with a shell (``["sh", "-c", cmd]``) runs its items as a command."""
        if isinstance(node, ast.List | ast.Tuple):
            if not node.elts:
                return CLEAN
            program = self.const(node.elts[0], state)
            if isinstance(program, str) and program.rsplit("/", 1)[-1].lower() in rule.shell_programs:
                return join_all(self.eval(elt, state) for elt in node.elts)
            return self.eval(node.elts[0], state)
        key = self.key(node)
        if key is not None and state.has_tag(key, "safe_head"):
            return CLEAN
        return value

    def check_return(self: _Host, node: ast.expr, value: Taint, line: int, state: State) -> None:
        """A Flask handler's returned string is the HTML response body (not a response object)."""
        if not self.html_handler or not value:
            return
        if isinstance(node, ast.Name) and state.has_tag(node.id, "response"):
            return
        if isinstance(node, ast.Dict | ast.List | ast.ListComp | ast.DictComp):
            return
        if isinstance(node, ast.Tuple):
            if not node.elts or isinstance(node.elts[0], ast.Dict | ast.List):
                return
            node = node.elts[0]
        if isinstance(node, ast.Call):
            func = node.func
            if any(word in shapes.last(func).lower() for word in ("render", "response", "template")):
                return
            if isinstance(func, ast.Attribute) and func.attr in self.rules.sink_methods:
                return
            if any(name.rsplit(".", 1)[-1] == shapes.last(func) for name in self.rules.sink_calls):
                return
        for rule in self.rules.rules.sinks:
            if rule.handler_return:
                self.hit(rule, value, self.step(line), "return")

    def check_store(self: _Host, target: ast.Subscript, value: Taint, line: int, state: State) -> None:
        """``session[key] = value`` where ``session`` is a store sink (trust boundary); an untrusted
        key crosses the boundary as much as an untrusted value."""
        value = join(value, self.eval(target.slice, state))
        if not value:
            return
        names = {self.qualname(target.value, state) or "", self.key(target.value) or ""}
        for name in names:
            rules = self.rules.store_sinks.get(name, ())
            for rule in rules:
                self.hit(rule, value, self.step(line), name)
            if rules:
                return
        pattern = self.rules.rules.api_checks.session_names
        store = (self.key(target.value) or "").rsplit(".", 1)[-1]
        if pattern and store and shapes.regex(pattern).search(store):
            # a predictable number kept in a session-like mapping is a session secret (CWE-330
            # only: hit() reports just the flows live for the rule's weakness)
            for rule in self.rules.rules.sinks:
                if rule.id == "weak-random-cookie":
                    self.hit(rule, value, self.step(line), store)

    def check_secret_name(self: _Host, key: str, value: Taint, line: int) -> None:
        """A predictable random number stored under a secret-sounding name (``token = ...``)."""
        pattern = self.rules.rules.api_checks.secret_names
        if not pattern or not value or not shapes.regex(pattern).search(key.rsplit(".", 1)[-1]):
            return
        for rule in self.rules.rules.sinks:
            if rule.id == "weak-random-secret":
                self.hit(rule, value, self.step(line), key)

    def check_api(self: _Host, node: ast.Call, name: str | None, method: str | None, state: State) -> None:
        """Weak hash constructors (CWE-328) and cookies without ``secure=True`` (CWE-614)."""
        checks = self.rules.rules.api_checks
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        if name is not None:
            weak = name in checks.weak_hashes
            if not weak and name in checks.hash_factories and node.args:
                algorithm = self.const(node.args[0], state)
                weak = isinstance(algorithm, str) and algorithm.lower() in checks.weak_hash_names
            if not weak and name in checks.hash_factories and "digestmod" in keywords:
                algorithm = self.const(keywords["digestmod"], state)
                spelled = self.qualname(keywords["digestmod"], state) or ""
                weak = (isinstance(algorithm, str) and algorithm.lower() in checks.weak_hash_names) or (
                    spelled in checks.weak_hashes
                )
            if (
                weak
                and "usedforsecurity" in keywords
                and self.const(keywords["usedforsecurity"], state) is False
            ):
                weak = False
            if weak and not (self.integrity_target or self._integrity_function()):
                self._api_hit(328, node, name)
            elif name in checks.weak_hashes or name in checks.hash_factories or name.startswith("hashlib."):
                self.project.note_sink(self.module.relpath, node.lineno, 328, safe=True)
        if method in checks.cookie_methods:
            # a flag computed at run time (secure=is_https(request)) is given the benefit of the doubt
            secure = self.const(keywords["secure"], state) if "secure" in keywords else False
            httponly = self.const(keywords["httponly"], state) if "httponly" in keywords else True
            if secure is False or secure is None or secure == 0 or httponly is False:
                self._api_hit(614, node, method or "set_cookie")

    def _integrity_function(self: _Host) -> bool:
        """The enclosing function is named for a non-security digest (``generate_etag``)."""
        pattern = self.rules.rules.api_checks.integrity_names
        if not pattern or self.function is None:
            return False
        return bool(shapes.regex(pattern).search(self.function.qualname.rsplit(".", 1)[-1]))

    def _api_hit(self: _Host, cwe: int, node: ast.Call, call: str) -> None:
        rule = self.rules.api_rules.get(cwe)
        if rule is None:
            return
        self.project.note_sink(self.module.relpath, node.lineno, cwe, safe=False)
        step = self.step(node.lineno)
        self.project.report(TaintHit(rule, Flow(Origin(call, kind="api"), (step,)), step, call))

    def tag_value(self: _Host, key: str, node: ast.expr, state: State) -> None:
        """Facts the assigned expression gives the variable (a safe parser, a class instance, a
        manager it was read from, the builder that made it...)."""
        attrs, root = shapes.chain(node)
        for attr in attrs:
            if attr in self.rules.receiver_attributes:
                state.tag(key, "via:" + attr)
        if isinstance(root, ast.Name) and root is not node:
            for tag in state.tags.get(root.id, ()):
                if tag.startswith("via:"):
                    state.tag(key, tag)
        builder = self.built.get(id(node))
        if builder is not None:
            state.tag(key, "type:" + builder)
        if isinstance(node, ast.Call):
            if shapes.safe_parser(node):
                state.tag(key, "safe_parser")
            if self.qualname(node.func, state) == "re.compile" and node.args:
                pattern = self.const(node.args[0], state)
                if isinstance(pattern, str) and catastrophic_regex(pattern):
                    state.tag(key, "redos")
            if any(word in shapes.last(node.func).lower() for word in ("render", "response", "template")):
                state.tag(key, "response")
            name = self.qualname(node.func, state)
            if name in shapes.STRING_BUFFERS:
                state.tag(key, "buffer")
            if name is not None:
                found = self.project.lookup(name)
                if (
                    (found is not None and found[1].qualname.endswith(".__init__"))
                    or name.split(".")[-1] in self.module.classes
                    or self.project.is_class(name)
                ):
                    state.tag(key, "class:" + name)
                else:
                    state.tag(key, "type:" + name)
        elif isinstance(node, ast.List | ast.Tuple):
            if node.elts and isinstance(node.elts[0], ast.Constant):
                state.tag(key, "safe_head")
        elif isinstance(node, ast.Name) and node.id in state.tags:
            state.tags[key] = state.tags[node.id]
