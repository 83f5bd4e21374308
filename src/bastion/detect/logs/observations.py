"""One log line as the time-window layer (:mod:`rates`) sees it: time, event, shape, error-likeness."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bastion.detect.ingest.records import Record

__all__ = ["Observation", "observe"]

_BAD_LEVELS = frozenset(["WARN", "WARNING", "ERROR", "FATAL", "CRIT", "CRITICAL", "SEVERE", "ALERT", "EMERG"])
_ERROR_WORDS = re.compile(
    r"(?i)\b(?:errors?|fail(?:ed|ure|ures|s)?|fatal|exception|denied|refused|timed? ?out|abort(?:ed)?|"
    r"panic|corrupt(?:ed|ion)?|unable|cannot|could not|unreachable|crash(?:ed)?|killed|segfault)\b"
)


@dataclass(frozen=True, slots=True)
class Observation:
    """One line as the window layer sees it."""

    time: float
    """Seconds since the epoch."""
    event: int
    """Event id; -1 when the line matched no trained template."""
    shape: tuple[str, ...]
    """The line's masked tokens (tell unseen templates apart)."""
    error: bool
    """Error-like: a bad level in the header or an error word in the message."""
    component: str
    line: str


def observe(record: Record, event: int, tokens: Sequence[str], full: bool = True) -> Observation | None:
    """The observation of a parsed record (None without a time stamp: it has no window).

    ``full`` False (detection) works out the shape and error-likeness of unseen lines only
    (event -1): every known event's line needs neither."""
    if record.timestamp is None:
        return None
    shape: tuple[str, ...] = ()
    error = False
    if full or event < 0:
        shape = tuple(tokens)  # the miner's masked key: shared by every line of that shape
        error = record.fields.get("level", "") in _BAD_LEVELS or bool(_ERROR_WORDS.search(record.message))
    component = record.program or record.fields.get("component", "")
    return Observation(record.timestamp.timestamp(), event, shape, error, component, record.raw)
