"""The abstract state of one function while it is analysed: taint per access path.

Keys are access paths: ``name``, ``obj.attr``, ``d['key']``. Reading a key that was never
written falls back to its longest written prefix, so ``d['k']`` of a tainted ``d`` is tainted
and ``form.name.data`` of a tainted ``form`` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastion.scan.sast.taint.values import CLEAN, Taint, join

__all__ = ["State", "join_states"]


@dataclass
class State:
    """Taint, tags and known constants of the variables at one program point."""

    taint: dict[str, Taint] = field(default_factory=dict)
    tags: dict[str, frozenset[str]] = field(default_factory=dict)
    """Facts about a variable: ``request`` (a request object), ``safe_parser``, ``class:Name``,
    ``safe_head`` (a list literal whose first item is constant)."""
    consts: dict[str, Any] = field(default_factory=dict)
    """Variables currently bound to a known literal."""

    def copy(self) -> State:
        """An independent copy (the dictionaries; values are immutable)."""
        return State(dict(self.taint), dict(self.tags), dict(self.consts))

    def read(self, key: str) -> Taint | None:
        """Taint of ``key`` or of its longest written prefix; None when nothing is known."""
        while True:
            value = self.taint.get(key)
            if value is not None:
                return None if "request" in self.tags.get(key, ()) else value
            cut = max(key.rfind("."), key.rfind("["))
            if cut <= 0:
                return None
            key = key[:cut]

    def children(self, key: str) -> Taint:
        """Join of everything written under ``key`` (``d['a']``, ``d.x``), for whole-object reads."""
        dot, bracket = key + ".", key + "["
        return join(*(v for k, v in self.taint.items() if k.startswith((dot, bracket))))

    def write(self, key: str, value: Taint) -> None:
        """Bind ``key``; everything below it is forgotten (it is a new object)."""
        dot, bracket = key + ".", key + "["
        for k in [k for k in self.taint if k.startswith((dot, bracket))]:
            del self.taint[k]
        self.taint[key] = value
        self.tags.pop(key, None)
        self.consts.pop(key, None)

    def tag(self, key: str, tag: str) -> None:
        """Add a fact about ``key``."""
        self.tags[key] = self.tags.get(key, frozenset()) | {tag}

    def untag(self, key: str, tag: str) -> None:
        """Drop a fact about ``key`` (no longer true)."""
        if tag in self.tags.get(key, frozenset()):
            self.tags[key] = self.tags[key] - {tag}

    def has_tag(self, key: str, tag: str) -> bool:
        """True when ``key`` carries ``tag``."""
        return tag in self.tags.get(key, frozenset())


def join_states(states: list[State | None]) -> State | None:
    """The state after control-flow paths meet; None (unreachable) paths are ignored."""
    live = [s for s in states if s is not None]
    if not live:
        return None
    if len(live) == 1:
        return live[0].copy()
    out = State()
    keys: set[str] = set()
    for s in live:
        keys.update(s.taint)
    for key in keys:
        out.taint[key] = join(*(s.taint.get(key, CLEAN) for s in live))
    tag_keys: set[str] = set()
    for s in live:
        tag_keys.update(s.tags)
    for key in tag_keys:
        tags = frozenset().union(*(s.tags.get(key, frozenset()) for s in live))
        safe = {"safe_parser", "safe_head"}
        common = frozenset.intersection(*(s.tags.get(key, frozenset()) for s in live))
        out.tags[key] = (tags - safe) | (common & safe)
    first = live[0].consts
    out.consts = {k: v for k, v in first.items() if all(k in s.consts and s.consts[k] == v for s in live[1:])}
    return out
