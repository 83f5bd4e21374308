"""Sigma correlation rules: event_count, value_count, temporal and temporal_ordered.

State is kept per correlation and per group-by key, holds only what falls inside the timespan
(older entries expire as event time moves on) and is capped in keys, so memory stays bounded on
an endless stream. A correlation fires once its condition holds inside the timespan, then its
state for that key starts over. Event time is the event's own timestamp; an event without one
takes the latest time seen.
"""

from __future__ import annotations

import operator
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)

from bastion.detect.sigma.compiler import CompiledRule
from bastion.detect.sigma.event import Event
from bastion.detect.sigma.values import UnsupportedRule

__all__ = ["CompiledCorrelation", "CorrelationHit", "CorrelationState", "compile_correlation"]

MAX_KEYS = 100_000
"""Group-by keys kept per correlation; the least recently seen key is dropped past this (counted)."""

_OPS: dict[SigmaCorrelationConditionOperator, Callable[[float, float], bool]] = {
    SigmaCorrelationConditionOperator.LT: operator.lt,
    SigmaCorrelationConditionOperator.LTE: operator.le,
    SigmaCorrelationConditionOperator.GT: operator.gt,
    SigmaCorrelationConditionOperator.GTE: operator.ge,
    SigmaCorrelationConditionOperator.EQ: operator.eq,
    SigmaCorrelationConditionOperator.NEQ: operator.ne,
}
_SUPPORTED = {
    SigmaCorrelationType.EVENT_COUNT,
    SigmaCorrelationType.VALUE_COUNT,
    SigmaCorrelationType.TEMPORAL,
    SigmaCorrelationType.TEMPORAL_ORDERED,
}


@dataclass(frozen=True)
class CompiledCorrelation:
    """A correlation rule bound to the detection rules it refers to."""

    id: str
    title: str
    level: str
    kind: str
    """``event_count``, ``value_count``, ``temporal`` or ``temporal_ordered``."""
    rules: tuple[CompiledRule, ...]
    group_by: tuple[str, ...]
    aliases: Mapping[str, Mapping[str, str]]
    """Group-by alias -> rule id -> the field that rule's events carry it in."""
    timespan: float
    """Seconds."""
    op: Callable[[float, float], bool]
    count: float
    value_field: str | None
    """value_count: the field whose distinct values are counted."""
    generate: bool
    """Whether the referenced rules also raise their own alerts."""
    tags: tuple[str, ...] = ()
    author: str = ""
    description: str = ""
    path: str = ""
    condition_text: str = ""


@dataclass(frozen=True)
class CorrelationHit:
    """A correlation whose condition held: the key, the value that crossed it and the events."""

    correlation: CompiledCorrelation
    key: tuple[str, ...]
    value: float
    events: tuple[Event, ...]
    start: datetime
    end: datetime


def compile_correlation(
    rule: SigmaCorrelationRule, by_ref: Mapping[str, CompiledRule], path: str = ""
) -> CompiledCorrelation:
    """Bind ``rule`` to loaded rules; :class:`UnsupportedRule` when a reference or feature is missing."""
    if rule.type not in _SUPPORTED:
        raise UnsupportedRule(f"correlation type {rule.type.name.lower()} is not supported")
    refs = []
    for ref in rule.rules or []:
        target = by_ref.get(str(ref.reference))
        if target is None:
            raise UnsupportedRule(f"correlation refers to rule {ref.reference!r}, which is not loaded")
        refs.append(target)
    if not refs:
        raise UnsupportedRule("correlation refers to no rule")
    cond = rule.condition
    if not isinstance(cond, SigmaCorrelationCondition | None):
        raise UnsupportedRule("extended correlation conditions (and/or/not over rules) are not supported")
    op: Callable[[float, float], bool]
    if rule.type in (SigmaCorrelationType.TEMPORAL, SigmaCorrelationType.TEMPORAL_ORDERED):
        op, count = _OPS[SigmaCorrelationConditionOperator.GTE], float(len(refs))
        if cond is not None:
            op, count = _OPS[cond.op], float(cond.count)
        value_field = None
    else:
        if cond is None:
            raise UnsupportedRule("correlation condition must be a count comparison")
        if cond.op in (SigmaCorrelationConditionOperator.LT, SigmaCorrelationConditionOperator.LTE):
            raise UnsupportedRule(
                "count conditions lt/lte need a closing window and are not supported on streams"
            )
        op, count = _OPS[cond.op], float(cond.count)
        fieldref = cond.fieldref
        value_field = fieldref[0] if isinstance(fieldref, list) else fieldref
        if rule.type == SigmaCorrelationType.VALUE_COUNT and not value_field:
            raise UnsupportedRule("value_count needs condition.field")
    aliases: dict[str, dict[str, str]] = {}
    for name, alias in rule.aliases.aliases.items():
        aliases[name] = {}
        for ref, fname in alias.mapping.items():
            target = by_ref.get(str(ref.reference))
            if target is not None:
                aliases[name][target.id] = fname
    return CompiledCorrelation(
        id=str(rule.id) if rule.id else (rule.name or rule.title),
        title=rule.title,
        level=rule.level.name.lower() if rule.level else "medium",
        kind=rule.type.name.lower(),
        rules=tuple(refs),
        group_by=tuple(rule.group_by or ()),
        aliases=aliases,
        timespan=float(rule.timespan.seconds),
        op=op,
        count=count,
        value_field=value_field,
        generate=bool(rule.generate),
        tags=tuple(str(t) for t in rule.tags),
        author=rule.author or "",
        description=rule.description or "",
        path=path,
        condition_text=f"{rule.type.name.lower()} {count:g}",
    )


@dataclass
class _Key:
    entries: deque[tuple[float, int, Any, Event]] = field(default_factory=deque)
    """(time, rule position, value, event) in arrival order."""


class CorrelationState:
    """Running state of one correlation over a stream."""

    def __init__(self, correlation: CompiledCorrelation) -> None:
        """Start empty."""
        self.c = correlation
        self.keys: OrderedDict[tuple[str, ...], _Key] = OrderedDict()
        self.dropped_keys = 0
        self.positions = {r.id: i for i, r in enumerate(correlation.rules)}

    def _key(self, rule: CompiledRule, event: Event) -> tuple[str, ...] | None:
        parts = []
        for name in self.c.group_by:
            fname = self.c.aliases.get(name, {}).get(rule.id, name).lower()
            value = event.text.get(fname)
            if value is None:
                return None
            parts.append(value if isinstance(value, str) else ",".join(value))
        return tuple(parts)

    def expire(self, now: float) -> None:
        """Drop entries older than the timespan and keys left empty."""
        horizon = now - self.c.timespan
        for key in list(self.keys):
            entries = self.keys[key].entries
            while entries and entries[0][0] < horizon:
                entries.popleft()
            if not entries:
                del self.keys[key]

    def size(self) -> int:
        """Entries held, all keys together."""
        return sum(len(k.entries) for k in self.keys.values())

    def feed(self, rule: CompiledRule, event: Event, now: float) -> CorrelationHit | None:
        """Account one match of ``rule``; a hit when the condition now holds."""
        key = self._key(rule, event)
        if key is None:
            return None
        state = self.keys.get(key)
        if state is None:
            state = self.keys[key] = _Key()
            if len(self.keys) > MAX_KEYS:
                self.keys.popitem(last=False)
                self.dropped_keys += 1
        else:
            self.keys.move_to_end(key)
        value: Any = None
        if self.c.value_field:
            value = event.text.get(self.c.value_field.lower())
            if self.c.kind == "value_count" and value is None:
                return None
        entries = state.entries
        entries.append((now, self.positions[rule.id], value, event))
        horizon = now - self.c.timespan
        while entries and entries[0][0] < horizon:
            entries.popleft()
        measure = self._measure(entries)
        if not self.c.op(measure, self.c.count):
            return None
        hit = CorrelationHit(
            self.c,
            key,
            measure,
            tuple(e for _, _, _, e in entries),
            _dt(entries[0][3], entries[0][0]),
            _dt(event, now),
        )
        del self.keys[key]
        return hit

    def _measure(self, entries: deque[tuple[float, int, Any, Event]]) -> float:
        kind = self.c.kind
        if kind == "event_count":
            return float(len(entries))
        if kind == "value_count":
            return float(len({v for _, _, v, _ in entries}))
        if kind == "temporal":
            return float(len({p for _, p, _, _ in entries}))
        # temporal_ordered: the longest prefix of the rule order seen in order
        step = 0
        for _, position, _, _ in entries:
            if position == step:
                step += 1
                if step == len(self.c.rules):
                    break
        return float(step)


def _dt(event: Event, now: float) -> datetime:
    from datetime import UTC

    return event.timestamp or datetime.fromtimestamp(now, UTC)
