"""Scoring: injections, alerts and the blue team's actions in; a scoreboard out.

Definitions (all times from the scenario's start, the first telemetry of its first step):

* An alert **belongs** to a played scenario when it names one of the entities the scenario's
  telemetry used (user, address, host, file path; window alerts of ``watch`` name none and belong
  by time alone) and its corrected time lies between the start minus the skew tolerance and the
  end of the scenario plus its longest deadline and ``LATE_S`` (a late detection is still a
  detection, not in time). An alert that belongs to no scenario is a
  **false alert**.
* **Clock skew**: each family's known offset (``clock_skew_s``: alert clock minus telemetry clock)
  is subtracted from its alerts' times; an alert still earlier than the start by no more than
  ``skew_tolerance_s`` counts at time 0 (never a negative time to detect).
* A scenario is **detected** when an alert belonging to it matches one of its expectations,
  **missed** when none does although at least one expectation could be checked, and **not
  assessed** when none could (the detector is not in the exercise, not installed, or skipped the
  check). Not assessed is never counted as detected or missed.
* **TTD** is the first matching alert's time; **TTA**, **TTC**, **TTR** the first acknowledgement,
  containment and resolution by a team of any alert belonging to the scenario. Medians and p90
  (nearest rank) are over runs (TTD) and over runs times teams (TTA, TTC, TTR).

Points (GameBoard style), per run: the blue team scores for each detected scenario
``DETECT`` (+ ``IN_TIME`` when the first matching alert met its deadline); each team scores
``ACK``, ``CONTAIN`` and ``RESOLVE`` for each scenario it acknowledged, contained and resolved;
every false alert costs the blue side ``FALSE_ALERT``. The red team scores ``RED_MISS`` for each
missed scenario. Not-assessed scenarios score nothing for either side.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bastion.drills.journal import Action, AlertRecord
from bastion.drills.scenario import Scenario
from bastion.drills.telemetry import Injection

__all__ = [
    "DETECTED",
    "MISSED",
    "NOT_ASSESSED",
    "POINTS",
    "Outcome",
    "Scoreboard",
    "Stats",
    "TechniqueRow",
    "p90",
    "score",
]

DETECTED, MISSED, NOT_ASSESSED = "detected", "missed", "not assessed"
POINTS = {
    "DETECT": 10,
    "IN_TIME": 5,
    "ACK": 5,
    "CONTAIN": 10,
    "RESOLVE": 5,
    "FALSE_ALERT": -1,
    "RED_MISS": 10,
}
"""The point table (documented in this module's docstring and printed in every report)."""
_DEFAULT_WITHIN = 3600.0
LATE_S = 3600.0
"""How long past its deadline an alert still belongs to a scenario (and detects it, late)."""
RED = "red team"
"""The red side's key in the points (team names cannot contain a space)."""
_TIME_ONLY = frozenset({"window", "stream"})
"""Entity kinds of whole-stream alerts (``watch``): they belong to a scenario by time alone."""
_SPLIT = re.compile(r"[|,]")
"""Composite entities (``ip|user``, ``ip1,ip2``) belong when any part does."""


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Stats:
    """Median and p90 of a set of seconds, and how many there were."""

    n: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        """The stats of ``values``."""
        return cls(len(values), statistics.median(values) if values else None, p90(values))

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain JSON."""
        return {"n": self.n, "median_s": self.median, "p90_s": self.p90}


@dataclass
class TechniqueRow:
    """One ATT&CK technique across the scenarios that use it."""

    id: str
    name: str
    tactics: tuple[str, ...]
    scenarios: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """Status -> scenario runs."""
    ttds: list[float] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``detected`` when every assessed run was, ``missed`` when none was, else ``partly detected``."""
        d, m = self.counts.get(DETECTED, 0), self.counts.get(MISSED, 0)
        if not d and not m:
            return NOT_ASSESSED
        return DETECTED if not m else MISSED if not d else "partly detected"

    @property
    def coverage(self) -> float | None:
        """Detected share of the assessed runs (None when none was assessed)."""
        d, m = self.counts.get(DETECTED, 0), self.counts.get(MISSED, 0)
        return d / (d + m) if d + m else None


@dataclass
class Outcome:
    """One scenario in one run."""

    scenario: str
    run: int
    status: str
    ttd: float | None = None
    in_time: bool = False
    skewed: bool = False
    """The first matching alert was earlier than the start (within the tolerance): clock skew."""
    why: str = ""
    """For not assessed: the reason; for missed: what the detectors did raise about it."""
    alerts: list[str] = field(default_factory=list)
    """Ids of the alerts that belong to it."""
    tta: dict[str, float] = field(default_factory=dict)
    ttc: dict[str, float] = field(default_factory=dict)
    ttr: dict[str, float] = field(default_factory=dict)


@dataclass
class Scoreboard:
    """The whole exercise, scored."""

    outcomes: list[Outcome]
    false_alerts: dict[int, list[str]]
    """Run -> ids of alerts that belong to no scenario."""
    scenarios: Mapping[str, Scenario]
    teams: tuple[str, ...]
    points: dict[str, int]
    """``red`` and each blue team -> points."""
    baseline_hours: float = 24.0

    def by_scenario(self) -> dict[str, list[Outcome]]:
        """Outcomes grouped by scenario id."""
        out: dict[str, list[Outcome]] = {}
        for o in self.outcomes:
            out.setdefault(o.scenario, []).append(o)
        return out

    def summary(self, sid: str) -> dict[str, object]:
        """One scenario across runs and teams."""
        outs = self.by_scenario().get(sid, [])
        assessed = [o for o in outs if o.status != NOT_ASSESSED]
        detected = [o for o in assessed if o.status == DETECTED]
        status = NOT_ASSESSED if not assessed else DETECTED if len(detected) == len(assessed) else MISSED
        if detected and len(detected) < len(assessed):
            status = "partly detected"
        return {
            "status": status,
            "runs": len(outs),
            "detected": len(detected),
            "assessed": len(assessed),
            "ttd": Stats.of([o.ttd for o in detected if o.ttd is not None]),
            "tta": Stats.of([v for o in outs for v in o.tta.values()]),
            "ttc": Stats.of([v for o in outs for v in o.ttc.values()]),
            "ttr": Stats.of([v for o in outs for v in o.ttr.values()]),
            "why": "; ".join(dict.fromkeys(o.why for o in outs if o.why)),
        }

    def by_technique(self) -> dict[str, TechniqueRow]:
        """Per ATT&CK technique: scenario runs detected / missed / not assessed and the TTD over them."""
        out: dict[str, TechniqueRow] = {}
        for sid, outs in sorted(self.by_scenario().items()):
            for t in self.scenarios[sid].techniques:
                row = out.setdefault(t.id, TechniqueRow(t.id, t.name, t.tactics))
                row.scenarios.append(sid)
                for o in outs:
                    row.counts[o.status] = row.counts.get(o.status, 0) + 1
                    if o.ttd is not None:
                        row.ttds.append(o.ttd)
        return out

    @property
    def false_alerts_total(self) -> int:
        """False alerts over all runs."""
        return sum(len(v) for v in self.false_alerts.values())

    def false_alerts_per_hour(self) -> float:
        """False alerts per hour of baseline, over all runs."""
        runs = max(1, len({o.run for o in self.outcomes} | set(self.false_alerts)))
        return self.false_alerts_total / (self.baseline_hours * runs)


def _corrected(a: AlertRecord, skew: Mapping[str, float]) -> float:
    return a.time.timestamp() - skew.get(a.family, 0.0)


def _belongs(a: AlertRecord, inj: Injection, horizon: float, t: float, tolerance: float) -> bool:
    if not inj.start.timestamp() - tolerance <= t <= inj.end.timestamp() + horizon:
        return False
    if a.alert.entity_kind in _TIME_ONLY:
        return True
    entity = a.alert.entity
    return entity in inj.entities or any(p in inj.entities for p in _SPLIT.split(entity) if p)


def _unassessed(scenario: Scenario, families: Iterable[str], skipped: Mapping[str, str]) -> dict[str, str]:
    """Expectation -> why it cannot be checked."""
    fams = set(families)
    out: dict[str, str] = {}
    for e in scenario.expect:
        if e.family not in fams:
            out[e.detector] = f"detector {e.family} is not part of the exercise"
            continue
        for prefix, reason in skipped.items():
            if e.detector == prefix or e.detector.startswith(prefix + ".") or prefix == e.family:
                out[e.detector] = reason
    return out


def score(
    scenarios: Mapping[str, Scenario],
    injections: Iterable[Injection],
    alerts: Iterable[AlertRecord],
    actions: Iterable[Action],
    *,
    families: Sequence[str],
    skipped: Mapping[int, Mapping[str, str]] | None = None,
    teams: Sequence[str] = ("blue",),
    clock_skew_s: Mapping[str, float] | None = None,
    skew_tolerance_s: float = 120.0,
    baseline_hours: float = 24.0,
) -> Scoreboard:
    """Score an exercise. ``skipped``: run -> signature prefix -> why it was not checked; alerts and
    actions are taken once each by id (a journal read twice scores the same)."""
    skew = clock_skew_s or {}
    skipped = skipped or {}
    unique = {a.id: a for a in alerts}
    firsts: dict[tuple[str, str, str], Action] = {}
    for act in sorted(actions, key=lambda x: x.time):
        firsts.setdefault((act.alert, act.kind, act.team), act)
    by_run: dict[int, list[AlertRecord]] = {}
    for a in unique.values():
        by_run.setdefault(a.run, []).append(a)
    outcomes: list[Outcome] = []
    owned: set[str] = set()
    for inj in sorted(injections, key=lambda i: (i.run, i.scenario)):
        s = scenarios[inj.scenario]
        horizon = max((e.within_s for e in s.expect), default=_DEFAULT_WITHIN) + LATE_S
        start = inj.start.timestamp()
        mine: list[tuple[float, AlertRecord]] = []
        for a in by_run.get(inj.run, []):
            t = _corrected(a, skew)
            if _belongs(a, inj, horizon, t, skew_tolerance_s):
                mine.append((t, a))
        mine.sort(key=lambda x: x[0])
        owned.update(a.id for _, a in mine)
        out = Outcome(inj.scenario, inj.run, MISSED, alerts=[a.id for _, a in mine])
        unchecked = _unassessed(s, families, skipped.get(inj.run, {}))
        checkable = [e for e in s.expect if e.detector not in unchecked]
        if not checkable:
            out.status, out.why = NOT_ASSESSED, "; ".join(dict.fromkeys(unchecked.values()))
        else:
            for t, a in mine:
                hit = next((e for e in checkable if e.matches(a.signature)), None)
                if hit is not None:
                    out.status, out.ttd, out.skewed = DETECTED, max(0.0, t - start), t < start
                    out.in_time = out.ttd <= hit.within_s
                    break
            if out.status == MISSED:
                raised = sorted({a.signature for _, a in mine})
                out.why = f"raised only {', '.join(raised)}" if raised else "no alert about its entities"
        for kind, slot in (("ack", out.tta), ("contain", out.ttc), ("resolve", out.ttr)):
            for team in teams:
                times = [firsts[(a.id, kind, team)].time for _, a in mine if (a.id, kind, team) in firsts]
                if times:
                    slot[team] = max(0.0, min(times).timestamp() - start)
        outcomes.append(out)
    false_alerts = {run: sorted(a.id for a in lst if a.id not in owned) for run, lst in by_run.items()}
    points = _points(outcomes, false_alerts, teams)
    return Scoreboard(outcomes, false_alerts, scenarios, tuple(teams), points, baseline_hours)


def _points(
    outcomes: Sequence[Outcome], false_alerts: Mapping[int, list[str]], teams: Sequence[str]
) -> dict[str, int]:
    pts = {RED: 0, **dict.fromkeys(teams, 0)}
    noise = POINTS["FALSE_ALERT"] * sum(len(v) for v in false_alerts.values())
    for team in teams:
        pts[team] += noise
    for o in outcomes:
        if o.status == MISSED:
            pts[RED] += POINTS["RED_MISS"]
        if o.status == DETECTED:
            for team in teams:
                pts[team] += POINTS["DETECT"] + (POINTS["IN_TIME"] if o.in_time else 0)
        for team in teams:
            pts[team] += POINTS["ACK"] * (team in o.tta) + POINTS["CONTAIN"] * (team in o.ttc)
            pts[team] += POINTS["RESOLVE"] * (team in o.ttr)
    return pts


def when(value: datetime | None) -> str:
    """A time for a report line."""
    return value.isoformat() if value is not None else "-"
