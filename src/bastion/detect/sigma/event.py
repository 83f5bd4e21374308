"""One event as the Sigma matcher sees it: flat fields under lowercase names, text and lowercased text.

Field names are compared case-insensitively (as SQL-based Sigma backends do); values keep their
original form in ``raw`` (for numbers, null and exists), as text in ``text`` (for cased strings,
regular expressions, CIDR and field references) and lowercased in ``low`` (every other string).
A list value becomes a tuple of texts: a value test holds when it holds for any element.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

__all__ = ["Event", "FieldTexts", "LogSource", "as_text", "event_from_raw", "make_event"]

LogSource = tuple[str | None, str | None, str | None]
"""``(product, category, service)`` as in a Sigma rule's ``logsource``; None where unset."""

TextValue = str | tuple[str, ...]


class FieldTexts(dict[str, "TextValue | None"]):
    """One event's field values as text (``lower``: lowercased), each made on first lookup.

    ``texts[name]`` is the field's text, or None when the event lacks it; a predicate looks up
    only the few fields it tests, so the others are never converted (a plain ``dict.get`` does not
    fill the cache: use indexing)."""

    __slots__ = ("lower", "raw")

    def __init__(self, raw: Mapping[str, Any], lower: bool) -> None:
        """Texts of ``raw``'s values, lowercased when ``lower``."""
        self.raw = raw
        self.lower = lower

    def __missing__(self, name: str) -> TextValue | None:
        """Convert one field on its first lookup (None, cached too, for a field the event lacks)."""
        value = self.raw.get(name, _ABSENT)
        if value is _ABSENT:
            text: TextValue | None = None
        elif value.__class__ is str:
            text = value.lower() if self.lower else value
        else:
            t = str(value) if value.__class__ is int else as_text(value)
            text = (t.lower() if t.__class__ is str else tuple(x.lower() for x in t)) if self.lower else t
        self[name] = text
        return text


_ABSENT: Any = object()


class Event:
    """A flattened event and where it came from.

    ``text`` and ``low`` are built on first use, whole: the index scans only the values of the
    fields its rules' literals come from, and an event no rule can match never needs them."""

    __slots__ = ("_low", "_text", "_ts", "_ts_of", "host", "lo", "original", "raw", "source", "tags", "tx")

    def __init__(
        self,
        raw: dict[str, Any],
        text: dict[str, TextValue] | None = None,
        low: dict[str, TextValue] | None = None,
        tags: tuple[LogSource, ...] = (),
        timestamp: datetime | None = None,
        host: str = "",
        source: str = "",
        original: Mapping[str, Any] | str | None = None,
    ) -> None:
        """``raw``: field values under lowercase names; ``text``/``low`` None: built on first use."""
        self.raw = raw
        """Field values as read, under lowercase field names."""
        self._text = text
        self._low = low
        self.tx = FieldTexts(raw, False)
        """Each field's text on first lookup (``event.tx[name]``, None when absent)."""
        self.lo = FieldTexts(raw, True)
        """Each field's lowercased text on first lookup (``event.lo[name]``, None when absent)."""
        if text is not None:
            self.tx.update(text)
        if low is not None:
            self.lo.update(low)
        self.tags = tags
        """The log sources the pipeline says the event belongs to."""
        self._ts = timestamp
        self._ts_of: Callable[[], datetime | None] | None = None
        self.host = host
        self.source = source
        """File and record number (``auth.log:12``)."""
        self.original: Mapping[str, Any] | str = {} if original is None else original
        """The event as read, for evidence."""

    @property
    def timestamp(self) -> datetime | None:
        """When the event happened, per its log; None when it does not say (parsed on first use)."""
        parse = self._ts_of
        if parse is not None:
            self._ts = parse()
            self._ts_of = None
        return self._ts

    @timestamp.setter
    def timestamp(self, value: datetime | None) -> None:
        self._ts, self._ts_of = value, None

    def timestamp_from(self, parse: Callable[[], datetime | None]) -> None:
        """Take the timestamp from ``parse()`` when it is first asked for (most events never are)."""
        self._ts_of = parse

    @property
    def text(self) -> dict[str, TextValue]:
        """Each value as text (a tuple of texts for lists)."""
        text = self._text
        if text is None:
            text = self._text = _texts(self.raw)
        return text

    @property
    def low(self) -> dict[str, TextValue]:
        """``text`` lowercased."""
        low = self._low
        if low is None:
            text = self.text
            low = self._low = {
                k: v.lower() if v.__class__ is str else tuple(x.lower() for x in v) for k, v in text.items()
            }
        return low

    def __repr__(self) -> str:
        """The source and fields (for test failures)."""
        return f"Event(source={self.source!r}, tags={self.tags!r}, raw={self.raw!r})"


def as_text(value: Any) -> TextValue:
    """A field value as the matcher compares it: text, or a tuple of texts for a list."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return tuple(as_text(v) if not isinstance(v, list | tuple | dict) else str(v) for v in value)  # type: ignore[misc]
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


def _texts(raw: dict[str, Any]) -> dict[str, TextValue]:
    text: dict[str, Any] = dict(raw)
    for key, value in raw.items():
        cls = value.__class__
        if cls is not str:
            text[key] = str(value) if cls is int else as_text(value)
    return text


def event_from_raw(
    raw: dict[str, Any],
    tags: tuple[LogSource, ...],
    timestamp: datetime | None,
    host: str,
    source: str,
    original: Mapping[str, Any] | str,
) -> Event:
    """Build an :class:`Event` from fields already under lowercase names (``text``/``low`` on first use)."""
    return Event(raw, None, None, tags, timestamp, host, source, original)
