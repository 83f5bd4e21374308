"""Identity alerts as table, JSON or JSON lines, and a baseline in words."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TextIO, assert_never

from bastion.detect.identity.baseline import DAYS, Profile
from bastion.findings import Alert

__all__ = ["AlertWriter", "OutputFormat", "alert_record", "describe_profile"]


class OutputFormat(StrEnum):
    """``--format`` choices of ``bastion identity detect``."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"


def alert_record(alert: Alert) -> dict[str, Any]:
    """The JSON-lines form: streaming ``time``, evidence window, users, IPs, kind and ATT&CK ids."""
    meta = alert.metadata
    return {
        "time": meta.get("time", alert.window_end.isoformat()),
        "start": alert.window_start.isoformat(),
        "end": alert.window_end.isoformat(),
        "kind": meta.get("kind", alert.detector.removeprefix("identity.")),
        "severity": alert.severity.value,
        "score": alert.score,
        "users": list(meta.get("users", [])),
        "ips": list(meta.get("ips", [])),
        "file": meta.get("file", ""),
        "explanation": alert.explanation,
        "attack": list(alert.techniques),
        "evidence": list(alert.evidence),
    }


class AlertWriter:
    """Writes alerts as they come (table, JSON lines) or at the end (one JSON document)."""

    def __init__(self, stream: TextIO, fmt: OutputFormat) -> None:
        """Write to ``stream`` in ``fmt``."""
        self.stream = stream
        self.fmt = fmt
        self.count = 0
        self._held: list[dict[str, Any]] = []

    def emit(self, alert: Alert) -> None:
        """Write (or hold, for JSON) one alert."""
        self.count += 1
        record = alert_record(alert)
        if self.fmt is OutputFormat.JSONL:
            self.stream.write(json.dumps(record) + "\n")
        elif self.fmt is OutputFormat.JSON:
            self._held.append(record)
        elif self.fmt is OutputFormat.TABLE:
            who = ", ".join(record["users"][:5]) or "-"
            ips = ", ".join(record["ips"][:5]) or "-"
            self.stream.write(
                f"[{alert.severity.value.upper()}] {record['kind']} {record['end']} users={who} "
                f"ips={ips} score={alert.score:g} {' '.join(record['attack'])}\n"
                f"  {alert.explanation}\n"
            )
            for line in alert.evidence[:5]:
                self.stream.write(f"    | {line[:200]}\n")
        else:
            assert_never(self.fmt)

    def close(self, summary: dict[str, Any]) -> None:
        """Finish: the JSON document, or the table's summary line."""
        if self.fmt is OutputFormat.JSON:
            json.dump({"alerts": self._held, "summary": summary}, self.stream, indent=2)
            self.stream.write("\n")
        elif self.fmt is OutputFormat.TABLE:
            self.stream.write(f"{self.count} alert(s) from {summary.get('events', 0)} sign-in event(s)\n")


def _top(counts: dict[str, float], n: int = 4) -> str:
    items = sorted(((v, k) for k, v in counts.items() if v >= 0.5), reverse=True)[:n]
    return ", ".join(f"{k} ({v:.0f})" for v, k in items) or "none yet"


def describe_profile(user: str, p: Profile, min_history: int) -> Iterable[str]:
    """The learned normal of one identity, as sentences."""
    first = datetime.fromtimestamp(p.first, UTC).date().isoformat() if p.first else "-"
    last = datetime.fromtimestamp(p.last, UTC).isoformat() if p.last else "-"
    yield f"{user}: {p.n} successful sign-in(s) learned, first {first}, last {last}."
    if p.n < min_history:
        yield f"Still learning: unfamiliar-property alerts start after {min_history} sign-ins."
    hours = sorted(int(h) for h, v in p.normal("hour").items() if v >= 0.5)
    yield f"Usual countries: {_top(p.normal('country'))}."
    yield f"Usual networks (ASN): {_top(p.normal('asn'))}."
    yield f"Usual devices: {_top(p.normal('device'))}."
    yield f"Usual apps: {_top(p.normal('app'))}."
    where = (
        "UTC"
        if p.offset is None
        else f"local solar time where the sign-ins come from; last seen at UTC{p.offset:+d}"
    )
    yield f"Usual hours ({where}): {', '.join(str(h) for h in hours) or 'none yet'}."
    days = p.normal("weekday")
    learned = sum(days.values())
    if learned:  # a state written before days were learned has none
        shares = ", ".join(
            f"{d} {days[d] / learned:.0%}" for d in DAYS if days.get(d, 0.0) / learned >= 0.005
        )
        yield f"Days of the week (local time, share of sign-ins): {shares}."
    if p.anon_days:
        yield f"Signed in through an anonymizer on {len(p.anon_days)} recent day(s)."
    yield "Counts decay with a half-life, so habits not seen for months fade."
