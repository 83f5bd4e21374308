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
from functools import partial
from operator import is_not
from typing import Any

from bastion.detect.sigma.compiler import CompiledRule
from bastion.detect.sigma.event import Event, LogSource, as_text
from bastion.detect.sigma.values import REGEX_KEY

__all__ = ["KeyScanner", "RuleIndex", "accepts", "literal_scanner"]

Scanner = Callable[[bytes], set[int]]


def accepts(rule: LogSource, tags: Sequence[LogSource]) -> bool:
    """True when one of the event's log-source tags satisfies the rule's ``logsource``."""
    if rule == (None, None, None):
        return True
    return any(all(w is None or w == g for w, g in zip(rule, tag, strict=True)) for tag in tags)


_PRESENT = partial(is_not, None)
_SEQUENCES = frozenset({list, tuple})


def _scan_text(value: Any) -> str:
    text = as_text(value)
    return text if text.__class__ is str else "\n".join(text)


@dataclass(frozen=True)
class KeyScanner:
    """Finds prefilter keys in a text: ``scan(utf8)`` gives the numbers of the keys found (each once).

    ``regexes`` are the numbers of regex keys, matched byte by byte: the caller counts them as found
    when the text is not ASCII. ``always`` are keys the matcher cannot scan for (a regex Hyperscan
    refuses, or any regex without Hyperscan): the caller counts them as found in every text."""

    scan: Scanner
    regexes: frozenset[int]
    always: frozenset[int]


def _regex_flags(hyperscan: Any, flags: str) -> int:
    """Hyperscan flags for a regex key scanned over lowercased fields joined by newlines: caseless
    (the text is lowercased), multiline (``^``/``$`` at each field's ends), prefilter (a superset of
    the regex's matches: a key only lets a rule through to its exact test)."""
    out = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_MULTILINE
    out |= hyperscan.HS_FLAG_PREFILTER
    return int(out | (hyperscan.HS_FLAG_DOTALL if "s" in flags else 0))


def _hyperscan(keys: list[str]) -> KeyScanner | None:
    try:
        import hyperscan
    except ImportError:
        return None
    entries: list[tuple[int, bytes, int]] = []
    regexes: set[int] = set()
    for n, key in enumerate(keys):
        if key.startswith(REGEX_KEY):
            flag_text, _, pattern = key[len(REGEX_KEY) :].partition(":")
            entries.append((n, pattern.encode(), _regex_flags(hyperscan, flag_text)))
            regexes.add(n)
        else:
            escaped = "".join(f"\\x{b:02x}" for b in key.encode("utf-8")).encode()
            entries.append((n, escaped, hyperscan.HS_FLAG_SINGLEMATCH))
    always: set[int] = set()
    db = _compile(hyperscan, entries)
    if db is None:  # a regex Hyperscan refuses: find it (one by one), count it as always found
        for n, expr, flag in entries:
            if n in regexes and _compile(hyperscan, [(n, expr, flag)]) is None:
                always.add(n)
        db = _compile(hyperscan, [e for e in entries if e[0] not in always])
        if db is None:
            return None
    regexes -= always
    return KeyScanner(_scanner(db), frozenset(regexes), frozenset(always))


def _compile(hyperscan: Any, entries: list[tuple[int, bytes, int]]) -> Any:
    """A Hyperscan database of ``(id, pattern, flags)`` entries; None when Hyperscan refuses one."""
    if not entries:
        return None
    db = hyperscan.Database()
    try:
        db.compile(
            expressions=[p for _, p, _ in entries],
            ids=[n for n, _, _ in entries],
            elements=len(entries),
            flags=[f for _, _, f in entries],
        )
    except hyperscan.error:
        return None
    return db


def _scanner(db: Any) -> Scanner:
    def scan(data: bytes) -> set[int]:
        found: set[int] = set()

        def on_match(n: int, _start: int, _end: int, _flags: int, _ctx: object) -> None:
            found.add(n)

        db.scan(data, match_event_handler=on_match)
        return found

    return scan


def _nothing(_data: bytes) -> set[int]:
    return set()


def _ahocorasick(keys: list[str]) -> KeyScanner:
    import ahocorasick

    automaton = ahocorasick.Automaton()
    always: set[int] = set()
    for n, key in enumerate(keys):
        if key.startswith(REGEX_KEY):
            always.add(n)  # no regex scanning here: the rule is tested wherever its log source is
        else:  # bytes as latin-1 text: a 256-letter alphabet keeps it fast
            automaton.add_word(key.encode("utf-8").decode("latin-1"), n)
    if len(automaton) == 0:
        return KeyScanner(_nothing, frozenset(), frozenset(always))
    automaton.make_automaton()

    def scan(data: bytes) -> set[int]:
        return {n for _, n in automaton.iter(data.decode("latin-1"))}

    return KeyScanner(scan, frozenset(), frozenset(always))


def literal_scanner(keys: list[str]) -> KeyScanner:
    """A :class:`KeyScanner` for prefilter keys: literals (lowercase) and regex keys (:data:`REGEX_KEY`)."""
    return _hyperscan(keys) or _ahocorasick(keys)


@dataclass
class _Group:
    always: list[int]
    scan: Scanner | None
    trigger: list[list[int]]
    """Key number -> rules whose only clause holds that key."""
    rest: list[list[tuple[int, tuple[frozenset[int], ...]]]]
    """Key number -> (rule, its other clauses as key numbers) for rules whose first clause holds it."""
    fields: tuple[str, ...] | None
    """The fields to scan; None: every field."""
    regexes: frozenset[int]
    """Regex keys, counted as found in a text that is not ASCII (they are scanned byte by byte)."""
    present: frozenset[int]
    """Keys counted as found in every text (regexes the scanner cannot take)."""


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
        keys = literal_scanner(list(literals)) if literals else None
        group = _Group(
            always,
            None if keys is None else keys.scan,
            trigger,
            rest,
            None if fields is None else tuple(sorted(fields)),
            frozenset() if keys is None else keys.regexes,
            frozenset() if keys is None else keys.always,
        )
        self._groups[tags] = group
        return group

    def candidates(self, event: Event) -> list[int]:
        """Positions of the rules that may match ``event``, in rule order."""
        group = self._groups.get(event.tags) or self._group(event.tags)
        if group.scan is None:
            return group.always
        if group.fields is None:
            text = "\n".join(v if v.__class__ is str else "\n".join(v) for v in event.low.values())
            ascii_text = not group.regexes or all(
                (v if v.__class__ is str else "".join(v)).isascii() for v in event.text.values()
            )
        else:  # only the fields literals come from, lowered in one go (not the event's whole ``low``)
            values = [*filter(_PRESENT, map(event.raw.get, group.fields))]
            if _SEQUENCES.isdisjoint(map(type, values)):  # str() of a scalar lowers to as_text's text
                joined = "\n".join(map(str, values))
            else:
                joined = "\n".join(map(_scan_text, values))
            ascii_text = joined.isascii()
            text = joined.lower()
        found = group.scan(text.encode("utf-8", "surrogatepass"))
        if group.present:
            found |= group.present
        if not ascii_text:
            found |= group.regexes
        if not found:
            return group.always
        trigger, rest = group.trigger, group.rest
        cands: set[int] = set(group.always)
        for n in found:
            cands.update(trigger[n])
            for i, others in rest[n]:
                if i in cands:
                    continue
                if len(others) == 1:
                    if not others[0].isdisjoint(found):
                        cands.add(i)
                elif all(not c.isdisjoint(found) for c in others):
                    cands.add(i)
        return sorted(cands)

    def match(self, event: Event) -> list[CompiledRule]:
        """The rules ``event`` matches."""
        rules = self.rules
        cands = self.candidates(event)
        self.tested += len(cands)
        return [rules[i] for i in cands if rules[i].match(event)]
