"""Terraform's pure built-in functions, on values that may hold unknown parts.

Functions that build structures (``merge``, ``concat``, ``jsonencode``, ``lookup``, ...) keep
unknown elements in place, so a policy still sees the known parts; functions that need the whole
value (``format``, ``join``, ``cidrsubnet``, ...) return the first unknown they meet instead.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from bastion.scan.iac.model import Ref, Unresolved, first_unknown

__all__ = ["FUNCTIONS", "blocker", "to_text"]

MAX_RANGE = 10_000


def blocker(value: Any) -> Unresolved | None:
    """The first unknown part of ``value`` (as an :class:`Unresolved`), or None when fully known."""
    return first_unknown(value, "known after apply")


def to_text(value: Any) -> str | Unresolved:
    """A primitive value as a template writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    if value is None:
        return Unresolved("a null value in a template", error=True)
    return Unresolved(f"a {type(value).__name__} cannot be written into a string", error=True)


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` applied only when every argument is fully known."""

    def wrapper(*args: Any) -> Any:
        for arg in args:
            found = blocker(arg)
            if found is not None:
                return found
        return function(*args)

    wrapper.__doc__ = function.__doc__
    return wrapper


def _whole(value: Any) -> Unresolved | None:
    """``value`` itself unknown (not a part of it)."""
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, Ref):
        return Unresolved(f"{value} is known after apply")
    return None


def _jsonencode(value: Any) -> Any:
    if blocker(value) is not None:
        return value  # a document with unknown parts stays a structure the policies can read
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _merge(*maps: Any) -> Any:
    out: dict[str, Any] = {}
    for item in maps:
        if item is None:
            continue
        stop = _whole(item)
        if stop is not None:
            return stop
        if not isinstance(item, dict):
            raise TypeError("merge() takes maps")
        out.update(item)
    return out


def _concat(*lists: Any) -> Any:
    out: list[Any] = []
    for item in lists:
        stop = _whole(item)
        if stop is not None:
            return stop
        if not isinstance(item, list):
            raise TypeError("concat() takes lists")
        out.extend(item)
    return out


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    stop = _whole(mapping) or blocker(key)
    if stop is not None:
        return stop
    if not isinstance(mapping, dict):
        raise TypeError("lookup() takes a map")
    if str(key) in mapping:
        return mapping[str(key)]
    if default:
        return default[0]
    return Unresolved(f"lookup(): no key {key!r}", error=True)


def _element(items: Any, index: Any) -> Any:
    stop = _whole(items) or blocker(index)
    if stop is not None:
        return stop
    if not isinstance(items, list) or not items:
        raise ValueError("element() takes a non-empty list")
    return items[int(index) % len(items)]


def _coalesce(*args: Any) -> Any:
    for arg in args:
        stop = _whole(arg)
        if stop is not None:
            return stop
        if arg is not None and arg != "":
            return arg
    return Unresolved("coalesce(): every argument is null or empty", error=True)


def _coalescelist(*args: Any) -> Any:
    for arg in args:
        stop = _whole(arg)
        if stop is not None:
            return stop
        if isinstance(arg, list) and arg:
            return arg
    return []


def _list_of(value: Any, name: str) -> list[Any] | Unresolved:
    stop = _whole(value)
    if stop is not None:
        return stop
    if not isinstance(value, list):
        raise TypeError(f"{name}() takes a list")
    return value


def _compact(items: Any) -> Any:
    value = _list_of(items, "compact")
    return value if isinstance(value, Unresolved) else [i for i in value if i is not None and i != ""]


def _distinct(items: Any) -> Any:
    value = _list_of(items, "distinct")
    if isinstance(value, Unresolved):
        return value
    out: list[Any] = []
    for item in value:
        if item not in out:
            out.append(item)
    return out


def _flatten(items: Any) -> Any:
    value = _list_of(items, "flatten")
    if isinstance(value, Unresolved):
        return value
    out: list[Any] = []
    for item in value:
        inner = _flatten(item) if isinstance(item, list) else [item]
        if isinstance(inner, Unresolved):
            return inner
        out.extend(inner)
    return out


def _toset(items: Any) -> Any:
    value = _distinct(items)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted(value)
    return value


def _tolist(items: Any) -> Any:
    return _list_of(items, "tolist")


def _tomap(mapping: Any) -> Any:
    stop = _whole(mapping)
    if stop is not None:
        return stop
    if not isinstance(mapping, dict):
        raise TypeError("tomap() takes a map")
    return mapping


def _keys(mapping: Any) -> Any:
    stop = _whole(mapping)
    return stop if stop is not None else sorted(_tomap(mapping))


def _values(mapping: Any) -> Any:
    stop = _whole(mapping)
    return stop if stop is not None else [mapping[k] for k in sorted(_tomap(mapping))]


def _length(value: Any) -> Any:
    stop = _whole(value)
    if stop is not None:
        return stop
    if isinstance(value, list | dict | str):
        return len(value)
    raise TypeError("length() takes a collection or string")


def _contains(items: Any, value: Any) -> Any:
    stop = _whole(items) or blocker(value)
    if stop is not None:
        return stop
    if not isinstance(items, list):
        raise TypeError("contains() takes a list")
    if value in items:
        return True
    unknown = next((blocker(i) for i in items if blocker(i) is not None), None)
    return unknown if unknown is not None else False


def _zipmap(keys: Any, values: Any) -> Any:
    stop = _whole(keys) or _whole(values) or blocker(keys)
    if stop is not None:
        return stop
    return {str(k): v for k, v in zip(keys, values, strict=True)}


def _one(items: Any) -> Any:
    value = _list_of(items, "one")
    if isinstance(value, Unresolved):
        return value
    if len(value) > 1:
        raise ValueError("one() takes at most one element")
    return value[0] if value else None


def _try(*args: Any) -> Any:
    for arg in args:
        if isinstance(arg, Unresolved) and arg.error:
            continue
        return arg
    return Unresolved("try(): no argument could be evaluated", error=True)


def _can(value: Any) -> Any:
    if isinstance(value, Unresolved):
        return False if value.error else value
    return True


_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([sdvqftbxXoe%])")


@_strict
def _format(spec: Any, *args: Any) -> Any:
    values = iter(args)

    def one(match: re.Match[str]) -> str:
        flags, width, precision, verb = match.groups()
        if verb == "%":
            return "%"
        value = next(values)
        if verb in ("s", "v"):
            text = to_text(value) if not isinstance(value, list | dict) else json.dumps(value)
            if isinstance(text, Unresolved):
                raise TypeError(text.reason)
        elif verb == "q":
            text = json.dumps(str(value))
        elif verb == "t":
            text = str(bool(value)).lower()
        elif verb in ("d", "x", "X", "o", "b"):
            text = format(int(value), {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb])
        else:
            text = f"%{'.' + precision if precision else ''}{verb}" % float(value)
        if width:
            text = (
                text.ljust(int(width))
                if "-" in flags
                else text.rjust(int(width), "0" if "0" in flags else " ")
            )
        return text

    return _VERB.sub(one, str(spec))


@_strict
def _replace(text: Any, search: Any, replacement: Any) -> Any:
    search = str(search)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        return re.sub(search[1:-1], re.sub(r"\$(\d+)", r"\\\1", str(replacement)), str(text))
    return str(text).replace(search, str(replacement))


@_strict
def _substr(text: Any, offset: Any, length: Any) -> Any:
    value, start, size = str(text), int(offset), int(length)
    start = start if start >= 0 else len(value) + start
    return value[start:] if size < 0 else value[start : start + size]


@_strict
def _range(*args: Any) -> Any:
    numbers = [float(a) for a in args]
    start, stop, step = (0.0, numbers[0], 1.0) if len(numbers) == 1 else (*numbers[:2], 1.0)
    if len(numbers) == 3:
        step = numbers[2]
    count = math.ceil((stop - start) / step) if step else 0
    if count > MAX_RANGE:
        raise ValueError(f"range() of more than {MAX_RANGE} elements")
    return [
        int(start + i * step) if (start + i * step).is_integer() else start + i * step for i in range(count)
    ]


@_strict
def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> Any:
    network = ipaddress.ip_network(str(prefix), strict=False)
    subnets = network.prefixlen + int(newbits)
    size = 2 ** (network.max_prefixlen - subnets)
    base = int(network.network_address) + int(netnum) * size
    address = ipaddress.ip_address(base) if network.version == 4 else ipaddress.IPv6Address(base)
    return f"{address}/{subnets}"


@_strict
def _cidrhost(prefix: Any, hostnum: Any) -> Any:
    network = ipaddress.ip_network(str(prefix), strict=False)
    number = int(hostnum)
    base = network.broadcast_address if number < 0 else network.network_address
    return str(base + number + (1 if number < 0 else 0))


@_strict
def _number(value: Any) -> Any:
    if isinstance(value, bool):
        raise TypeError("tonumber() of a bool")
    if value is None:
        return None
    text = str(value)
    return float(text) if any(c in text for c in ".eE") else int(text)


@_strict
def _tobool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if str(value) in ("true", "false"):
        return str(value) == "true"
    raise ValueError("tobool() of a non-bool")


def _text_of(value: Any) -> Any:
    text = to_text(value)
    if isinstance(text, Unresolved):
        raise TypeError(text.reason)
    return text


def _identity(value: Any) -> Any:
    return value


def _unknown_at_plan(name: str) -> Callable[..., Any]:
    def function(*_args: Any) -> Any:
        return Unresolved(f"{name}() is only known when Terraform runs")

    return function


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": _jsonencode,
    "merge": _merge,
    "concat": _concat,
    "lookup": _lookup,
    "element": _element,
    "coalesce": _coalesce,
    "coalescelist": _coalescelist,
    "compact": _compact,
    "distinct": _distinct,
    "flatten": _flatten,
    "toset": _toset,
    "tolist": _tolist,
    "tomap": _tomap,
    "keys": _keys,
    "values": _values,
    "length": _length,
    "contains": _contains,
    "zipmap": _zipmap,
    "one": _one,
    "try": _try,
    "can": _can,
    "format": _format,
    "replace": _replace,
    "substr": _substr,
    "range": _range,
    "cidrsubnet": _cidrsubnet,
    "cidrhost": _cidrhost,
    "cidrnetmask": _strict(lambda p: str(ipaddress.ip_network(str(p), strict=False).netmask)),
    "tonumber": _number,
    "tobool": _tobool,
    "tostring": _strict(lambda v: None if v is None else _text_of(v)),
    "lower": _strict(lambda s: str(s).lower()),
    "upper": _strict(lambda s: str(s).upper()),
    "title": _strict(lambda s: str(s).title()),
    "trimspace": _strict(lambda s: str(s).strip()),
    "trim": _strict(lambda s, chars: str(s).strip(str(chars))),
    "trimprefix": _strict(lambda s, p: str(s).removeprefix(str(p))),
    "trimsuffix": _strict(lambda s, p: str(s).removesuffix(str(p))),
    "startswith": _strict(lambda s, p: str(s).startswith(str(p))),
    "endswith": _strict(lambda s, p: str(s).endswith(str(p))),
    "join": _strict(lambda sep, items: str(sep).join(_text_of(i) for i in items)),
    "split": _strict(lambda sep, s: str(s).split(str(sep))),
    "reverse": _strict(lambda items: list(reversed(items))),
    "slice": _strict(lambda items, a, b: list(items)[int(a) : int(b)]),
    "index": _strict(lambda items, value: list(items).index(value)),
    "sum": _strict(lambda items: sum(float(i) for i in items)),
    "alltrue": _strict(lambda items: all(i is True or i == "true" for i in items)),
    "anytrue": _strict(lambda items: any(i is True or i == "true" for i in items)),
    "min": _strict(lambda *n: min(float(i) for i in n)),
    "max": _strict(lambda *n: max(float(i) for i in n)),
    "abs": _strict(lambda n: abs(float(n))),
    "ceil": _strict(lambda n: math.ceil(float(n))),
    "floor": _strict(lambda n: math.floor(float(n))),
    "base64encode": _strict(lambda s: base64.b64encode(str(s).encode()).decode()),
    "base64decode": _strict(lambda s: base64.b64decode(str(s)).decode()),
    "jsondecode": _strict(lambda s: json.loads(str(s))),
    "urlencode": _strict(lambda s: quote(str(s), safe="")),
    "md5": _strict(lambda s: hashlib.md5(str(s).encode(), usedforsecurity=False).hexdigest()),
    "sha1": _strict(lambda s: hashlib.sha1(str(s).encode(), usedforsecurity=False).hexdigest()),
    "sha256": _strict(lambda s: hashlib.sha256(str(s).encode()).hexdigest()),
    "sensitive": _identity,
    "nonsensitive": _identity,
    "timestamp": _unknown_at_plan("timestamp"),
    "uuid": _unknown_at_plan("uuid"),
}
