"""Service-level agreements: days allowed to fix a finding of each severity."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bastion.errors import ConfigError
from bastion.findings import Severity

__all__ = ["DEFAULT_DAYS", "ENV_SLA", "SlaPolicy"]

DEFAULT_DAYS = {"critical": 7, "high": 30, "medium": 90, "low": 180}
ENV_SLA = "BASTION_SLA"


@dataclass(frozen=True)
class SlaPolicy:
    """Days to fix by severity; a severity absent from ``days`` has no deadline."""

    days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DAYS))

    @classmethod
    def parse(cls, text: str, source: str = ENV_SLA) -> SlaPolicy:
        """Read ``critical=7,high=30`` on top of the defaults; ``low=0`` removes a deadline."""
        days = dict(DEFAULT_DAYS)
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            try:
                severity = Severity.parse(key).value
                number = int(value) if sep else -1
            except ValueError as exc:
                raise ConfigError(f"{source}: {part!r}: {exc}") from None
            if number < 0:
                raise ConfigError(f"{source}: {part!r}: expected SEVERITY=DAYS with DAYS >= 0")
            if number == 0:
                days.pop(severity, None)
            else:
                days[severity] = number
        return cls(days)

    @classmethod
    def from_env(cls) -> SlaPolicy:
        """The policy from ``BASTION_SLA``, or the defaults."""
        return cls.parse(os.environ.get(ENV_SLA, ""))

    def due(self, severity: str, first_seen: datetime) -> datetime | None:
        """When a finding first seen at ``first_seen`` must be fixed, or None."""
        days = self.days.get(severity)
        return None if days is None else first_seen + timedelta(days=days)

    def describe(self) -> str:
        """``critical 7d, high 30d, ...`` for pages and logs."""
        return ", ".join(f"{s} {d}d" for s, d in self.days.items())
