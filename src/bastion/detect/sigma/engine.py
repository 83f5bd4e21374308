"""The Sigma engine: one index for detection rules, running state for correlations, hits out.

:meth:`SigmaEngine.process` takes one event and returns the detection hits (rules that raise
alerts of their own) and the correlation hits it completes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from bastion.detect.sigma.compiler import CompiledRule
from bastion.detect.sigma.correlate import CorrelationHit, CorrelationState
from bastion.detect.sigma.event import Event
from bastion.detect.sigma.index import RuleIndex
from bastion.detect.sigma.loader import RuleSet
from bastion.findings import Severity

__all__ = ["LEVELS", "RuleHit", "SigmaEngine", "level_severity"]

LEVELS = {
    "informational": Severity.INFO,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}
EXPIRE_EVERY = 10_000
"""Events between sweeps that drop expired correlation state of keys not seen again."""


def level_severity(level: str) -> Severity:
    """Sigma ``level`` as a Bastion :class:`Severity` (``informational`` is ``info``)."""
    return LEVELS.get(level, Severity.MEDIUM)


@dataclass(frozen=True)
class RuleHit:
    """One detection rule matched one event."""

    rule: CompiledRule
    event: Event


class SigmaEngine:
    """Matches events against a :class:`RuleSet`."""

    def __init__(self, ruleset: RuleSet, min_level: Severity = Severity.INFO) -> None:
        """Index the rules; rules below ``min_level`` do not alert (they still feed correlations)."""
        self.ruleset = ruleset
        feeding = {r.id for c in ruleset.correlations for r in c.rules}
        quiet = {r.id for c in ruleset.correlations if not c.generate for r in c.rules}
        loud = {r.id for c in ruleset.correlations if c.generate for r in c.rules}
        self.alerting = {
            r.id
            for r in ruleset.rules
            if (r.id not in quiet or r.id in loud) and level_severity(r.level) >= min_level
        }
        self.index = RuleIndex([r for r in ruleset.rules if r.id in self.alerting or r.id in feeding])
        self.states = [
            CorrelationState(c) for c in ruleset.correlations if level_severity(c.level) >= min_level
        ]
        self._feeds: dict[str, list[CorrelationState]] = {}
        for state in self.states:
            for rule in state.c.rules:
                self._feeds.setdefault(rule.id, []).append(state)
        self.events = 0
        self.now = 0.0

    def process(self, event: Event) -> tuple[list[RuleHit], list[CorrelationHit]]:
        """Match one event."""
        self.events += 1
        hits: list[RuleHit] = []
        corr: list[CorrelationHit] = []
        matched = self.index.match(event)
        if not matched:
            return hits, corr
        if not self._feeds:  # no correlation to feed: the event's time is not needed here
            alerting = self.alerting
            return [RuleHit(rule, event) for rule in matched if rule.id in alerting], corr
        if event.timestamp is not None:
            self.now = max(self.now, event.timestamp.timestamp())
        elif not self.now:
            self.now = datetime.now(UTC).timestamp()
        now = event.timestamp.timestamp() if event.timestamp is not None else self.now
        for rule in matched:
            if rule.id in self.alerting:
                hits.append(RuleHit(rule, event))
            for state in self._feeds.get(rule.id, ()):
                hit = state.feed(rule, event, now)
                if hit is not None:
                    corr.append(hit)
        if self.events % EXPIRE_EVERY == 0:
            for state in self.states:
                state.expire(self.now)
        return hits, corr

    def run(self, events: Iterable[Event]) -> Iterator[RuleHit | CorrelationHit]:
        """Every hit over ``events``, in order."""
        for event in events:
            hits, corr = self.process(event)
            yield from hits
            yield from corr
