"""Intraprocedural taint analysis of one function body over the AST, statement by statement.

Branches are analysed separately and joined; a branch whose condition is a constant is
skipped when it cannot run; guards (``if x in ALLOWED``, ``if not url_is_safe(x): abort()``)
clear taint in the branch they protect. Expressions and calls are in
:mod:`bastion.scan.sast.taint.expressions`.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import TYPE_CHECKING

from bastion.scan.sast.taint import fields, hosts, shapes
from bastion.scan.sast.taint.expressions import ExpressionAnalysis
from bastion.scan.sast.taint.module import FunctionInfo
from bastion.scan.sast.taint.state import State, join_states
from bastion.scan.sast.taint.values import ALL_CWES, CLEAN, Origin, Taint, add_step, clear, join

if TYPE_CHECKING:
    from bastion.scan.sast.taint.context import ProjectContext as Project
    from bastion.scan.sast.taint.module import ModuleInfo

__all__ = ["FunctionAnalysis"]

_NO_RETURN = frozenset(
    {
        "abort",
        "flask.abort",
        "sys.exit",
        "exit",
        "quit",
        "os._exit",
        "os.abort",
        "werkzeug.exceptions.abort",
        "fastapi.HTTPException",
        "django.http.Http404",
    }
)
_SIMPLE_TYPES = frozenset({"int", "float", "bool", "uuid.UUID", "UUID", "datetime.date", "date", "Decimal"})


_MAX_INLINE = 3
"""Nested functions inlined inside nested functions at most this deep."""


class FunctionAnalysis(ExpressionAnalysis):
    """Analyse one function (or a module body); fills :attr:`summary` and reports hits."""

    def __init__(self, project: Project, module: ModuleInfo, function: FunctionInfo | None) -> None:
        super().__init__(project, module, function)
        self._loop_exits: list[list[State]] = []
        self._inline_depth = 0
        self.inline = self.inline_local

    def inline_local(
        self, info: FunctionInfo, args: list[Taint], kwargs: dict[str | None, Taint], state: State
    ) -> Taint | None:
        """A nested function called where it is defined: its body runs on a copy of the caller's
        variables (the closure) with its parameters bound to the arguments; sinks inside report
        as the caller's, and the returned taint is the call's value."""
        if self._inline_depth >= _MAX_INLINE:
            return None
        sub = FunctionAnalysis(self.project, self.module, info)
        sub.local_functions = dict(self.local_functions)
        sub._inline_depth = self._inline_depth + 1
        inner = state.copy()
        spec = info.node.args
        names = [a.arg for a in (*spec.posonlyargs, *spec.args)]
        for index, name in enumerate(names):
            inner.write(name, args[index] if index < len(args) else CLEAN)
        for name in (*names, *(a.arg for a in spec.kwonlyargs)):
            if name in kwargs:
                inner.write(name, kwargs[name])
        sub.block(info.node.body, inner)
        for entry in sub.summary.sinks:
            if entry not in self.summary.sinks and len(self.summary.sinks) < 64:
                self.summary.sinks.append(entry)
        return sub.summary.returns

    def run(self) -> None:
        """Analyse the body once, from parameters seeded as placeholders or route sources."""
        state = State()
        node = self.function.node if self.function else None
        if node is None:
            body: list[ast.stmt] = [
                s
                for s in self.module.tree.body
                if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            ]
        else:
            body = node.body
            self._seed_params(node, state)
        end = self.block(body, state)
        if self.function is None and end is not None:
            self.summary.self_attrs = {
                k: v for k, v in end.taint.items() if v and "." not in k and "[" not in k
            }

    def _seed_params(self, node: ast.FunctionDef | ast.AsyncFunctionDef, state: State) -> None:
        args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        if node.args.vararg:
            args.append(node.args.vararg)
        if node.args.kwarg:
            args.append(node.args.kwarg)
        route = self.is_route
        book = self.rules
        for index, arg in enumerate(args):
            line = arg.lineno
            ann = _annotation_name(arg.annotation)
            if arg.arg in ("self", "cls") and index == 0:
                continue
            if arg.arg in book.request_names or ann in book.request_annotations:
                state.tag(arg.arg, "request")
                state.taint[arg.arg] = CLEAN
                continue
            call = shapes.dependency(node, arg, self.module, self.project.module_value) if route else None
            if call is not None:
                # the framework passes what the dependency returns (a session, the signed-in user,
                # or a value it read from the request)
                state.taint[arg.arg] = self._dependency_value(call, state, line)
                continue
            placeholder = self.flow_from(Origin(f"param:{arg.arg}", index), line, f"parameter {arg.arg}")
            value = placeholder
            if route and ann not in _SIMPLE_TYPES:
                value = join(
                    value, self.flow_from(Origin("web route parameter"), line, f"route parameter {arg.arg}")
                )
            state.taint[arg.arg] = value

    def _dependency_value(self, call: ast.Call, state: State, line: int) -> Taint:
        """Untrusted flows a FastAPI dependency returns (its own parameters are request data);
        clean when it returns none or is not in the project (a library's, a class by annotation)."""
        target = (
            call.args[0]
            if call.args
            else next((k.value for k in call.keywords if k.arg == "dependency"), None)
        )
        name = self.qualname(target, state) if target is not None else None
        found = self.project.lookup(name) if name else None
        if found is None:
            return CLEAN
        returns = self.project.summary(found[0], found[1]).returns
        real = tuple(flow for flow in returns if flow.origin.param < 0)
        return add_step(real, self.step(line)) if real else CLEAN

    # ---- statements ------------------------------------------------------------------

    def block(self, body: list[ast.stmt], state: State | None) -> State | None:
        """Analyse statements in order; None once the path cannot continue."""
        for stmt in body:
            if state is None:
                return None
            state = self.statement(stmt, state)
        return state

    def statement(self, stmt: ast.stmt, state: State) -> State | None:
        """Transfer function of one statement."""
        if isinstance(stmt, ast.Assign):
            self.integrity_target = self._integrity_targets(stmt.targets)
            value = self.eval(stmt.value, state)
            self.integrity_target = False
            self.project.note_line(self.module.relpath, stmt.lineno, value)
            for target in stmt.targets:
                self.assign(target, stmt.value, value, state, stmt.lineno)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, stmt.value, self.eval(stmt.value, state), state, stmt.lineno)
        elif isinstance(stmt, ast.AugAssign):
            value = join(self.eval(stmt.target, state), self.eval(stmt.value, state))
            self.project.note_line(self.module.relpath, stmt.lineno, value)
            key = self.key(stmt.target)
            if key is not None:
                state.write(key, add_step(value, self.step(stmt.lineno)))
        elif isinstance(stmt, ast.Expr):
            self.project.note_line(self.module.relpath, stmt.lineno, self.eval(stmt.value, state))
            if isinstance(stmt.value, ast.Call) and self.qualname(stmt.value.func, state) in _NO_RETURN:
                return None
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                value = self.eval(stmt.value, state)
                self.project.note_line(self.module.relpath, stmt.lineno, value)
                self.check_return(stmt.value, value, stmt.lineno, state)
                self.summary.returns = join(self.summary.returns, add_step(value, self.step(stmt.lineno)))
                self.summary.note_return(self._items(stmt.value, state, stmt.lineno))
                self.summary.note_keys(fields.returned_keys(self, stmt.value, state, stmt.lineno))
            return None
        elif isinstance(stmt, ast.Raise):
            if stmt.exc is not None:
                self.eval(stmt.exc, state)
            return None
        elif isinstance(stmt, ast.If):
            return self.branch(stmt.test, stmt.body, stmt.orelse, state)
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            return self.loop_for(stmt, state)
        elif isinstance(stmt, ast.While):
            return self.loop_while(stmt, state)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                value = self.eval(item.context_expr, state)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, item.context_expr, value, state, stmt.lineno)
            return self.block(stmt.body, state)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            return self.try_block(stmt, state)
        elif isinstance(stmt, ast.Break | ast.Continue):
            if self._loop_exits:
                self._loop_exits[-1].append(state)
            return None
        elif isinstance(stmt, ast.Assert):
            self.eval(stmt.test, state)
            return self.guarded(stmt.test, state, True)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and self.function is not None:
            qual = f"{self.function.qualname}.<locals>.{stmt.name}"
            self.local_functions[stmt.name] = FunctionInfo(qual, stmt, class_name=self.function.class_name)
        elif isinstance(stmt, ast.Match):
            decided = self._decided_case(stmt, state)
            if decided is not None:
                return self.block(decided.body, state)
            subject = self.eval(stmt.subject, state)
            outs: list[State | None] = []
            for case in stmt.cases:
                branch = state.copy()
                for node in ast.walk(case.pattern):
                    if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
                        branch.write(node.name, subject)
                outs.append(self.block(case.body, branch))
            outs.append(state)
            return join_states(outs)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                key = self.key(target)
                if key is not None:
                    state.write(key, CLEAN)
        return state

    def _decided_case(self, stmt: ast.Match, state: State) -> ast.match_case | None:
        """The one case a constant subject selects, when every pattern before it is a literal."""
        subject = self.const(stmt.subject, state)
        if subject is self.UNKNOWN:
            return None
        for case in stmt.cases:
            if case.guard is not None:
                return None
            pattern = case.pattern
            options = pattern.patterns if isinstance(pattern, ast.MatchOr) else [pattern]
            for option in options:
                if isinstance(option, ast.MatchAs) and option.pattern is None and option.name is None:
                    return case
                if not isinstance(option, ast.MatchValue | ast.MatchSingleton):
                    return None
                value = (
                    option.value
                    if isinstance(option, ast.MatchSingleton)
                    else self.const(option.value, state)
                )
                if value is self.UNKNOWN:
                    return None
                if value == subject:
                    return case
        return None

    def _integrity_targets(self, targets: list[ast.expr]) -> bool:
        """Every target is named like a non-security digest (``etag``, ``checksum``)."""
        pattern = self.rules.rules.api_checks.integrity_names
        if not pattern:
            return False
        keys = [self.key(target) for target in targets]
        return all(k is not None and shapes.regex(pattern).search(k.rsplit(".", 1)[-1]) for k in keys)

    def assign(self, target: ast.expr, value_node: ast.expr, value: Taint, state: State, line: int) -> None:
        """Bind ``target`` to ``value`` (unpacking tuples element by element where the value is a tuple)."""
        if isinstance(target, ast.Tuple | ast.List):
            elts = value_node.elts if isinstance(value_node, ast.Tuple | ast.List) else None
            if any(isinstance(sub, ast.Starred) for sub in target.elts):
                elts = None  # a starred target takes a slice: every name gets the whole value
            elif elts is None and self._unpack_items(target, value_node, state, line):
                return
            for i, sub in enumerate(target.elts):
                if elts is not None and len(elts) == len(target.elts):
                    self.assign(sub, elts[i], self.eval(elts[i], state), state, line)
                else:
                    self.assign(
                        sub.value if isinstance(sub, ast.Starred) else sub, value_node, value, state, line
                    )
            return
        if isinstance(target, ast.Subscript):
            self.check_store(target, value, line, state)
        key = self.key(target)
        if key is None:
            if isinstance(target, ast.Subscript | ast.Attribute):
                base = self.key(target.value)
                if base is not None:
                    state.taint[base] = join(state.read(base) or CLEAN, add_step(value, self.step(line)))
                    state.untag(base, "keyed")
            return
        state.write(key, add_step(value, self.step(line)))
        if value:
            self.check_secret_name(key, value, line)
        if key.startswith("self.") and self.function is not None and self.function.class_name:
            attr = key[len("self.") :]
            if "." not in attr and "[" not in attr:
                self.summary.self_attrs[attr] = join(self.summary.self_attrs.get(attr, CLEAN), value)
        const = self.const(value_node, state)
        if const is not self.UNKNOWN:
            state.consts[key] = const
        if (
            isinstance(value_node, ast.List | ast.Tuple)
            and len(value_node.elts) < 64
            and not any(isinstance(e, ast.Starred) for e in value_node.elts)
        ):
            state.tag(key, "elements")
            for index, elt in enumerate(value_node.elts):
                state.taint[f"{key}[{index}]"] = add_step(self.eval(elt, state), self.step(line))
        self.tag_value(key, value_node, state)
        hosts.note_parse(self, key, value_node, state)
        self._field_values(key, value_node, state, line)

    def _field_values(self, key: str, node: ast.expr, state: State, line: int) -> None:
        """Per-key taint of a literal dict and per-attribute taint of a new project object."""
        if isinstance(node, ast.Dict):
            items = fields.literal_dict_items(node)
            for name, item in items or ():
                state.taint[f"{key}[{name!r}]"] = add_step(self.eval(item, state), self.step(line))
            if items is not None:
                state.tag(key, "keyed")
            return
        if not isinstance(node, ast.Call):
            return
        keyed = self.call_keys.get(id(node))
        if keyed is not None:
            for name, value in keyed.items():
                state.taint[f"{key}[{name!r}]"] = add_step(value, self.step(line))
            state.tag(key, "keyed")
            return
        qualified = self.qualname(node.func, state)
        if qualified is None:
            return
        local = qualified.removeprefix(self.module.name + ".")
        cls = self.module.classes.get(local) or self.project.class_def(qualified)
        bound = fields.constructor_fields(cls, node) if cls is not None else None
        for attr, arg in (bound or {}).items():
            value = CLEAN if arg is None else self.eval(arg, state)
            state.taint[f"{key}.{attr}"] = add_step(value, self.step(line))

    def _items(self, node: ast.expr, state: State, line: int) -> tuple[Taint, ...] | None:
        """A returned tuple literal's elements, each with its own taint (None: not one)."""
        if not isinstance(node, ast.Tuple) or any(isinstance(e, ast.Starred) for e in node.elts):
            return None
        return tuple(add_step(self.eval(e, state), self.step(line)) for e in node.elts)

    def _unpack_items(
        self, target: ast.Tuple | ast.List, value_node: ast.expr, state: State, line: int
    ) -> bool:
        """``a, b = t`` (``t`` a tuple literal bound earlier) or ``a, b = f()`` (``f`` returns tuple
        literals): each name gets its element's taint. False when the elements are not known."""
        count = len(target.elts)
        items = self.call_items.get(id(value_node)) if isinstance(value_node, ast.Call) else None
        base = self.key(value_node)
        if items is None and base is not None and state.has_tag(base, "elements"):
            keys = [f"{base}[{i}]" for i in range(count)]
            if all(k in state.taint for k in keys) and f"{base}[{count}]" not in state.taint:
                items = tuple(state.taint[k] for k in keys)
        if items is None or len(items) != count:
            return False
        for sub, value in zip(target.elts, items, strict=True):
            self.assign(sub, value_node, value, state, line)
        return True

    def branch(
        self, test: ast.expr, body: list[ast.stmt], orelse: list[ast.stmt], state: State
    ) -> State | None:
        """An ``if``: constant tests pick one side; guards clear taint on the side they protect."""
        known = self.const(test, state)
        if known is not self.UNKNOWN:
            self._dead(orelse if known else body)
            return self.block(body if known else orelse, state)
        self.eval(test, state)
        then_state = self.guarded(test, state.copy(), True)
        else_state = self.guarded(test, state.copy(), False)
        return join_states([self.block(body, then_state), self.block(orelse, else_state)])

    def _dead(self, body: list[ast.stmt]) -> None:
        """Record statements that can never run (pattern findings there are disproved)."""
        if body:
            end = body[-1].end_lineno or body[-1].lineno
            self.project.note_dead(self.module.relpath, body[0].lineno, end)

    def guarded(self, test: ast.expr, state: State, holds: bool) -> State:
        """``state`` with what ``test`` proves (when it evaluates to ``holds``) applied."""
        for key, cwes in self.guard_facts(test, holds, state):
            value = state.read(key)
            if value:
                state.taint[key] = clear(value, cwes)
                _clear_derived(state, key, value, cwes)
        return state

    def guard_facts(self, test: ast.expr, holds: bool, state: State) -> list[tuple[str, frozenset[int]]]:
        """Access paths proven safe, and for which CWEs, when ``test`` is ``holds``."""
        every = frozenset({ALL_CWES})
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return self.guard_facts(test.operand, not holds, state)
        if isinstance(test, ast.BoolOp):
            conjunctive = isinstance(test.op, ast.And) == holds
            facts = [self.guard_facts(v, holds, state) for v in test.values]
            if conjunctive:
                return [f for group in facts for f in group]
            return []
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            op, left, right = test.ops[0], test.left, test.comparators[0]
            if (
                isinstance(op, ast.In | ast.NotIn)
                and holds == isinstance(op, ast.In)
                and self.const(right, state) is not self.UNKNOWN
            ):
                return self._known_facts(left, every, state)
            if isinstance(op, ast.In | ast.NotIn) and holds != isinstance(op, ast.In):
                key = self.key(right)
                if key is not None and self.const(left, state) in ("..", "/", "\\", "../"):
                    return [(key, frozenset({22}))]
            if isinstance(op, ast.Eq | ast.Is) == holds and isinstance(
                op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot
            ):
                for a, b in ((left, right), (right, left)):
                    if self.const(b, state) not in (self.UNKNOWN, None):
                        known = self._known_facts(a, every, state)
                        if known:
                            return known
            return []
        if isinstance(test, ast.Call) and holds:
            name = self.qualname(test.func, state)
            clears = self.rules.guard_calls.get(name or "")
            if clears is None and isinstance(test.func, ast.Attribute):
                clears = self.rules.guard_methods.get(test.func.attr)
                if clears is not None:
                    return [(k, clears) for k in _names_in(test.func.value, self)]
            if clears is None and isinstance(test.func, ast.Name):
                clears = self.rules.guard_calls.get(test.func.id)
            if clears is not None:
                args = test.args[1:] if name in ("re.match", "re.fullmatch") else test.args
                return [(k, clears) for arg in args for k in _names_in(arg, self)]
        return []

    def _known_facts(
        self, node: ast.expr, every: frozenset[int], state: State
    ) -> list[tuple[str, frozenset[int]]]:
        """``node`` compared with a constant: it is safe, and so is a URL whose host it is (for redirects)."""
        key = self.key(node)
        facts = [] if key is None else [(key, every)]
        url = hosts.checked_url(self, node, state)
        return facts if url is None else [*facts, (url, hosts.REDIRECT)]

    def loop_for(self, stmt: ast.For | ast.AsyncFor, state: State) -> State | None:
        """A ``for``: the body twice (to reach loop-carried taint), zero or more iterations."""
        iterated = self.eval(stmt.iter, state)
        # a literal with items runs the body at least once: no path skips the loop
        runs = isinstance(stmt.iter, ast.List | ast.Tuple | ast.Set) and bool(stmt.iter.elts)
        skipped = [] if runs else [state]
        self._loop_exits.append([])
        current: State | None = state.copy()
        ends: list[State | None] = []
        for _ in range(2):
            if current is None:
                break
            self.assign(stmt.target, stmt.iter, iterated, current, stmt.lineno)
            ends.append(self.block(stmt.body, current))
            current = join_states([*skipped, *ends])
        exits = self._loop_exits.pop()
        after = join_states([*skipped, *ends, *exits])
        return self.block(stmt.orelse, after) if stmt.orelse and after is not None else after

    def loop_while(self, stmt: ast.While, state: State) -> State | None:
        """A ``while``: skipped when its test is constant false."""
        known = self.const(stmt.test, state)
        if known is not self.UNKNOWN and not known:
            self._dead(stmt.body)
            return self.block(stmt.orelse, state)
        self._loop_exits.append([])
        current: State | None = self.guarded(stmt.test, state.copy(), True)
        for _ in range(2):
            if current is None:
                break
            current = join_states([state, self.block(stmt.body, current)])
        exits = self._loop_exits.pop()
        if known is not self.UNKNOWN and known:
            return join_states(list(exits)) if exits else None
        return join_states([state, current, *exits])

    def try_block(self, stmt: ast.stmt, state: State) -> State | None:
        """``try``: handlers start from anything the body may have done."""
        body = getattr(stmt, "body", [])
        handlers = getattr(stmt, "handlers", [])
        after_body = self.block(body, state.copy())
        after_body = self.block(getattr(stmt, "orelse", []), after_body) if after_body else after_body
        entry = join_states([state, after_body])
        outs: list[State | None] = [after_body]
        outs.extend(self.block(handler.body, entry.copy() if entry else None) for handler in handlers)
        out = join_states(outs)
        final = getattr(stmt, "finalbody", [])
        if final:
            return (
                self.block(final, out if out is not None else (entry.copy() if entry else None))
                if out
                else None
            )
        return out


def _clear_derived(state: State, key: str, value: Taint, cwes: frozenset[int]) -> None:
    """Values computed from ``key``'s current value are as safe as it is (``data = "x" + v``
    before ``if v in ALLOWED``)."""
    for other, taint in list(state.taint.items()):
        if other == key or not taint:
            continue
        changed = False
        flows = []
        for flow in taint:
            derived = any(
                flow.origin == base.origin and flow.steps[: len(base.steps)] == base.steps for base in value
            )
            if derived:
                flow = replace(flow, cleared=flow.cleared | cwes)
                changed = True
            flows.append(flow)
        if changed:
            state.taint[other] = tuple(flows)


def _annotation_name(node: ast.expr | None) -> str:
    if node is None:
        return ""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_annotation_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript) and _annotation_name(node.value) in ("Annotated", "typing.Annotated"):
        first = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts else node.slice
        return _annotation_name(first)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def _names_in(node: ast.expr, analysis: ExpressionAnalysis) -> list[str]:
    """Access paths a guard speaks about: the expression's own path, or every name inside it."""
    key = analysis.key(node)
    if key is not None:
        return [key]
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
