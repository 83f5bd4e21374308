"""One event as the Sigma matcher sees it: flat fields under lowercase names, text and lowercased text.

Field names are compared case-insensitively (as SQL-based Sigma backends do); values keep their
original form in ``raw`` (for numbers, null and exists), as text in ``text`` (for cased strings,
regular expressions, CIDR and field references) and lowercased in ``low`` (every other string).
A list value becomes a tuple of texts: a value test holds when it holds for any element.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Event", "LogSource", "event_from_raw", "make_event"]

LogSource = tuple[str | None, str | None, str | None]
"""``(product, category, service)`` as in a Sigma rule's ``logsource``; None where unset."""

TextValue = str | tuple[str, ...]


@dataclass(slots=True)
class Event:
    """A flattened event and where it came from."""

    raw: dict[str, Any]
    """Field values as read, under lowercase field names."""
    text: dict[str, TextValue]
    """Each value as text (a tuple of texts for lists)."""
    low: dict[str, TextValue]
    """``text`` lowercased."""
    tags: tuple[LogSource, ...] = ()
    """The log sources the pipeline says the event belongs to."""
    timestamp: datetime | None = None
    host: str = ""
    source: str = ""
    """File and record number (``auth.log:12``)."""
    original: Mapping[str, Any] | str = field(default_factory=dict)
    """The event as read, for evidence."""


def _text(value: Any) -> TextValue:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return tuple(_text(v) if not isinstance(v, list | tuple | dict) else str(v) for v in value)  # type: ignore[misc]
    if value is None:
        return ""
    return str(value)


def make_event(
    fields: Mapping[str, Any],
    tags: tuple[LogSource, ...] = (),
    timestamp: datetime | None = None,
    host: str = "",
    source: str = "",
    original: Mapping[str, Any] | str | None = None,
) -> Event:
    """Build an :class:`Event` from flat ``fields`` (names are lowercased here; the first of two
    names that differ only in case wins)."""
    raw: dict[str, Any] = {}
    for name, value in fields.items():
        raw.setdefault(name.lower(), value)
    return event_from_raw(
        raw, tags, timestamp, host, source, original if original is not None else dict(fields)
    )


def event_from_raw(
    raw: dict[str, Any],
    tags: tuple[LogSource, ...],
    timestamp: datetime | None,
    host: str,
    source: str,
    original: Mapping[str, Any] | str,
) -> Event:
    """Build an :class:`Event` from fields already under lowercase names."""
    text: dict[str, Any] = dict(raw)
    for key, value in raw.items():
        cls = value.__class__
        if cls is not str:
            text[key] = str(value) if cls is int else _text(value)
    low = {k: v.lower() if v.__class__ is str else tuple(x.lower() for x in v) for k, v in text.items()}
    return Event(raw, text, low, tags, timestamp, host, source, original)
