"""The condition language of YAML policies, checked at load time and evaluated per resource.

A condition is a mapping. Logic: ``all: [..]``, ``any: [..]``, ``not: {..}``. A test on an
attribute path (dotted, ``*`` for every list element, lists of blocks are entered on their
own): ``attr`` plus one of ``exists``, ``equals``, ``not_equals``, ``in``, ``not_in``,
``regex``, ``not_regex``, ``contains``, ``not_contains``, ``gt``, ``gte``, ``lt``, ``lte``,
``intersects`` (the value, or one element of it, is in the given list), ``covers_port`` (a port,
``"20-30"`` range, ``"*"``, or a list of them, includes the given port), or ``all``/``any``
with a condition each list element must / some element must meet.
``missing: pass|fail`` says what an absent attribute means. ``connected`` asks for another
resource that refers to this one; ``python`` names a Python policy. Values that are not
known before deployment make the verdict ``unknown`` with the reason, never ``fail``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from bastion.scan.iac.model import Outcome, Ref, Resource, Result, Unresolved

__all__ = ["Context", "PythonCheck", "check_condition", "evaluate", "get_values"]

PythonCheck = Callable[[Resource, "Context"], Result]

LEAF_OPS = (
    "exists",
    "equals",
    "not_equals",
    "in",
    "not_in",
    "regex",
    "not_regex",
    "contains",
    "not_contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "intersects",
    "covers_port",
)
NEGATIVE = {"not_equals", "not_in", "not_regex", "not_contains"}
_KEYS = {"attr", "missing", "ignore_case", "all", "any", *LEAF_OPS}
_OPS = frozenset((*LEAF_OPS, "all", "any"))
_EXISTENTIAL = frozenset(("contains", "not_contains", "intersects", "covers_port"))
"""Leaf operators true (or, negated, false) as soon as one element of a list matches."""


class Context:
    """What a check may look at besides its resource: the other resources of the scan."""

    def __init__(self, resources: Sequence[Resource], python: Mapping[str, PythonCheck]) -> None:
        self.resources = resources
        self.python = python
        self._by_type: dict[str, list[Resource]] = {}
        for resource in resources:
            for kind in resource.types():
                self._by_type.setdefault(kind, []).append(resource)

        self._values: dict[tuple[int, str], list[tuple[str, Any]]] = {}

    def of_type(self, kind: str) -> list[Resource]:
        """Resources of ``kind`` (type or alias)."""
        return self._by_type.get(kind, [])

    def values_at(self, resource: Resource, path: str) -> list[tuple[str, Any]]:
        """``get_values(resource.attrs, path)``, computed once per resource and path.

        Connection checks ask it of every candidate resource for every resource checked; the
        attributes do not change during a scan, and the context keeps every resource alive, so
        the resource's id is a sound key.
        """
        key = (id(resource), path)
        found = self._values.get(key)
        if found is None:
            found = self._values[key] = list(get_values(resource.attrs, path))
        return found


def check_condition(cond: Any, where: str, python: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming ``where`` (``check.all[1].regex``) for a malformed condition."""
    if not isinstance(cond, dict) or not cond:
        raise ValueError(f"{where}: a condition must be a non-empty mapping")
    if "attr" not in cond:
        keys = set(cond)
        if keys == {"all"} or keys == {"any"}:
            items = cond[next(iter(keys))]
            if not isinstance(items, list) or not items:
                raise ValueError(f"{where}.{next(iter(keys))}: must be a non-empty list of conditions")
            for index, item in enumerate(items):
                check_condition(item, f"{where}.{next(iter(keys))}[{index}]", python)
            return
        if keys == {"not"}:
            check_condition(cond["not"], f"{where}.not", python)
            return
        if keys == {"python"}:
            if cond["python"] not in python:
                raise ValueError(f"{where}.python: no Python policy named {cond['python']!r}")
            return
        if keys == {"connected"}:
            spec = cond["connected"]
            if (
                not isinstance(spec, dict)
                or not isinstance(spec.get("type"), str | list)
                or not spec.get("via")
            ):
                raise ValueError(f"{where}.connected: needs 'type' and 'via'")
            if set(spec) - {"type", "via", "where"}:
                raise ValueError(
                    f"{where}.connected: unknown key {sorted(set(spec) - {'type', 'via', 'where'})[0]!r}"
                )
            if "where" in spec:
                check_condition(spec["where"], f"{where}.connected.where", python)
            return
        raise ValueError(f"{where}: expected attr, all, any, not, connected or python, got {sorted(keys)}")
    if not isinstance(cond["attr"], str):
        raise ValueError(f"{where}.attr: must be a string path")
    unknown = set(cond) - _KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    ops = [k for k in cond if k in LEAF_OPS or k in ("all", "any")]
    if len(ops) != 1:
        raise ValueError(f"{where}: needs exactly one operator besides attr (got {ops or 'none'})")
    op = ops[0]
    value = cond[op]
    if op in ("all", "any"):
        check_condition(value, f"{where}.{op}", python)
    elif op in ("regex", "not_regex"):
        try:
            re.compile(value)
        except (re.error, TypeError) as exc:
            raise ValueError(f"{where}.{op}: invalid regular expression: {exc}") from None
    elif op in ("in", "not_in", "intersects") and not isinstance(value, list):
        raise ValueError(f"{where}.{op}: must be a list")
    elif op == "covers_port" and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValueError(f"{where}.covers_port: must be a port number")
    elif op in ("gt", "gte", "lt", "lte") and not isinstance(value, int | float):
        raise ValueError(f"{where}.{op}: must be a number")
    elif op == "exists" and not isinstance(value, bool):
        raise ValueError(f"{where}.exists: must be true or false")
    if cond.get("missing", "pass") not in ("pass", "fail"):
        raise ValueError(f"{where}.missing: must be pass or fail")


def get_values(data: Any, path: str, base: str = "") -> Iterator[tuple[str, Any]]:
    """Every (concrete path, value) at ``path``; lists met on the way are entered element by element."""
    found: list[tuple[str, Any]] = []
    _values(data, _steps(path), 0, base, found)
    return iter(found)


@lru_cache(maxsize=4096)
def _steps(path: str) -> tuple[str, ...]:
    """``path`` cut into its segments once (policies ask for the same few hundred paths)."""
    steps: list[str] = []
    while path not in ("", "."):
        head, _, path = path.partition(".")
        steps.append(head)
    return tuple(steps)


def _values(data: Any, steps: tuple[str, ...], at: int, base: str, out: list[tuple[str, Any]]) -> None:
    if at == len(steps) or isinstance(data, Unresolved | Ref):
        out.append((base, data))
        return
    head = steps[at]
    if isinstance(data, list):
        if head == "*":
            for index, item in enumerate(data):
                _values(item, steps, at + 1, f"{base}.{index}" if base else str(index), out)
        elif head.isdigit():
            if int(head) < len(data):
                _values(data[int(head)], steps, at + 1, f"{base}.{head}" if base else head, out)
        else:
            for index, item in enumerate(data):
                _values(item, steps, at, f"{base}.{index}" if base else str(index), out)
    elif isinstance(data, dict) and head in data:
        _values(data[head], steps, at + 1, f"{base}.{head}" if base else head, out)


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _scalar(value: Any) -> Any:
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    return value


def _same(a: Any, b: Any, ignore_case: bool) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower() if ignore_case else a == b
    if isinstance(b, str) and isinstance(a, int | float) and not isinstance(a, bool):
        return str(a) == b
    if isinstance(b, bool | int | float):
        return bool(_scalar(a) == b) and type(_scalar(a)) is not str
    return bool(a == b)


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, bool) else str(value).lower()
    return text if len(text) <= 60 else text[:57] + "..."


_WILDCARD_PORTS = frozenset(("*", "any", "all"))


def _covers(spec: Any, port: int) -> bool:
    """Whether one port spec (``22``, ``"22"``, ``"20-30"``, ``"*"``) includes ``port``."""
    if isinstance(spec, bool):
        return False
    if isinstance(spec, int | float):
        return int(spec) == port
    if not isinstance(spec, str):
        return False
    text = spec.strip().lower()
    if text in _WILDCARD_PORTS:
        return True
    low, dash, high = text.partition("-")
    try:
        if dash:
            return int(low) <= port <= int(high)
        return int(text) == port
    except ValueError:
        return False


def _leaf(op: str, expected: Any, value: Any, ignore_case: bool) -> bool:
    if op == "exists":
        return bool(expected) == (value is not None)
    if op == "equals":
        return _same(value, expected, ignore_case)
    if op == "not_equals":
        return not _same(value, expected, ignore_case)
    if op == "in":
        return any(_same(value, e, ignore_case) for e in expected)
    if op == "not_in":
        return not any(_same(value, e, ignore_case) for e in expected)
    if op in ("regex", "not_regex"):
        text = (
            value
            if isinstance(value, str)
            else str(value).lower()
            if isinstance(value, bool)
            else repr(value)
        )
        flags = re.IGNORECASE if ignore_case else 0
        hit = bool(re.search(expected, text, flags)) if flags else bool(_regex(expected).search(text))
        return hit if op == "regex" else not hit
    if op in ("intersects", "covers_port"):
        elements: list[Any] = value if isinstance(value, list) else [value]
        if op == "covers_port":
            return any(_covers(e, int(expected)) for e in elements)
        return any(_same(e, x, ignore_case) for e in elements for x in expected)
    if op in ("contains", "not_contains"):
        items = value if isinstance(value, list | str | dict) else [value]
        if isinstance(items, str):
            hit = str(expected) in items
        else:
            hit = any(_same(i, expected, ignore_case) for i in items)
        return hit if op == "contains" else not hit
    number = _scalar(value)
    if isinstance(number, bool) or not isinstance(number, int | float):
        return False
    limit = float(expected)
    if op == "gt":
        return bool(number > limit)
    if op == "gte":
        return bool(number >= limit)
    if op == "lt":
        return bool(number < limit)
    return bool(number <= limit)


def _attr(cond: dict[str, Any], data: Any, resource: Resource, ctx: Context, base: str) -> Result:
    path = cond["attr"]
    op = next(k for k in cond if k in _OPS)
    expected = cond[op]
    found: list[tuple[str, Any]] = []
    _values(data, _steps(path), 0, base, found)
    where = f"{base}.{path}" if base and path not in ("", ".") else (path if path not in ("", ".") else base)
    if op == "exists" and not any(isinstance(v, Unresolved) for _, v in found):
        present = any(v is not None for _, v in found)
        ok = present == bool(expected)
        reason = "" if ok else (f"`{where}` is missing" if expected else f"`{where}` is set")
        return Result(Outcome.PASS if ok else Outcome.FAIL, where, reason)
    values = [(p, v) for p, v in found if v is not None]
    if not values:
        default = cond.get("missing", "pass" if op in NEGATIVE or op == "exists" else "fail")
        if op == "all" and "missing" not in cond:
            default = "pass"
        return Result(Outcome.PASS if default == "pass" else Outcome.FAIL, where, f"`{where}` is missing")
    if op in ("all", "any"):
        items: list[tuple[str, Any]] = []
        for concrete, value in values:
            if isinstance(value, list):
                items.extend((f"{concrete}.{i}", item) for i, item in enumerate(value))
            else:
                items.append((concrete, value))
        results = [evaluate(expected, item, resource, ctx, concrete) for concrete, item in items]
        return _combine(results, op)
    unknown: Result | None = None
    for concrete, value in values:
        hidden = _hidden_unknown(value) if isinstance(value, list | dict) else None
        if hidden is not None:
            decided = _decided_by_known(op, expected, value, bool(cond.get("ignore_case")))
            if decided is None:
                reason = hidden.reason if isinstance(hidden, Unresolved) else f"{hidden} is known after apply"
                unknown = unknown or Result(Outcome.UNKNOWN, concrete, reason)
                continue
            if not decided:
                word = op.replace("_", " ")
                return Result(
                    Outcome.FAIL,
                    concrete,
                    f"`{concrete}` is {_show(value)} (expected {word} {_show(expected)})",
                )
            continue
        if isinstance(value, Unresolved):
            unknown = unknown or Result(Outcome.UNKNOWN, concrete, value.reason)
            continue
        if isinstance(value, Ref):
            if op in ("exists",):
                continue
            unknown = unknown or Result(Outcome.UNKNOWN, concrete, f"{value} is known after apply")
            continue
        if not _leaf(op, expected, value, bool(cond.get("ignore_case"))):
            word = op.replace("_", " ")
            return Result(
                Outcome.FAIL, concrete, f"`{concrete}` is {_show(value)} (expected {word} {_show(expected)})"
            )
    return unknown or Result(Outcome.PASS, where)


def _hidden_unknown(value: Any) -> Unresolved | Ref | None:
    """The first unresolved value or reference inside a list or map, if any."""
    if isinstance(value, Unresolved | Ref):
        return value
    items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else ()
    for item in items:
        found = _hidden_unknown(item)
        if found is not None:
            return found
    return None


def _decided_by_known(op: str, expected: Any, value: Any, ignore_case: bool) -> bool | None:
    """The leaf verdict on a list holding unknown elements, where its known elements settle it.

    ``[var.cidr, "10.0.0.0/8"]`` contains "0.0.0.0/0" is unknown (``var.cidr`` may be it); with a
    known "0.0.0.0/0" element it is true whatever the unknown ones are. Operators that look at the
    whole value (``equals``, ``regex``, ...) are never settled by part of it.
    """
    if op not in _EXISTENTIAL or not isinstance(value, list):
        return None
    known = [item for item in value if _hidden_unknown(item) is None]
    verdict = _leaf(op, expected, known, ignore_case)
    settled = not verdict if op in NEGATIVE else verdict
    return verdict if settled else None


def _combine(results: list[Result], mode: str) -> Result:
    if mode == "all":
        failed = next((r for r in results if r.outcome is Outcome.FAIL), None)
        if failed:
            return failed
        unknown = next((r for r in results if r.outcome is Outcome.UNKNOWN), None)
        return unknown or Result(Outcome.PASS)
    passed = next((r for r in results if r.outcome is Outcome.PASS), None)
    if passed:
        return passed
    unknown = next((r for r in results if r.outcome is Outcome.UNKNOWN), None)
    if unknown:
        return unknown
    if not results:
        return Result(Outcome.FAIL, "", "no element meets the condition")
    last = results[-1]
    return Result(Outcome.FAIL, last.path, last.reason)


def _refers(other: Resource, via: str, target: Resource, ctx: Context) -> Result:
    for _, value in ctx.values_at(other, via):
        if isinstance(value, Ref) and value.address in target.ids:
            return Result(Outcome.PASS)
        if isinstance(value, str) and value in target.ids:
            return Result(Outcome.PASS)
        if isinstance(value, dict) and any(
            str(v) in target.ids for v in value.values() if isinstance(v, str)
        ):
            return Result(Outcome.PASS)  # CloudFormation {"Ref": "LogicalId"}
        if isinstance(value, Unresolved):
            return Result(Outcome.UNKNOWN, via, value.reason)
    return Result(Outcome.FAIL)


def _connected(spec: dict[str, Any], resource: Resource, ctx: Context) -> Result:
    kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    unknown: Result | None = None
    for kind in kinds:
        for other in ctx.of_type(kind):
            if other is resource or (other.path != resource.path and other.source != resource.source):
                continue
            link = _refers(other, spec["via"], resource, ctx)
            if link.outcome is Outcome.PASS and "where" in spec:
                link = evaluate(spec["where"], other.attrs, other, ctx, "")
            if link.outcome is Outcome.PASS:
                return link
            if link.outcome is Outcome.UNKNOWN:
                unknown = unknown or link
    names = " or ".join(kinds)
    return unknown or Result(Outcome.FAIL, "", f"no {names} refers to {resource.name}")


def evaluate(cond: dict[str, Any], data: Any, resource: Resource, ctx: Context, base: str = "") -> Result:
    """The verdict of ``cond`` on ``data`` (the resource's attributes or one list element)."""
    if "attr" in cond:
        return _attr(cond, data, resource, ctx, base)
    if "all" in cond:
        return _combine([evaluate(c, data, resource, ctx, base) for c in cond["all"]], "all")
    if "any" in cond:
        return _combine([evaluate(c, data, resource, ctx, base) for c in cond["any"]], "any")
    if "not" in cond:
        inner = evaluate(cond["not"], data, resource, ctx, base)
        if inner.outcome is Outcome.UNKNOWN:
            return inner
        flipped = Outcome.FAIL if inner.outcome is Outcome.PASS else Outcome.PASS
        where = base or inner.path
        reason = (
            f"`{where}` matches what the policy forbids"
            if where
            else "the resource matches what the policy forbids"
        )
        return Result(flipped, where, reason if flipped is Outcome.FAIL else "")
    if "connected" in cond:
        return _connected(cond["connected"], resource, ctx)
    return ctx.python[cond["python"]](resource, ctx)
