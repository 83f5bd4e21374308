"""Reading fields of a foreign document without trusting their types.

A report can be from any version of its tool, or damaged: optional fields are read through these
helpers, which give an empty value for a missing or mistyped field; a parser indexes a field
directly only when the result means nothing without it (the importer turns that ``KeyError`` or
``TypeError`` into one line naming the file).
"""

from __future__ import annotations

from typing import Any

__all__ = ["arr", "entries", "get", "items", "num", "obj", "path_of", "pos_int", "text", "texts"]


def get(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...``, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is an object, else ``{}``."""
    return value if isinstance(value, dict) else {}


def arr(value: Any) -> list[Any]:
    """``value`` when it is a list, else ``[]``."""
    return value if isinstance(value, list) else []


def items(value: Any, field: str) -> list[Any]:
    """A list of results: ``[]`` when absent, ``TypeError`` naming ``field`` when it is not a list
    (reading a damaged list as empty would report a clean scan)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{field!r} is {type(value).__name__}, not a list")
    return value


def entries(value: Any, field: str) -> dict[str, Any]:
    """A mapping of results: ``{}`` when absent, ``TypeError`` naming ``field`` when it is not one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{field!r} is {type(value).__name__}, not an object")
    return value


def text(value: Any) -> str:
    """``value`` as text when it is a string or a number, else ``""``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def texts(value: Any) -> list[str]:
    """The non-empty texts of a list (or of one text)."""
    items = value if isinstance(value, list) else [value]
    return [t for t in (text(item) for item in items) if t]


def num(value: Any) -> float | None:
    """``value`` as a number when it is one (or a numeric string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def pos_int(value: Any) -> int | None:
    """``value`` as a positive integer (line and column numbers), else None."""
    number = num(value)
    if number is None or number < 1 or number != int(number):
        return None
    return int(number)


def path_of(value: Any) -> str | None:
    """A file path as a finding keeps it: POSIX separators, no leading ``./``; None when empty."""
    raw = text(value).replace("\\", "/")
    while raw.startswith("./"):
        raw = raw[2:]
    return raw or None
