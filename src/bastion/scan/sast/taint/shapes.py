"""Shape tests and small pure helpers the expression analysis uses: constant folding,
URL prefixes, call-site composition, parser settings, list elements, web-handler decorators."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from bastion.scan.sast.taint.module import UNKNOWN
from bastion.scan.sast.taint.spec import RuleBook
from bastion.scan.sast.taint.state import State
from bastion.scan.sast.taint.values import Flow, Step, Taint, join_all

if TYPE_CHECKING:
    from bastion.scan.sast.taint.module import ModuleInfo

URL_CWES = frozenset({601})
FOLDS: dict[str, Callable[[Any], Any]] = {"len": len, "str": str, "int": int}

STRING_BUFFERS = frozenset({"io.StringIO", "io.BytesIO", "StringIO.StringIO", "cStringIO.StringIO"})
"""In-memory text and bytes buffers: what is written into one is what ``getvalue()`` returns."""


def typed_get(node: ast.Call) -> bool:
    """``request.args.get("n", type=int)``: werkzeug converts the value (or drops it)."""
    return any(
        kw.arg == "type" and isinstance(kw.value, ast.Name) and kw.value.id in ("int", "float", "bool")
        for kw in node.keywords
    )


WORD_CLASS = re.compile(r"\[\^(?:[A-Za-z0-9_]|[A-Za-z0-9]-[A-Za-z0-9]|\\w|\\d)+\][+*]?")


def strips_to_word_characters(node: ast.Call) -> bool:
    """``re.sub(r"[^A-Za-z0-9_]", "", value)``: only letters, digits and underscores survive."""
    if len(node.args) < 3:
        return False
    pattern, replacement = node.args[0], node.args[1]
    return (
        isinstance(pattern, ast.Constant)
        and isinstance(pattern.value, str)
        and WORD_CLASS.fullmatch(pattern.value) is not None
        and isinstance(replacement, ast.Constant)
        and replacement.value == ""
    )


def fold(node: ast.expr) -> tuple[str, ast.expr] | None:
    """``(function, argument)`` of ``len(x)``, ``str(x)`` or ``int(x)``, else None."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id not in FOLDS:
        return None
    if len(node.args) != 1 or node.keywords:
        return None
    return node.func.id, node.args[0]


@functools.lru_cache(maxsize=8)
def regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled once."""
    return re.compile(pattern)


_URL_BLANKS = "".join(chr(c) for c in range(0x21))
"""Browsers drop leading spaces and control characters from a URL (`` //evil`` is ``//evil``)."""


def fixed_url_prefix(value: Any) -> bool:
    """True for the constant start of a URL that fixes its site whatever follows: a same-site
    path (``/alerts/``: a ``/`` then a character that is not ``/``, ``\\`` or a tab or newline
    browsers drop), a query or fragment of the current page (``?``, ``#``), or a scheme and host
    ended by ``/``, ``?`` or ``#`` (``https://example.com/``). Not ``""``, ``"/"`` alone (the
    value may start with ``/evil.com``), ``//`` or a host still open (``https://example.com``
    then ``@evil.com``)."""
    if not isinstance(value, str):
        return False
    text = value.lstrip(_URL_BLANKS)
    if text.startswith("/"):
        return len(text) > 1 and text[1] not in "/\\\t\n\r"
    if text[:1] in ("?", "#"):
        return True
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return False
    ends = [rest.index(c) for c in "/?#" if c in rest]
    host = rest[: min(ends)] if ends else ""
    return bool(host) and "@" not in host and "\\" not in host


def last(func: ast.expr) -> str:
    """The last name of a callee: ``escape`` for ``markupsafe.escape``, ``execute`` for ``cur.execute``."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def compose(arg: Taint, call_step: Step, inner: Flow) -> Iterator[Flow]:
    """Flows of an argument continued through a callee's flow from its parameter (call site step between)."""
    for flow in arg:
        steps = (*flow.steps, call_step, *inner.steps[1:])
        yield Flow(flow.origin, steps[-24:] if len(steps) > 24 else steps, flow.cleared | inner.cleared)


def param_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Parameter names in call order: positional, keyword-only, ``*args``, ``**kwargs``."""
    args = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
    if node.args.vararg:
        args.append(node.args.vararg.arg)
    if node.args.kwarg:
        args.append(node.args.kwarg.arg)
    return args


def receiver_matches(key: str, names: tuple[str, ...]) -> bool:
    """True when a receiver spelled ``key`` is named like one of ``names`` (``conn``, ``ldap_conn``)."""
    last = key.rsplit(".", 1)[-1]
    return key in names or last in names or any(last.endswith("_" + n) for n in names)


def chain(node: ast.expr) -> tuple[list[str], ast.expr]:
    """Attribute names down a receiver chain, outermost first, and the expression it starts
    from: ``Entry.objects.using(db).filter(x)`` -> (["filter", "using", "objects"], ``Entry``)."""
    attrs: list[str] = []
    for _ in range(200):
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            break
    return attrs, node


def safe_parser(node: ast.Call) -> bool:
    """True for ``XMLParser(resolve_entities=False, ...)``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name != "XMLParser":
        return False
    return any(
        kw.arg == "resolve_entities" and isinstance(kw.value, ast.Constant) and kw.value.value is False
        for kw in node.keywords
    )


def elements(state: State, key: str) -> list[Taint] | None:
    """The tracked items of list ``key`` (``key[0]``, ``key[1]``...), or None when not tracked."""
    if not state.has_tag(key, "elements"):
        return None
    items: list[Taint] = []
    while f"{key}[{len(items)}]" in state.taint:
        items.append(state.taint[f"{key}[{len(items)}]"])
    return items


def store_elements(state: State, key: str, items: list[Taint]) -> None:
    """Replace the tracked items of list ``key`` (and its whole-list taint) with ``items``."""
    index = 0
    while f"{key}[{index}]" in state.taint:
        del state.taint[f"{key}[{index}]"]
        index += 1
    state.taint[key] = join_all(items)
    for index, item in enumerate(items):
        state.taint[f"{key}[{index}]"] = item


def arith(op: ast.operator, left: Any, right: Any) -> Any:
    """Constant folding of small arithmetic and string concatenation; ``UNKNOWN`` otherwise."""
    numbers = isinstance(left, int | float) and isinstance(right, int | float)
    try:
        if isinstance(op, ast.Add) and (numbers or (isinstance(left, str) and isinstance(right, str))):
            return left + right
        if not numbers:
            return UNKNOWN
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult) and abs(left) < 1e12 and abs(right) < 1e12:
            return left * right
        if isinstance(op, ast.Div):
            return left / right
        if isinstance(op, ast.FloorDiv):
            return left // right
        if isinstance(op, ast.Mod):
            return left % right
    except (ZeroDivisionError, OverflowError):
        return UNKNOWN
    return UNKNOWN


def compare(op: ast.cmpop, left: Any, right: Any) -> Any:
    """Evaluate a comparison of two known values; ``UNKNOWN`` when Python would raise."""
    try:
        if isinstance(op, ast.Eq):
            return left == right
        if isinstance(op, ast.NotEq):
            return left != right
        if isinstance(op, ast.Lt):
            return left < right
        if isinstance(op, ast.LtE):
            return left <= right
        if isinstance(op, ast.Gt):
            return left > right
        if isinstance(op, ast.GtE):
            return left >= right
        if isinstance(op, ast.Is):
            return left is right
        if isinstance(op, ast.IsNot):
            return left is not right
        if isinstance(op, ast.In):
            return left in right
        if isinstance(op, ast.NotIn):
            return left not in right
    except TypeError:
        return UNKNOWN
    return UNKNOWN


HTTP_VERBS = frozenset({"get", "post", "put", "delete", "patch", "head", "options"})
APP_WORDS = ("app", "router", "bp", "blueprint", "api", "route", "web", "server")


def web_decorator(target: ast.expr, last: str, module: ModuleInfo) -> bool:
    """``@app.route``, ``@router.get``: an HTTP-verb decorator counts when the module imports a
    web framework or the object is named like an app or router (``@cache.get`` does not)."""
    if last not in HTTP_VERBS or module.frameworks:
        return True
    owner = target.value if isinstance(target, ast.Attribute) else None
    name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
    return any(word in name.lower() for word in APP_WORDS)


def route_kind(
    node: ast.FunctionDef | ast.AsyncFunctionDef, module: ModuleInfo, rules: RuleBook
) -> tuple[bool, bool]:
    """(is a web handler whose parameters are request data, returns HTML)."""
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        last = (
            target.attr
            if isinstance(target, ast.Attribute)
            else target.id
            if isinstance(target, ast.Name)
            else ""
        )
        if last in rules.route_decorators and web_decorator(target, last, module):
            html = "flask" in module.frameworks and "fastapi" not in module.frameworks
            if isinstance(dec, ast.Call):
                for kw in dec.keywords:
                    if kw.arg == "response_class" and "HTML" in ast.dump(kw.value):
                        html = True
            return True, html
    args = node.args.args
    if args and args[0].arg in rules.request_names and "django" in module.frameworks:
        return True, False
    return False, False


def fixed_route_path(
    node: ast.FunctionDef | ast.AsyncFunctionDef, module: ModuleInfo, rules: RuleBook
) -> bool:
    """Every route decorator of ``node`` (at least one) names a constant path without parameters
    (``@app.route("/a/b")``; not ``"/a/<b>"`` nor FastAPI's ``"/a/{b}"``)."""
    paths: list[object] = []
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if last(target) not in rules.route_decorators or not web_decorator(target, last(target), module):
            continue
        if not isinstance(dec, ast.Call):
            return False
        spelled = [kw.value for kw in dec.keywords if kw.arg in ("rule", "path")] + dec.args[:1]
        if len(spelled) != 1 or not isinstance(spelled[0], ast.Constant):
            return False
        paths.append(spelled[0].value)
    return bool(paths) and all(isinstance(p, str) and "<" not in p and "{" not in p for p in paths)


def says_safe(name: str, words: tuple[str, ...]) -> bool:
    """The last part of ``name``, split at ``_`` and case changes, contains one of ``words``
    (``get_safe_value``, ``sanitizedInput``; not ``unsafe_value``)."""
    tail = name.rsplit(".", 1)[-1]
    parts = {p.lower() for p in re.split(r"_|(?<=[a-z0-9])(?=[A-Z])", tail) if p}
    return bool(words) and not parts.isdisjoint(words)


_DEPENDENCIES = ("Depends", "Security")


def _dependency_call(node: ast.expr | None) -> bool:
    """``Depends(...)``/``Security(...)``, also as ``fastapi.Depends(...)``."""
    return isinstance(node, ast.Call) and last(node.func) in _DEPENDENCIES


def _annotated_dependency(node: ast.expr | None) -> ast.Call | None:
    """The ``Depends(...)`` of ``Annotated[User, Depends(current_user)]``."""
    if not isinstance(node, ast.Subscript) or last(node.value) != "Annotated":
        return None
    extras = node.slice.elts[1:] if isinstance(node.slice, ast.Tuple) else []
    return next((extra for extra in extras if isinstance(extra, ast.Call) and _dependency_call(extra)), None)


def dependency(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    arg: ast.arg,
    module: ModuleInfo,
    elsewhere: Callable[[str], ast.expr | None],
) -> ast.Call | None:
    """The ``Depends(...)``/``Security(...)`` call of a FastAPI dependency parameter: its default,
    or its annotation ``Annotated[T, Depends(...)]``, written in place or through a module-level
    name bound once (``DB = Depends(get_db)``, ``CurrentUser = Annotated[User,
    Depends(current_user)]``), here or imported (``elsewhere`` answers for a qualified name)."""

    def resolved(expr: ast.expr | None) -> ast.expr | None:
        if isinstance(expr, ast.Name) and expr.id in module.values:
            return module.values[expr.id]
        if isinstance(expr, ast.Name) and expr.id in module.aliases:
            return elsewhere(module.aliases[expr.id]) or expr
        return expr

    positional = [*node.args.posonlyargs, *node.args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(node.args.defaults))
    defaults += list(node.args.defaults)
    pairs = list(zip(positional, defaults, strict=True)) + list(
        zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
    )
    default = resolved(next((d for candidate, d in pairs if candidate is arg), None))
    if isinstance(default, ast.Call) and _dependency_call(default):
        return default
    return _annotated_dependency(resolved(arg.annotation))


def dependency_targets(module: ModuleInfo) -> set[str]:
    """Qualified names of the functions ``module`` passes to ``Depends``/``Security``."""
    out: set[str] = set()
    for node in ast.walk(module.tree):
        if not (isinstance(node, ast.Call) and _dependency_call(node) and node.args):
            continue
        target = node.args[0]
        parts: list[str] = []
        while isinstance(target, ast.Attribute):
            parts.append(target.attr)
            target = target.value
        if not isinstance(target, ast.Name):
            continue
        if target.id in module.aliases:
            base = module.aliases[target.id]
        elif target.id in module.functions or target.id in module.classes:
            base = f"{module.name}.{target.id}"
        else:
            continue
        out.add(".".join([base, *reversed(parts)]))
    return out
