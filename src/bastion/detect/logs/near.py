"""Which template a line almost matches, and when the one position it differs at is a parameter.

Drain's similarity threshold fails two kinds of events on logs nobody tuned it for: short
messages (``Connection closed alice``: one differing word of three is below any useful
threshold) and messages whose first word varies (``chrome.exe - ...``, ``firefox.exe - ...``:
Drain's tree keys on the first word, so each program starts its own event). Both are one
position that takes many values across otherwise identical templates.

A line that opens a new template while an existing template of the same length differs from it
at exactly one constant position is that template's *sibling* at that position. The position is
a parameter, by its variability, once it held more distinct words than the miner's ``max_values``
(the same count that keeps ``startup``/``shutdown`` apart inside one template), or at once when
the line holds a value (a number, an id) there; then the template takes a wildcard there and
absorbs its siblings. A line that equals every constant of a template whose constants are at
least half its tokens joins it even when Drain's share of equal tokens is too low.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import eq

from bastion.detect.logs.masking import WILDCARD

__all__ = ["MAX_RELATIONS", "Near", "NearIndex", "Relation", "nearest", "relation"]

Probe = tuple[list[str | None], int]


@dataclass(frozen=True)
class Near:
    """The closest template of a line that no template took: join it, or a sibling at ``position``."""

    template: int
    position: int
    """-1: the line equals every constant of the template (join it)."""


def nearest(tokens: Sequence[str], candidates: Iterable[tuple[int, Probe]]) -> list[Near]:
    """``[join]``: the template ``tokens`` equals at every constant (most equal constants, then
    the earliest); else the templates it differs from at exactly one constant position, those
    with the most equal constants (ties all returned: the caller counts under the relation that
    has seen most values); else ``[]``.

    Only templates whose equal constants are at least two and at least half the line's other
    informative tokens count: a template made mostly of wildcards says too little about a line."""
    n = len(tokens)
    line_wild = WILDCARD in tokens
    join, join_equal = -1, 0
    siblings: list[Near] = []
    sibling_equal = 0
    for tid, (probe, wild) in candidates:
        equal = sum(map(eq, probe, tokens))
        missing = n - wild - equal
        if missing > 1 or equal < 2:
            continue
        # positions that are values in both say nothing for or against (as in the miner's similarity)
        informative = n - (sum(map(_both_wild, probe, tokens)) if line_wild else 0)
        if missing == 0:
            if 2 * equal >= informative and equal > join_equal:
                join, join_equal = tid, equal
        elif join < 0 and 2 * equal >= informative - 1 and equal >= sibling_equal:
            position = next(i for i, p in enumerate(probe) if p is not None and p != tokens[i])
            if equal > sibling_equal:
                siblings.clear()
                sibling_equal = equal
            siblings.append(Near(tid, position))
    if join >= 0:
        return [Near(join, -1)]
    return siblings


def _both_wild(probe_token: str | None, token: str) -> bool:
    return probe_token is None and token == WILDCARD


Relation = tuple[int, tuple[str, ...]]
"""(position, the template's tokens with a wildcard there): otherwise identical templates share it."""

MAX_RELATIONS = 100_000
"""Relations kept at most (new ones are not recorded past it: bounded memory on any stream)."""


def relation(tokens: Sequence[str], position: int) -> Relation:
    """The relation of a template's ``position``: its tokens with a wildcard there."""
    return position, tuple(WILDCARD if i == position else t for i, t in enumerate(tokens))


@dataclass
class NearIndex:
    """Per relation: the distinct words seen at its position and the templates that hold one."""

    values: dict[Relation, list[str]] = field(default_factory=dict)
    members: dict[Relation, list[int]] = field(default_factory=dict)

    def record(self, key: Relation, member: int | None, word: str) -> int:
        """Note ``word`` at ``key`` (held by template ``member`` when given); the distinct
        words seen there so far. A value-like word (a masked token) counts as many."""
        if key not in self.values:
            if len(self.values) >= MAX_RELATIONS:
                return 0
            self.values[key], self.members[key] = [], []
        seen = self.values[key]
        if word == WILDCARD:
            return MAX_RELATIONS
        if word not in seen:
            seen.append(word)
        if member is not None and member not in self.members[key]:
            self.members[key].append(member)
        return len(seen)

    def take(self, key: Relation) -> list[int]:
        """Forget ``key``; the templates that held one of its words (to be merged)."""
        self.values.pop(key, None)
        return self.members.pop(key, [])

    def to_list(self) -> list[list[object]]:
        """Plain-JSON form: ``[position, tokens, words, templates]`` per relation."""
        return [
            [p, list(sig), words, self.members.get((p, sig), [])] for (p, sig), words in self.values.items()
        ]

    @classmethod
    def from_list(cls, items: Iterable[Sequence[object]]) -> NearIndex:
        """Rebuild from :meth:`to_list` (TypeError/ValueError when damaged)."""
        index = cls()
        for item in items:
            p, sig, values, members = item
            if not (isinstance(sig, list) and isinstance(values, list) and isinstance(members, list)):
                raise TypeError("near relation: tokens, words and templates must be lists")
            key = (int(str(p)), tuple(str(t) for t in sig))
            index.values[key] = [str(v) for v in values]
            index.members[key] = [int(str(m)) for m in members]
        return index
