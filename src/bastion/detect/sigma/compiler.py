"""A pySigma rule compiled into one predicate over :class:`Event` plus its prefilter key.

pySigma parses the rule and applies every modifier; its condition tree (``and``/``or``/``not``,
``1 of``/``all of`` patterns and ``them`` already expanded into field/value expressions) is
compiled here into nested closures. Each rule also gets ``clauses``: sets of lowercase literals
such that, whenever the rule matches, the event's text contains a literal of every set (an
``and`` keeps its children's clauses, an ``or`` one clause of the union of each child's best, a
``not`` none). The index (:mod:`bastion.detect.sigma.index`) tests a rule only on events where
one literal of its first clause was found, and runs its predicate only when every clause holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from bastion.detect.sigma.event import Event, LogSource
from bastion.detect.sigma.values import REGEX_KEY, Predicate, UnsupportedRule, compile_value, merged_test

__all__ = ["CompiledRule", "compile_rule"]

Clauses = tuple[frozenset[str], ...]
"""Every set must have a literal in the event's text for the rule to match; () requires nothing."""
MAX_CLAUSES = 2
"""Clauses kept per rule: each costs a scan callback per event that holds one of its literals;
measured on the bench events, 2 (5.7 literals found, 6.1 predicates per event) beat 4 (20.7, 5.2)."""

# Text found in most Windows events: a literal inside it says little about an event.
_COMMON = " ".join(
    (
        r"c:\windows\system32\svchost.exe -k netsvcs -p -s",
        r"c:\windows\explorer.exe c:\windows\syswow64\ c:\windows\temp\ ",
        r"c:\program files (x86)\microsoft\ c:\program files\ ",
        r"c:\users\administrator\appdata\local\temp\ \appdata\roaming\ \programdata\ ",
        r"nt authority\system cmd.exe /c powershell.exe -noprofile rundll32.exe conhost.exe",
        r"microsoft-windows-sysmon/operational security system application .exe .dll .tmp",
        r"hkey_local_machine\software\ hklm\software\microsoft\windows\currentversion\ ",
        r"hku\s-1-5-21-\software\classes\ 0xffffffff",
    )
)


@dataclass(frozen=True)
class CompiledRule:
    """A Sigma detection rule ready to test events."""

    id: str
    title: str
    level: str
    logsource: LogSource
    match: Predicate
    clauses: Clauses
    """Literal sets that must each be found in a matching event's text (empty: test every event)."""
    literal_fields: frozenset[str] | None
    """Fields (lowercase) the literals come from; None when a keyword literal may be in any field."""
    leaves: tuple[tuple[str, Predicate], ...]
    """Positive field tests, to tell which fields matched."""
    tags: tuple[str, ...] = ()
    author: str = ""
    description: str = ""
    references: tuple[str, ...] = ()
    status: str = ""
    path: str = ""
    name: str = ""
    """The rule's ``name`` (what correlations refer to), or empty."""
    falsepositives: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def matched_fields(self, event: Event) -> list[str]:
        """The fields whose positive tests hold on ``event`` (for the alert's evidence)."""
        seen: list[str] = []
        for name, test in self.leaves:
            if name not in seen and test(event):
                seen.append(name)
        return seen


def selectivity(clause: frozenset[str]) -> tuple[int, int]:
    """How rarely a clause holds, roughly: its weakest literal's length (0 for text common in
    ordinary events, 1 for a regex key: it costs more to scan for than a literal), then fewer
    literals first."""
    weakest = (
        min((1 if lit.startswith(REGEX_KEY) else 0 if lit in _COMMON else len(lit)) for lit in clause)
        if clause
        else 0
    )
    return (weakest, -len(clause))


def _keep(clauses: list[frozenset[str]]) -> Clauses:
    """The most selective clauses, at most :data:`MAX_CLAUSES`; a clause holding text common in
    ordinary events is dropped when a better one exists: it would be found in nearly every event
    (one scan callback each) and reject almost none. Dropping a clause never loses a match, it only
    lets more events reach the rule's predicate."""
    unique = sorted(set(clauses), key=selectivity, reverse=True)
    strong = [c for c in unique if selectivity(c)[0] > 0]
    return tuple((strong or unique)[:MAX_CLAUSES])


def _and(preds: list[Predicate]) -> Predicate:
    if len(preds) == 2:
        p, q = preds
        return lambda e: p(e) and q(e)

    def all_of(event: Event) -> bool:
        for p in preds:  # noqa: SIM110 - a plain loop is faster than all() over a generator
            if not p(event):
                return False
        return True

    return all_of


def _or(preds: list[Predicate]) -> Predicate:
    if len(preds) == 2:
        p, q = preds
        return lambda e: p(e) or q(e)

    def any_of(event: Event) -> bool:
        for p in preds:  # noqa: SIM110 - a plain loop is faster than any() over a generator
            if p(event):
                return True
        return False

    return any_of


def _any_clause(parts: list[Clauses]) -> Clauses:
    """The one clause an OR implies: the union of each branch's most selective clause."""
    if not parts or any(not c for c in parts):
        return ()
    union: frozenset[str] = frozenset()
    for clauses in parts:
        union = union | clauses[0]
    return (union,)


class _Compiler:
    def __init__(self, placeholders: Mapping[str, list[str]]) -> None:
        self.placeholders = placeholders
        self.leaves: list[tuple[str, Predicate]] = []
        self.fields: set[str | None] = set()

    def merged_or(self, item: ConditionOR, positive: bool) -> tuple[Predicate, Clauses] | None:
        """An ``or`` of plain string tests on one field as one check; None when it is not one."""
        args = [a for a in item.args if isinstance(a, ConditionFieldEqualsValueExpression)]
        if len(args) < 3 or len(args) != len(item.args):
            return None
        names = {a.field for a in args}
        if len(names) != 1:
            return None
        field = args[0].field
        tests = [compile_value(field.lower(), a.value, self.placeholders) for a in args]
        simples = [t.simple for t in tests]
        if any(s is None for s in simples) or len({s[2] for s in simples if s}) != 1:
            return None
        pred = merged_test(field.lower(), [s for s in simples if s])
        if positive:
            self.leaves.append((field, pred))
        if any(t.need is None for t in tests):
            return pred, ()
        if positive:
            self.fields.add(field.lower())
        return pred, (frozenset(lit for t in tests for lit in (t.need or ())),)

    def node(self, item: Any, positive: bool = True) -> tuple[Predicate, Clauses]:
        if isinstance(item, ConditionOR):
            merged = self.merged_or(item, positive)
            if merged is not None:
                return merged
        if isinstance(item, ConditionAND | ConditionOR):
            parts = [self.node(a, positive) for a in item.args]
            preds = [p for p, _ in parts]
            if len(preds) == 1:
                return parts[0]
            if isinstance(item, ConditionAND):
                return _and(preds), _keep([c for _, cs in parts for c in cs])
            return _or(preds), _any_clause([cs for _, cs in parts])
        if isinstance(item, ConditionNOT):
            inner, _ = self.node(item.args[0], not positive)
            return (lambda e: not inner(e)), ()
        if isinstance(item, ConditionFieldEqualsValueExpression):
            name = item.field.lower()
            test = compile_value(name, item.value, self.placeholders)
            if positive:
                self.leaves.append((item.field, test.test))
            if test.need is None:
                return test.test, ()
            if positive:
                self.fields.add(name)
            return test.test, (test.need,)
        if isinstance(item, ConditionValueExpression):
            test = compile_value(None, item.value, self.placeholders)
            if test.need is None:
                return test.test, ()
            if positive:
                self.fields.add(None)
            return test.test, (test.need,)
        raise UnsupportedRule(f"condition element {type(item).__name__} is not supported")


def compile_rule(
    rule: SigmaRule, path: str = "", placeholders: Mapping[str, list[str]] | None = None
) -> CompiledRule:
    """Compile ``rule``; :class:`UnsupportedRule` with a one-line reason when it cannot be evaluated."""
    compiler = _Compiler(placeholders or {})
    preds: list[Predicate] = []
    branches: list[Clauses] = []
    try:
        conditions = [c.parsed for c in rule.detection.parsed_condition]
    except SigmaError as exc:
        raise UnsupportedRule(f"condition: {exc}") from None
    for cond in conditions:
        pred, clauses = compiler.node(cond)
        preds.append(pred)
        branches.append(clauses)
    if not preds:
        raise UnsupportedRule("no condition")
    ls = rule.logsource
    return CompiledRule(
        id=str(rule.id) if rule.id else (rule.name or rule.title),
        title=rule.title,
        level=rule.level.name.lower() if rule.level else "medium",
        logsource=(ls.product, ls.category, ls.service),
        match=preds[0] if len(preds) == 1 else _or(preds),
        clauses=branches[0] if len(branches) == 1 else _any_clause(branches),
        literal_fields=None if None in compiler.fields else frozenset(f for f in compiler.fields if f),
        leaves=tuple(compiler.leaves),
        tags=tuple(str(t) for t in rule.tags),
        author=rule.author or "",
        description=rule.description or "",
        references=tuple(rule.references or ()),
        status=rule.status.name.lower() if rule.status else "",
        path=path,
        name=rule.name or "",
        falsepositives=tuple(str(f) for f in (rule.falsepositives or ())),
    )
