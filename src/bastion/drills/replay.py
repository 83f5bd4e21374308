"""Replay mode: a copy of the organisation's normal telemetry with the attacks mixed in at known
times, fed through the production detectors; every alert recorded with its time in the journal.

Each run draws its schedule from the exercise's seed; each detector family is one unit of work,
journaled when finished, so an interrupted exercise resumes at the first unfinished unit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bastion.drills.baseline import Baseline, app_records, generate, signin_items
from bastion.drills.detectors import FamilyAdapter, adapters, alert_id, signature
from bastion.drills.exercise import Exercise, schedule
from bastion.drills.journal import AlertRecord, Journal, Unit
from bastion.drills.telemetry import Injection, Item, render

__all__ = ["Telemetry", "baseline_of", "replay", "telemetry"]

TRAINING_H = {"identity": 72.0, "watch": 24.0}
"""Hours of normal telemetry before the exercise that the learning detectors learn from."""


@dataclass
class Telemetry:
    """Everything one run feeds the detectors, per family, in time order."""

    items: dict[str, list[Item]] = field(default_factory=dict)
    training: dict[str, list[Item]] = field(default_factory=dict)
    injections: list[Injection] = field(default_factory=list)


def baseline_of(ex: Exercise) -> Baseline:
    """The exercise's background rates."""
    b = ex.baseline
    d = Baseline()
    return Baseline(
        signins_per_user_day=float(b.get("signins_per_user_day", d.signins_per_user_day)),
        processes_per_host_day=float(b.get("processes_per_host_day", d.processes_per_host_day)),
        web_requests_per_hour=float(b.get("web_requests_per_hour", d.web_requests_per_hour)),
    )


def _background(ex: Exercise, start: datetime, end: datetime, families: Sequence[str]) -> list[Item]:
    items = generate(ex.mapping, start, end, baseline_of(ex), ex.seed, families)
    base = Path(ex.path).parent
    logs = [base / p for p in ex.baseline.get("logs", ())]
    if logs and "watch" in families:  # real logs replace the generated service log
        items = [i for i in items if i.family != "watch"]
        items.extend(
            Item(r.timestamp or start, "watch", r) for r in app_records(logs, start, end, ex.mapping.rewrite)
        )
    signins = [base / p for p in ex.baseline.get("signins", ())]
    if signins and "identity" in families:  # and real sign-ins the generated ones
        items = [i for i in items if i.family != "identity"]
        items.extend(signin_items(signins, start, end, ex.mapping.rewrite))
    return items


def telemetry(ex: Exercise, run: int, attacks: bool = True) -> Telemetry:
    """Run ``run``'s telemetry: the background (and the day before, for learning) plus, unless
    ``attacks`` is False, every scenario at its scheduled time."""
    out = Telemetry()
    items = _background(ex, ex.start, ex.end, ex.detectors)
    training: list[Item] = []
    for family, hours in TRAINING_H.items():
        if family in ex.detectors:
            training.extend(_background(ex, ex.start - timedelta(hours=hours), ex.start, [family]))
    if attacks:
        for s in ex.scenarios:
            start = schedule(ex, run)[s.id]
            attack, injection = render(s, start, ex.mapping, run, ex.seed)
            items.extend(attack)
            out.injections.append(injection)
    for bucket, source in ((out.items, items), (out.training, training)):
        for item in sorted(source, key=lambda i: i.time):
            bucket.setdefault(item.family, []).append(item)
    return out


def replay(
    ex: Exercise,
    journal: Journal,
    made: Mapping[str, FamilyAdapter] | None = None,
    on_unit: Callable[[Unit], None] | None = None,
) -> Journal:
    """Play every run of ``ex`` into ``journal``, skipping the units it already holds."""
    journal.begin(ex.digest, ex.name, str(Path(ex.path).resolve()) if ex.path else "")
    made = made if made is not None else adapters(ex.config, ex.detectors)
    for run in range(ex.runs):
        if all((run, f) in journal.units for f in ex.detectors):
            continue
        tel = telemetry(ex, run)
        for inj in tel.injections:
            journal.add_injection(inj)
        for family in ex.detectors:
            if (run, family) in journal.units:
                continue
            unit = run_family(made[family], run, tel.items.get(family, []), tel.training.get(family, []))
            journal.add_unit(unit)
            if on_unit is not None:
                on_unit(unit)
    return journal


def run_family(adapter: FamilyAdapter, run: int, items: Sequence[Item], training: Sequence[Item]) -> Unit:
    """One family's replay as a journal unit (not assessed as a whole when the detector is missing)."""
    reason = adapter.unavailable()
    if reason is not None:
        return Unit(run, adapter.family, [], {adapter.family: reason}, 0)
    result = adapter.run(items, training)
    alerts = [
        AlertRecord(alert_id(d.alert, run), run, adapter.family, signature(d.alert), d.time, d.alert)
        for d in result.detected
    ]
    return Unit(run, adapter.family, alerts, dict(result.not_assessed), result.events)
