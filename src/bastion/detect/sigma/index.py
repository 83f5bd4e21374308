"""The shared rule index: rules grouped by log source, then prefiltered by literals with Aho-Corasick.

For each distinct set of log-source tags an event carries, the index keeps the rules that accept
it: those without a literal key (tested on every such event) and one Aho-Corasick automaton over
the keys of the others. One pass of the automaton over the event's lowercased text gives the only
rules that can match; only they run their compiled predicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick

from bastion.detect.sigma.compiler import CompiledRule
from bastion.detect.sigma.event import Event, LogSource

__all__ = ["RuleIndex", "accepts"]


def accepts(rule: LogSource, tags: Sequence[LogSource]) -> bool:
    """True when one of the event's log-source tags satisfies the rule's ``logsource``."""
    if rule == (None, None, None):
        return True
    return any(all(w is None or w == g for w, g in zip(rule, tag, strict=True)) for tag in tags)


@dataclass
class _Group:
    always: list[int]
    automaton: ahocorasick.Automaton | None
    keyed: list[list[int]]
    """Literal number -> rule positions."""


class RuleIndex:
    """Rules by log source and literal key; :meth:`match` returns the rules an event matches."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        """Index ``rules`` (groups are built on first sight of each log-source tag set)."""
        self.rules = list(rules)
        self._groups: dict[tuple[LogSource, ...], _Group] = {}
        self.tested = 0
        """Predicates run so far (what the prefilter let through)."""

    def _group(self, tags: tuple[LogSource, ...]) -> _Group:
        always: list[int] = []
        literals: dict[str, int] = {}
        keyed: list[list[int]] = []
        for i, rule in enumerate(self.rules):
            if not accepts(rule.logsource, tags):
                continue
            if rule.need is None:
                always.append(i)
                continue
            for lit in rule.need:
                n = literals.setdefault(lit, len(literals))
                if n == len(keyed):
                    keyed.append([])
                keyed[n].append(i)
        automaton = None
        if literals:
            automaton = ahocorasick.Automaton()
            for lit, n in literals.items():
                automaton.add_word(lit, n)
            automaton.make_automaton()
        group = _Group(always, automaton, keyed)
        self._groups[tags] = group
        return group

    def candidates(self, event: Event) -> list[int]:
        """Positions of the rules that may match ``event``, in rule order."""
        group = self._groups.get(event.tags) or self._group(event.tags)
        if group.automaton is None:
            return group.always
        found = {n for _, n in group.automaton.iter(event.haystack)}
        if not found:
            return group.always
        keyed = group.keyed
        cands: set[int] = set(group.always)
        for n in found:
            cands.update(keyed[n])
        return sorted(cands)

    def match(self, event: Event) -> list[CompiledRule]:
        """The rules ``event`` matches."""
        rules = self.rules
        cands = self.candidates(event)
        self.tested += len(cands)
        return [rules[i] for i in cands if rules[i].match(event)]
