"""The shared rule index: rules grouped by log source, then prefiltered by literals.

For each distinct set of log-source tags an event carries, the index keeps the rules that accept
it: those without literal clauses (tested on every such event) and one multi-literal matcher over
the literals of the others. One scan of the event's lowercased text (only the fields the rules'
literals come from) gives the distinct literals present; a rule runs its compiled predicate only
when a literal of each of its clauses is there.

The multi-literal matcher is Hyperscan (already a Bastion dependency, through pathspec) with each
literal reported once per event; where Hyperscan is not installed, pyahocorasick. Measured on the
1,483 Sysmon rules' 7,787 process-creation literals over a 1.2 KB event: Hyperscan 13 us,
pyahocorasick 50-80 us (more when literals are not ASCII), see bench/sigma/RESULTS.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bastion.detect.sigma.compiler import CompiledRule
from bastion.detect.sigma.event import Event, LogSource, as_text

__all__ = ["RuleIndex", "accepts", "literal_scanner"]

Scanner = Callable[[bytes], set[int]]


def accepts(rule: LogSource, tags: Sequence[LogSource]) -> bool:
    """True when one of the event's log-source tags satisfies the rule's ``logsource``."""
    if rule == (None, None, None):
        return True
    return any(all(w is None or w == g for w, g in zip(rule, tag, strict=True)) for tag in tags)


def _hyperscan(literals: list[bytes]) -> Scanner | None:
    try:
        import hyperscan
    except ImportError:
        return None
    db = hyperscan.Database()
    patterns = ["".join(f"\\x{b:02x}" for b in lit).encode() for lit in literals]
    flags = [hyperscan.HS_FLAG_SINGLEMATCH] * len(patterns)
    db.compile(expressions=patterns, ids=list(range(len(patterns))), elements=len(patterns), flags=flags)

    def scan(data: bytes) -> set[int]:
        found: set[int] = set()

        def on_match(n: int, _start: int, _end: int, _flags: int, _ctx: object) -> None:
            found.add(n)

        db.scan(data, match_event_handler=on_match)
        return found

    return scan


def _ahocorasick(literals: list[bytes]) -> Scanner:
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for n, lit in enumerate(literals):  # bytes as latin-1 text: a 256-letter alphabet keeps it fast
        automaton.add_word(lit.decode("latin-1"), n)
    automaton.make_automaton()

    def scan(data: bytes) -> set[int]:
        return {n for _, n in automaton.iter(data.decode("latin-1"))}

    return scan


def literal_scanner(literals: list[bytes]) -> Scanner:
    """A function giving the numbers of the ``literals`` found in a text (each once)."""
    return _hyperscan(literals) or _ahocorasick(literals)


@dataclass
class _Group:
    always: list[int]
    scan: Scanner | None
    trigger: list[list[int]]
    """Literal number -> rules whose only clause holds that literal."""
    rest: list[list[tuple[int, tuple[frozenset[int], ...]]]]
    """Literal number -> (rule, its other clauses as literal numbers) for rules whose first clause
    holds that literal."""
    fields: tuple[str, ...] | None
    """The fields to scan; None: every field."""


class RuleIndex:
    """Rules by log source and literal clauses; :meth:`match` returns the rules an event matches."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        """Index ``rules`` (groups are built on first sight of each log-source tag set)."""
        self.rules = list(rules)
        self._groups: dict[tuple[LogSource, ...], _Group] = {}
        self.tested = 0
        """Predicates run so far (what the prefilter let through)."""

    def _group(self, tags: tuple[LogSource, ...]) -> _Group:
        always: list[int] = []
        literals: dict[str, int] = {}
        trigger: list[list[int]] = []
        rest: list[list[tuple[int, tuple[frozenset[int], ...]]]] = []
        fields: set[str] | None = set()

        def number(lit: str) -> int:
            n = literals.setdefault(lit, len(literals))
            if n == len(trigger):
                trigger.append([])
                rest.append([])
            return n

        for i, rule in enumerate(self.rules):
            if not accepts(rule.logsource, tags):
                continue
            if not rule.clauses or any(not c or "" in c for c in rule.clauses):
                always.append(i)
                continue
            first, *others = rule.clauses
            then = tuple(frozenset(number(lit) for lit in c) for c in others)
            for lit in first:
                n = number(lit)
                if then:
                    rest[n].append((i, then))
                else:
                    trigger[n].append(i)
            if fields is not None:
                fields = None if rule.literal_fields is None else fields | rule.literal_fields
        scan = literal_scanner([lit.encode("utf-8") for lit in literals]) if literals else None
        group = _Group(always, scan, trigger, rest, None if fields is None else tuple(sorted(fields)))
        self._groups[tags] = group
        return group

    def candidates(self, event: Event) -> list[int]:
        """Positions of the rules that may match ``event``, in rule order."""
        group = self._groups.get(event.tags) or self._group(event.tags)
        if group.scan is None:
            return group.always
        if group.fields is None:
            values = list(event.low.values())
            text = "\n".join(v if v.__class__ is str else "\n".join(v) for v in values)
        else:  # only the fields literals come from, lowered in one go (not the event's whole ``low``)
            parts: list[str] = []
            for value in map(event.raw.get, group.fields):
                if value.__class__ is str:
                    parts.append(value)
                elif value is not None:
                    t = as_text(value)
                    parts.append(t if t.__class__ is str else "\n".join(t))
            text = "\n".join(parts).lower()
        found = group.scan(text.encode("utf-8", "surrogatepass"))
        if not found:
            return group.always
        trigger, rest = group.trigger, group.rest
        cands: set[int] = set(group.always)
        for n in found:
            cands.update(trigger[n])
            for i, others in rest[n]:
                if i not in cands and all(not c.isdisjoint(found) for c in others):
                    cands.add(i)
        return sorted(cands)

    def match(self, event: Event) -> list[CompiledRule]:
        """The rules ``event`` matches."""
        rules = self.rules
        cands = self.candidates(event)
        self.tested += len(cands)
        return [rules[i] for i in cands if rules[i].match(event)]
