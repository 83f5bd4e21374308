"""Sigma rules inside another reader's stream: ``bastion watch`` reads each line once and both its
anomaly models and the Sigma rules see it.

:class:`SigmaTap` passes lines through unchanged and raises an :class:`~bastion.findings.Alert` for
every rule hit; alerts wait in order until the caller says where to deliver them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bastion.detect.sigma.alerts import correlation_alert, hit_alert
from bastion.detect.sigma.correlate import CorrelationHit
from bastion.detect.sigma.engine import SigmaEngine
from bastion.detect.sigma.events import LineReader, ReadSkips
from bastion.detect.sigma.loader import load_rules
from bastion.errors import InputError
from bastion.findings import Alert, Severity

__all__ = ["SigmaTap"]

Line = tuple[str, int, str]


class SigmaTap:
    """Sigma rules over lines that flow to someone else."""

    def __init__(self, rules: Sequence[Path], min_level: Severity = Severity.INFO) -> None:
        """Load ``rules``; :class:`InputError` when none loads."""
        self.ruleset = load_rules(rules)
        if not self.ruleset.rules:
            raise InputError(f"{', '.join(str(r) for r in rules)}: no Sigma rule could be loaded")
        self.engine = SigmaEngine(self.ruleset, min_level)
        self.skips = ReadSkips()
        self.reader = LineReader(self.skips)
        self.pending: list[Alert] = []
        self.deliver: Callable[[Alert], None] | None = None
        self.alerts = 0

    def deliver_to(self, callback: Callable[[Alert], None]) -> None:
        """Send alerts to ``callback`` from now on, those raised so far first."""
        self.deliver = callback
        pending, self.pending = self.pending, []
        for alert in pending:
            callback(alert)

    def lines(self, lines: Iterator[Line]) -> Iterator[Line]:
        """Yield ``lines`` unchanged, matching each against the rules on the way."""
        for item in lines:
            for event in self.reader.events(*item):
                for hit in self.engine.run([event]):
                    alert = correlation_alert(hit) if isinstance(hit, CorrelationHit) else hit_alert(hit)
                    self.alerts += 1
                    if self.deliver is None:
                        self.pending.append(alert)
                    else:
                        self.deliver(alert)
            yield item

    def summary(self) -> str:
        """One line: rules, events, alerts, refusals and skips."""
        refused = f", {len(self.ruleset.refused)} rule(s) refused" if self.ruleset.refused else ""
        skipped = f", {self.skips.total} line(s) skipped" if self.skips.total else ""
        return (
            f"sigma: {len(self.ruleset.rules)} rule(s) over {self.engine.events} event(s): "
            f"{self.alerts} alert(s){refused}{skipped}"
        )
