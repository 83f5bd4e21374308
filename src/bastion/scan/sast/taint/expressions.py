"""Taint of expressions and calls: sources, propagation, sanitizers, sinks, summaries.

Evaluation recurses over the expression tree up to ``MAX_DEPTH`` levels; deeper trees (a
generated ``a + a + ... + a`` of 100,000 terms) are evaluated by a flat walk that joins the
taint of every name inside, so no input can exhaust the interpreter's stack.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING

from bastion.scan.sast.taint import shapes
from bastion.scan.sast.taint.chains import BuiltValues
from bastion.scan.sast.taint.constants import ConstantValues
from bastion.scan.sast.taint.module import UNKNOWN
from bastion.scan.sast.taint.sinks import SinkChecks
from bastion.scan.sast.taint.spec import RuleBook
from bastion.scan.sast.taint.state import State
from bastion.scan.sast.taint.summary import Summary
from bastion.scan.sast.taint.values import (
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

Inliner = Callable[["FunctionInfo", list[Taint], dict[str | None, Taint], State], Taint | None]
"""(nested function, arguments, keyword arguments, caller's state) -> the call's taint, or None."""

if TYPE_CHECKING:
    from bastion.scan.sast.taint.context import ProjectContext as Project
    from bastion.scan.sast.taint.module import FunctionInfo, ModuleInfo

__all__ = ["ExpressionAnalysis"]

MAX_DEPTH = 120
"""Expression nesting evaluated recursively; deeper parts are approximated by a flat walk."""
_CONTAINER_WRITES = frozenset(
    {"append", "extend", "insert", "add", "update", "setdefault", "appendleft", "put"}
)

_BUFFER_WRITES = frozenset({"write", "writelines"})
"""Writes into an in-memory text or bytes buffer (``io.StringIO``): its value holds what they wrote."""


class ExpressionAnalysis(ConstantValues, SinkChecks, BuiltValues):
    """Expression-level half of :class:`~bastion.scan.sast.taint.analyzer.FunctionAnalysis`."""

    UNKNOWN = UNKNOWN

    def __init__(self, project: Project, module: ModuleInfo, function: FunctionInfo | None) -> None:
        self.project = project
        self.module = module
        self.function = function
        self.rules: RuleBook = project.rules
        self.summary = Summary()
        self.local_functions: dict[str, FunctionInfo] = {}
        """Functions defined inside the one being analysed."""
        self._depth = 0
        self.call_items: dict[int, tuple[Taint, ...]] = {}
        self.call_keys: dict[int, dict[str | int, Taint]] = {}
        """Calls (by node id) whose callee returns dict literals: each key's taint here."""
        self.built: dict[int, str] = {}
        self.parsed_urls: dict[tuple[str, str], Taint | None] = {}
        """(parts, url) -> the url's taint when ``parts = urlparse(url)`` ran (``hosts``)."""
        self.integrity_target = False
        self.inline: Inliner | None = None
        """Runs a nested function at its call with the caller's variables (set by the statement
        analysis); None: nested functions are summarised like any other."""
        """The expression being evaluated is stored under an integrity name (``etag = ...``)."""
        """Calls (by node id) whose callee returns tuple literals: each element's taint here."""
        node = function.node if function else None
        self.is_route, self.html_handler = (
            shapes.route_kind(node, module, self.rules) if node else (False, False)
        )
        self.fixed_path = shapes.fixed_route_path(node, module, self.rules) if node else False
        """Every route of this handler is a constant path: ``request.path`` is server-controlled."""
        if function is not None and not self.is_route:
            # FastAPI fills a dependency's parameters from the request, as it does a route's
            self.is_route = project.is_dependency_function(module, function.qualname)

    # ---- helpers -----------------------------------------------------------------------

    def step(self, line: int) -> Step:
        """A trace step at ``line`` of this module, described by the source line."""
        return Step(self.module.relpath, line, self.module.line_text(line))

    def flow_from(self, origin: Origin, line: int, note: str = "") -> Taint:
        """A new taint starting at ``origin`` on ``line`` (already cleared for the weaknesses
        its source does not count for)."""
        step = Step(self.module.relpath, line, note or self.module.line_text(line))
        return (Flow(origin, (step,), self.rules.source_excludes.get(origin.label, frozenset())),)

    def route_path(self, name: str) -> bool:
        """``name`` reads the request's path in a handler whose routes are all constant paths."""
        return self.fixed_path and any(
            name == src or name.startswith(src + ".") for src in self.rules.rules.route_path_sources
        )

    def key(self, node: ast.expr) -> str | None:
        """The access path of ``node`` (``a``, ``a.b``, ``a['k']``), or None."""
        parts: list[str] = []
        while True:
            if isinstance(node, ast.Name):
                parts.append(node.id)
                return "".join(reversed(parts))
            if isinstance(node, ast.Attribute):
                parts.append("." + node.attr)
                node = node.value
            elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                value = node.slice.value
                if not isinstance(value, str | int) or isinstance(value, bool):
                    return None
                parts.append(f"[{value!r}]")
                node = node.value
            else:
                return None

    def qualname(self, node: ast.expr, state: State) -> str | None:
        """Fully qualified dotted name of an imported/defined/builtin name, or None for locals."""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        name = node.id
        if name in state.taint or name in state.tags:
            return None
        if name in self.module.aliases:
            base = self.module.aliases[name]
        elif name in self.module.functions or name in self.module.classes:
            base = f"{self.module.name}.{name}"
        else:
            base = name
        return ".".join([base, *reversed(attrs)])

    # ---- evaluation --------------------------------------------------------------------

    def eval(self, node: ast.expr, state: State) -> Taint:
        """Taint of the value of ``node``; records sinks reached on the way."""
        if self._depth >= MAX_DEPTH:
            return self._flat(node, state)
        self._depth += 1
        try:
            return self._eval(node, state)
        finally:
            self._depth -= 1

    def _flat(self, node: ast.expr, state: State) -> Taint:
        return join_all(state.read(n.id) or CLEAN for n in ast.walk(node) if isinstance(n, ast.Name))

    def _eval(self, node: ast.expr, state: State) -> Taint:
        if isinstance(node, ast.Constant):
            return CLEAN
        if isinstance(node, ast.Name):
            return self._name(node.id, state)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, state)
        if isinstance(node, ast.Call):
            return self.call(node, state)
        if isinstance(node, ast.JoinedStr):
            value = join_all(
                self.eval(v.value, state) for v in node.values if isinstance(v, ast.FormattedValue)
            )
            if value and self.url_prefix(node, state):
                return clear(value, shapes.URL_CWES)
            return value
        if isinstance(node, ast.FormattedValue):
            return self.eval(node.value, state)
        if isinstance(node, ast.BinOp):
            value = join(self.eval(node.left, state), self.eval(node.right, state))
            if value and self.url_prefix(node, state):
                return clear(value, shapes.URL_CWES)
            return value
        if isinstance(node, ast.BoolOp):
            return join_all(self.eval(v, state) for v in node.values)
        if isinstance(node, ast.Compare):
            for sub in (node.left, *node.comparators):
                self.eval(sub, state)
            return CLEAN
        if isinstance(node, ast.UnaryOp):
            value = self.eval(node.operand, state)
            return CLEAN if isinstance(node.op, ast.Not) else value
        if isinstance(node, ast.Subscript):
            key = self.key(node)
            if key is not None:
                found = state.read(key)
                if found is not None:
                    return found
            base = self.eval(node.value, state)
            self.eval(node.slice, state)
            read = self._call_key(node.value, node.slice)
            return base if read is None else read
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return join_all(self.eval(e, state) for e in node.elts)
        if isinstance(node, ast.Dict):
            return join_all(self.eval(e, state) for e in [*node.keys, *node.values] if e is not None)
        if isinstance(node, ast.IfExp):
            known = self.const(node.test, state)
            if known is not UNKNOWN:
                return self.eval(node.body if known else node.orelse, state)
            guarded = getattr(self, "guarded")  # noqa: B009 - provided by the statement half
            return join(
                self.eval(node.body, guarded(node.test, state.copy(), True)),
                self.eval(node.orelse, guarded(node.test, state.copy(), False)),
            )
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            inner = state.copy()
            for gen in node.generators:
                iterated = self.eval(gen.iter, inner)
                for target in ast.walk(gen.target):
                    if isinstance(target, ast.Name):
                        inner.write(target.id, iterated)
            if isinstance(node, ast.DictComp):
                return join(self.eval(node.key, inner), self.eval(node.value, inner))
            return self.eval(node.elt, inner)
        if isinstance(node, ast.Await | ast.Starred):
            return self.eval(node.value, state)
        if isinstance(node, ast.Yield | ast.YieldFrom):
            value = self.eval(node.value, state) if node.value is not None else CLEAN
            self.summary.returns = join(self.summary.returns, value)
            self.summary.note_return(None)
            self.summary.note_keys(None)
            return CLEAN
        if isinstance(node, ast.NamedExpr):
            value = self.eval(node.value, state)
            state.write(node.target.id, add_step(value, self.step(node.lineno)))
            return value
        if isinstance(node, ast.Slice):
            return CLEAN
        return CLEAN

    def _call_key(self, call: ast.expr, key: ast.expr) -> Taint | None:
        """``f(x)["page"]``: the taint ``f`` returns under that key, when it returns dicts."""
        keyed = self.call_keys.get(id(call))
        name = key.value if isinstance(key, ast.Constant) else None
        if keyed is None or not isinstance(name, str | int) or name not in keyed:
            return None
        return keyed[name]

    def _name(self, name: str, state: State) -> Taint:
        value = state.read(name)
        if value is None:
            return self.project.module_global(self.module, name)
        children = state.children(name) if name != "self" else CLEAN
        return join(value, children) if children else value

    def _attribute(self, node: ast.Attribute, state: State) -> Taint:
        base = node.value
        if isinstance(base, ast.Name) and state.has_tag(base.id, "request"):
            if node.attr in self.rules.request_attrs:
                return self.flow_from(Origin(f"request.{node.attr}"), node.lineno)
            return CLEAN
        key = self.key(node)
        if key is not None:
            value = state.read(key)
            if value is not None and (key in state.taint or key.split(".")[0] != "self"):
                return value
            if key.startswith("self.") and self.function is not None and self.function.class_name:
                attr = key.split(".")[1].split("[")[0]
                return self.project.class_attr(self.module, self.function.class_name, attr)
        name = self.qualname(node, state)
        if name is not None:
            label = self.rules.source_label(name)
            if label is not None:
                if self.route_path(name):
                    return CLEAN
                return self.flow_from(Origin(label), node.lineno)
            root: ast.expr = node
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in self.module.aliases:
                return CLEAN
        return self.eval(base, state)

    # ---- calls -------------------------------------------------------------------------

    def call(self, node: ast.Call, state: State) -> Taint:
        """Taint of a call's result; checks the call against sinks on the way."""
        func = node.func
        name = self.qualname(func, state)
        method = func.attr if isinstance(func, ast.Attribute) else None
        receiver = CLEAN
        if isinstance(func, ast.Attribute) and name is None:
            value = func.value
            if (
                isinstance(value, ast.Name)
                and state.has_tag(value.id, "request")
                and method in self.rules.request_attrs
            ):
                return self.flow_from(Origin(f"request.{method}()"), node.lineno)
            receiver = self.eval(func.value, state)
        elif not isinstance(func, ast.Name | ast.Attribute):
            receiver = self.eval(func, state)
        args = [self.eval(a, state) for a in node.args]
        kwargs = {kw.arg: self.eval(kw.value, state) for kw in node.keywords}
        if name is not None:
            label = self.rules.source_label(name)
            if label is not None:
                if shapes.typed_get(node) or self.route_path(name):
                    return CLEAN
                return self.flow_from(Origin(label), node.lineno)
            if name == "re.sub" and shapes.strips_to_word_characters(node):
                return CLEAN
            if name in self.rules.rules.api_checks.weak_random:
                self.project.note_random(self.module.relpath, node.lineno)
                return self.flow_from(Origin(f"{name}()", kind=WEAK_RANDOM), node.lineno)
        self.check_api(node, name, method, state)
        self.check_sinks(node, name, method, receiver, args, kwargs, state)
        everything = join(receiver, *args, *kwargs.values())
        if isinstance(func, ast.Attribute) and method is not None:
            handled = self._container_method(node, func, method, args, state)
            if handled is not None:
                return handled
        if isinstance(func, ast.Attribute) and (
            method in _CONTAINER_WRITES
            or (method in _BUFFER_WRITES and state.has_tag(self.key(func.value) or "", "buffer"))
        ):
            key = self.key(func.value)
            if key is not None and everything:
                written = join(*args, *kwargs.values())  # d.update(name=v) writes v too
                state.taint[key] = join(state.read(key) or CLEAN, add_step(written, self.step(node.lineno)))
                state.untag(key, "keyed")
            return CLEAN
        if method == "get" and node.args and isinstance(func, ast.Attribute):
            base_key = self.key(func.value)
            first = node.args[0]
            read = self._call_key(func.value, first)
            if read is not None:
                return join(read, *args[1:])
            if (
                base_key is not None
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str | int)
            ):
                stored = state.read(f"{base_key}[{first.value!r}]")
                if stored is not None:
                    return join(stored, *args[1:])
        if self.inline is not None and isinstance(func, ast.Name) and func.id in self.local_functions:
            inlined = self.inline(self.local_functions[func.id], args, kwargs, state)
            if inlined is not None:
                return inlined
        resolved = self.resolve_callee(func, name, state)
        if resolved is not None:
            return self.apply_summary(resolved, node, receiver, args, kwargs)
        builder = self.builder(func, state) if method is not None else None
        if builder is not None:
            self.built[id(node)] = builder
            return clear(everything, self.rules.builders[builder])
        if name is not None:
            clears = self.rules.sanitizer_calls.get(name)
            if clears is not None:
                return clear(everything, clears)
            if name in self.rules.clean_calls:
                return CLEAN
        if method is not None:
            clears = self.rules.sanitizer_methods.get(method)
            if clears is not None:
                return clear(everything, clears)
            if method in self.rules.clean_methods:
                return CLEAN
        if everything and method == "format" and self.url_prefix(node, state):
            return clear(everything, shapes.URL_CWES)
        if name not in self.rules.sink_calls and shapes.says_safe(
            method or name or "", self.rules.rules.unresolved_clean_words
        ):
            return CLEAN  # a helper we cannot read, named for what it returns: `get_safe_value`
        if not everything and any(self.whole_request(a, state) for a in node.args):
            # the request object handed to a helper we cannot read (a wrapper): what it returns
            # is request data, and so is what its methods return
            return self.flow_from(Origin("request object passed to a helper"), node.lineno)
        return everything

    def whole_request(self, node: ast.expr, state: State) -> bool:
        """``node`` is the request object itself (``flask.request``, a request parameter)."""
        if isinstance(node, ast.Name) and state.has_tag(node.id, "request"):
            return True
        return self.qualname(node, state) in self.rules.rules.request_objects

    def _container_method(
        self, node: ast.Call, func: ast.Attribute, method: str, args: list[Taint], state: State
    ) -> Taint | None:
        """Element-precise list and two-level map operations (``pop``, ``append``, ``insert``,
        ``conf.set(section, key, value)`` / ``conf.get(section, key)``); None when not applicable."""
        key = self.key(func.value)
        if key is None:
            return None
        consts = [self.const(a, state) for a in node.args]
        if method in ("set", "get") and len(node.args) >= 2 and all(isinstance(c, str) for c in consts[:2]):
            slot = f"{key}[{consts[0]!r}][{consts[1]!r}]"
            if method == "set" and len(node.args) == 3:
                state.write(slot, add_step(args[2], self.step(node.lineno)))
                return CLEAN
            if method == "get":
                found = state.taint.get(slot)
                return found if found is not None else None
        items = shapes.elements(state, key)
        if items is None:
            return None
        if method == "pop" and len(node.args) <= 1:
            index = consts[0] if node.args else -1
            if not isinstance(index, int) or not -len(items) <= index < len(items):
                return None
            popped = items.pop(index)
            shapes.store_elements(state, key, items)
            return popped
        if method == "append" and len(node.args) == 1:
            items.append(add_step(args[0], self.step(node.lineno)))
            shapes.store_elements(state, key, items)
            return CLEAN
        if method == "insert" and len(node.args) == 2 and isinstance(consts[0], int):
            items.insert(consts[0], add_step(args[1], self.step(node.lineno)))
            shapes.store_elements(state, key, items)
            return CLEAN
        return None

    def resolve_callee(
        self, func: ast.expr, name: str | None, state: State
    ) -> tuple[ModuleInfo, FunctionInfo, bool] | None:
        """The analysed function a call goes to, and whether ``self`` is passed implicitly."""
        if isinstance(func, ast.Name) and func.id in self.local_functions:
            return self.module, self.local_functions[func.id], False
        if name is not None:
            found = self.project.lookup(name)
            if found is not None:
                return found
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            made = self.qualname(func.value.func, state)
            if made is not None and self.project.is_class(made):
                found = self.project.lookup(f"{made}.{func.attr}")
                if found is not None:
                    return found[0], found[1], True
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = func.value.id
            if owner in ("self", "cls") and self.function is not None and self.function.class_name:
                info = self.module.functions.get(f"{self.function.class_name}.{func.attr}")
                return (self.module, info, True) if info is not None else None
            for tag in state.tags.get(owner, frozenset()):
                if tag.startswith("class:"):
                    found = self.project.lookup(f"{tag[len('class:') :]}.{func.attr}")
                    if found is not None:
                        return found[0], found[1], True
        return None

    def apply_summary(
        self,
        resolved: tuple[ModuleInfo, FunctionInfo, bool],
        node: ast.Call,
        receiver: Taint,
        args: list[Taint],
        kwargs: dict[str | None, Taint],
    ) -> Taint:
        """Map a callee's summary onto this call site: its return value and the sinks it reaches."""
        module, info, bound = resolved
        self.project.note_call(module, info)
        if not (receiver or any(args) or any(kwargs.values())) and not self.project.may_read_sources(
            module, info
        ):
            return CLEAN
        summary = self.project.summary(module, info)
        params = shapes.param_names(info.node)
        by_index: dict[int, Taint] = {}
        offset = 1 if bound else 0
        if bound:
            by_index[0] = receiver
        vararg = info.node.args.vararg
        positional = len(info.node.args.posonlyargs) + len(info.node.args.args)
        for i, value in enumerate(args):
            index = i + offset
            if index < positional:
                by_index[index] = join(by_index.get(index, CLEAN), value)
            elif vararg is not None:
                slot = params.index(vararg.arg)
                by_index[slot] = join(by_index.get(slot, CLEAN), value)
        for kw, value in kwargs.items():
            if kw in params:
                by_index[params.index(kw)] = value
            elif info.node.args.kwarg is not None:
                slot = params.index(info.node.args.kwarg.arg)
                by_index[slot] = join(by_index.get(slot, CLEAN), value)
        call_step = self.step(node.lineno)
        returned = self._compose(summary.returns, by_index, call_step)
        if summary.items is not None:
            self.call_items[id(node)] = tuple(
                self._compose(item, by_index, call_step) for item in summary.items
            )
        if summary.keys is not None:
            self.call_keys[id(node)] = {
                k: self._compose(v, by_index, call_step) for k, v in summary.keys.items()
            }
        for sink in summary.sinks:
            composed = tuple(
                shapes.compose(by_index.get(sink.flow.origin.param, CLEAN), call_step, sink.flow)
            )
            self.hit(sink.rule, composed, sink.sink, sink.call or sink.rule.id)
        if info.qualname.endswith(".__init__"):
            owner = info.qualname.rsplit(".", 1)[0]
            attrs = self.project.constructed(module, owner, summary, by_index)
            return attrs
        return returned

    def _compose(self, taint: Taint, by_index: dict[int, Taint], call_step: Step) -> Taint:
        """A callee's flows at this call: parameter flows continue the arguments' flows."""
        out: list[Flow] = []
        for flow in taint:
            if flow.origin.param < 0:
                out.append(flow)
            else:
                out.extend(shapes.compose(by_index.get(flow.origin.param, CLEAN), call_step, flow))
        return join_all([tuple(out)])
