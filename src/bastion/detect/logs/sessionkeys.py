"""Choosing the session key from the training records themselves (``--session auto``).

Candidates are the entities a parsed line can name: HDFS-style block ids, request ids, users,
IPs, process ids, programs, hosts and any other field the format extracted. A candidate is usable
when it splits the lines into at least two entities holding two lines each on average (a key
that names one host, or a different value on every line, makes no sessions worth learning). The
usable candidate that covers the most lines wins; near ties go to the more specific entity.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bastion.detect.ingest.records import Record

__all__ = ["REQUEST", "KeyChoice", "choose_key"]

_BLOCK = re.compile(r"blk_-?\d+")
REQUEST = r"re:\b(req-[0-9a-fA-F-]{8,})"
"""Request ids as OpenStack and many web frameworks write them."""
_REQUEST = re.compile(REQUEST[3:])
PREFERENCE = ("block", REQUEST, "user", "ip", "pid", "program", "host")
"""Order among near ties (within :data:`TIE` coverage): the more specific entity first."""
TIE = 0.05
_NOT_ENTITIES = frozenset(("level", "timestamp", "ts", "message", "msg", "size", "status", "time", "date"))


@dataclass
class KeyChoice:
    """The chosen key and why."""

    by: str
    coverage: float
    entities: int
    considered: list[tuple[str, float, int]]

    def describe(self) -> str:
        """One line for the person running ``watch``."""
        if self.by == "none":
            return "session key: none usable (no field splits the lines into sessions); judging one stream"
        others = ", ".join(f"{_name(k)} {c:.0%}" for k, c, _ in self.considered if k != self.by)
        return (
            f"session key: {_name(self.by)} chosen automatically ({self.coverage:.0%} of lines, "
            f"{self.entities} entities){'; also considered: ' + others if others else ''}"
        )


def _name(key: str) -> str:
    return "request id" if key == REQUEST else key


def _values(record: Record, key: str) -> list[str]:
    if key == "block":
        return _BLOCK.findall(record.message)
    if key == REQUEST:
        return _REQUEST.findall(record.message)
    if key == "host":
        return [record.host] if record.host else []
    if key == "program":
        return [record.program] if record.program else []
    value = record.fields.get(key)
    return [value] if value else []


def choose_key(records: Sequence[Record]) -> KeyChoice:
    """The session key for ``records`` (``none`` when no candidate is usable)."""
    if not records:
        return KeyChoice("none", 0.0, 0, [])
    extra = sorted({k for r in records[:1000] for k in r.fields} - set(PREFERENCE) - _NOT_ENTITIES)
    scored: list[tuple[str, float, int]] = []
    for key in (*PREFERENCE, *extra):
        counts: Counter[str] = Counter()
        covered = 0
        for record in records:
            values = _values(record, key)
            if values:
                covered += 1
                counts.update(values)
        if len(counts) >= 2 and covered >= 2 * len(counts):
            scored.append((key, covered / len(records), len(counts)))
    if not scored:
        return KeyChoice("none", 0.0, 0, [])
    top = max(c for _, c, _ in scored)
    by, coverage, entities = next(s for s in scored if s[1] >= top - TIE)
    return KeyChoice(by, coverage, entities, sorted(scored, key=lambda s: -s[1]))
