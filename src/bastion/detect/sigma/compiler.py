"""A pySigma rule compiled into one predicate over :class:`Event` plus its prefilter key.

pySigma parses the rule and applies every modifier; its condition tree (``and``/``or``/``not``,
``1 of``/``all of`` patterns and ``them`` already expanded into field/value expressions) is
compiled here into nested closures. Each rule also gets ``need``: a set of lowercase literals one
of which the event's text must contain whenever the rule matches (an ``and`` keeps its most
selective child's set, an ``or`` the union of its children's, a ``not`` gives none). The index
(:mod:`bastion.detect.sigma.index`) tests a rule only on events where its key was found.
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
from bastion.detect.sigma.values import Predicate, UnsupportedRule, compile_value

__all__ = ["CompiledRule", "compile_rule"]

Need = frozenset[str] | None


@dataclass(frozen=True)
class CompiledRule:
    """A Sigma detection rule ready to test events."""

    id: str
    title: str
    level: str
    logsource: LogSource
    match: Predicate
    need: Need
    """Literals one of which a matching event contains (None: test on every event of its log source)."""
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


def _best(a: Need, b: Need) -> Need:
    """Of two requirements for an AND, the more selective one (longest shortest literal, fewer literals)."""
    if a is None:
        return b
    if b is None:
        return a

    def score(n: frozenset[str]) -> tuple[int, int]:
        return (min(len(x) for x in n) if n else 0, -len(n))

    return a if score(a) >= score(b) else b


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


class _Compiler:
    def __init__(self, placeholders: Mapping[str, list[str]]) -> None:
        self.placeholders = placeholders
        self.leaves: list[tuple[str, Predicate]] = []

    def node(self, item: Any, positive: bool = True) -> tuple[Predicate, Need]:
        if isinstance(item, ConditionAND | ConditionOR):
            parts = [self.node(a, positive) for a in item.args]
            preds = [p for p, _ in parts]
            if len(preds) == 1:
                return parts[0]
            if isinstance(item, ConditionAND):
                need: Need = None
                for _, n in parts:
                    need = _best(need, n)
                return _and(preds), need
            union: Need = frozenset()
            for _, n in parts:
                union = None if union is None or n is None else union | n
            return _or(preds), union
        if isinstance(item, ConditionNOT):
            inner, _ = self.node(item.args[0], not positive)
            return (lambda e: not inner(e)), None
        if isinstance(item, ConditionFieldEqualsValueExpression):
            name = item.field.lower()
            test = compile_value(name, item.value, self.placeholders)
            if positive:
                self.leaves.append((item.field, test.test))
            return test.test, test.need
        if isinstance(item, ConditionValueExpression):
            test = compile_value(None, item.value, self.placeholders)
            return test.test, test.need
        raise UnsupportedRule(f"condition element {type(item).__name__} is not supported")


def compile_rule(
    rule: SigmaRule, path: str = "", placeholders: Mapping[str, list[str]] | None = None
) -> CompiledRule:
    """Compile ``rule``; :class:`UnsupportedRule` with a one-line reason when it cannot be evaluated."""
    compiler = _Compiler(placeholders or {})
    preds: list[Predicate] = []
    need: Need = frozenset()
    try:
        conditions = [c.parsed for c in rule.detection.parsed_condition]
    except SigmaError as exc:
        raise UnsupportedRule(f"condition: {exc}") from None
    for cond in conditions:
        pred, n = compiler.node(cond)
        preds.append(pred)
        need = None if need is None or n is None else need | n
    if not preds:
        raise UnsupportedRule("no condition")
    ls = rule.logsource
    return CompiledRule(
        id=str(rule.id) if rule.id else (rule.name or rule.title),
        title=rule.title,
        level=rule.level.name.lower() if rule.level else "medium",
        logsource=(ls.product, ls.category, ls.service),
        match=preds[0] if len(preds) == 1 else _or(preds),
        need=need if need else None,
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
