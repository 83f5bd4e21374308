"""The exercise journal: one JSON object a line, appended as the exercise goes, so a run that
stops halfway resumes where it stopped and nothing is scored twice.

Records: ``exercise`` (which exercise file, by hash), ``injection`` (a scenario played in a run),
``unit`` (one detector family's replay of one run, with its alerts), ``action`` (a blue team's
ack / contain / resolve of an alert). A unit is written whole in one line once its replay has
finished; a torn last line (a crash mid-write) is ignored; a unit or action already recorded is
not recorded, nor counted, again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bastion.drills.telemetry import Injection
from bastion.errors import InputError
from bastion.findings import Alert

__all__ = ["ACTIONS", "Action", "AlertRecord", "Journal", "Unit"]

ACTIONS = ("ack", "contain", "resolve")
JOURNAL = "journal.jsonl"


@dataclass(frozen=True)
class AlertRecord:
    """One alert an exercise raised: its id, matching signature, the detector's time and the alert."""

    id: str
    run: int
    family: str
    signature: str
    time: datetime
    alert: Alert


@dataclass(frozen=True)
class Action:
    """A blue team's response to one alert."""

    kind: str
    alert: str
    team: str
    time: datetime


@dataclass
class Unit:
    """One family's replay of one run."""

    run: int
    family: str
    alerts: list[AlertRecord] = field(default_factory=list)
    not_assessed: dict[str, str] = field(default_factory=dict)
    events: int = 0


@dataclass
class Journal:
    """What the journal file holds."""

    path: Path
    digest: str = ""
    name: str = ""
    exercise: str = ""
    """Path of the exercise file, as given to ``drill run``."""
    injections: dict[tuple[int, str], Injection] = field(default_factory=dict)
    units: dict[tuple[int, str], Unit] = field(default_factory=dict)
    actions: dict[tuple[str, str, str], Action] = field(default_factory=dict)
    live: list[dict[str, Any]] = field(default_factory=list)
    """Requests live mode sent (scenario, target, URL, status or error, time)."""
    torn: int = 0
    """Lines that could not be read (a write cut short), ignored."""

    @classmethod
    def open(cls, directory: Path) -> Journal:
        """The journal in ``directory`` (empty when there is none yet)."""
        journal = cls(directory / JOURNAL)
        if journal.path.exists():
            for line in _lines(journal.path):
                try:
                    journal._load(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    journal.torn += 1
        return journal

    def _load(self, rec: Mapping[str, Any]) -> None:
        kind = rec["type"]
        if kind == "exercise":
            self.digest, self.name = str(rec["digest"]), str(rec["name"])
            self.exercise = str(rec.get("path", ""))
        elif kind == "injection":
            inj = Injection(
                rec["scenario"],
                int(rec["run"]),
                datetime.fromisoformat(rec["start"]),
                datetime.fromisoformat(rec["end"]),
                frozenset(rec["entities"]),
            )
            self.injections.setdefault((inj.run, inj.scenario), inj)
        elif kind == "unit":
            unit = Unit(
                int(rec["run"]), str(rec["family"]), [], dict(rec["not_assessed"]), int(rec["events"])
            )
            unit.alerts = [
                AlertRecord(
                    a["id"],
                    unit.run,
                    unit.family,
                    a["signature"],
                    datetime.fromisoformat(a["time"]),
                    Alert.from_dict(a["alert"]),
                )
                for a in rec["alerts"]
            ]
            self.units.setdefault((unit.run, unit.family), unit)
        elif kind == "live":
            self.live.append({k: rec[k] for k in ("scenario", "target", "url", "status", "error", "time")})
        elif kind == "action":
            act = Action(rec["kind"], rec["alert"], rec["team"], datetime.fromisoformat(rec["time"]))
            self.actions.setdefault((act.alert, act.kind, act.team), act)

    def _append(self, rec: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(rec, sort_keys=True) + "\n"
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise InputError(f"{self.path}: cannot write the journal: {exc.strerror or exc}") from None

    def begin(self, digest: str, name: str, path: str = "") -> None:
        """Start (or resume) the exercise with hash ``digest``; :class:`InputError` when the journal
        belongs to another exercise."""
        if self.digest and self.digest != digest:
            raise InputError(
                f"{self.path}: journal of another exercise ({self.name!r}, {self.digest}); use another -o DIR"
            )
        if not self.digest:
            self.digest, self.name, self.exercise = digest, name, path
            self._append({"type": "exercise", "digest": digest, "name": name, "path": path})

    def add_injection(self, inj: Injection) -> None:
        """Record a scenario played in a run (once)."""
        if (inj.run, inj.scenario) in self.injections:
            return
        self.injections[(inj.run, inj.scenario)] = inj
        self._append(
            {
                "type": "injection",
                "scenario": inj.scenario,
                "run": inj.run,
                "start": inj.start.isoformat(),
                "end": inj.end.isoformat(),
                "entities": sorted(inj.entities),
            }
        )

    def add_unit(self, unit: Unit) -> None:
        """Record a finished family replay (once)."""
        if (unit.run, unit.family) in self.units:
            return
        self.units[(unit.run, unit.family)] = unit
        self._append(
            {
                "type": "unit",
                "run": unit.run,
                "family": unit.family,
                "events": unit.events,
                "not_assessed": unit.not_assessed,
                "alerts": [
                    {
                        "id": a.id,
                        "signature": a.signature,
                        "time": a.time.isoformat(),
                        "alert": a.alert.to_dict(),
                    }
                    for a in unit.alerts
                ],
            }
        )

    def add_live(
        self, scenario: str, target: str, url: str, status: int | None, error: str, time: datetime
    ) -> None:
        """Record one request live mode sent."""
        rec = {"scenario": scenario, "target": target, "url": url, "status": status, "error": error,
               "time": time.isoformat()}  # fmt: skip
        self.live.append(rec)
        self._append({"type": "live", **rec})

    def alert(self, alert_id: str) -> AlertRecord:
        """The alert with this id (a unique prefix of it is enough); :class:`InputError` otherwise."""
        found = {a.id: a for u in self.units.values() for a in u.alerts if a.id.startswith(alert_id)}
        if len(found) != 1:
            what = "no alert" if not found else f"{len(found)} alerts"
            raise InputError(f"{self.path}: {what} with id {alert_id!r}")
        return next(iter(found.values()))

    def add_action(self, action: Action) -> bool:
        """Record a team's action on an alert; False (nothing written) when that team already did it."""
        if action.kind not in ACTIONS:
            raise InputError(f"unknown action {action.kind!r} (choose from {', '.join(ACTIONS)})")
        key = (action.alert, action.kind, action.team)
        if key in self.actions:
            return False
        self.actions[key] = action
        self._append(
            {
                "type": "action",
                "kind": action.kind,
                "alert": action.alert,
                "team": action.team,
                "time": action.time.isoformat(),
            }
        )
        return True

    def all_alerts(self) -> Iterator[AlertRecord]:
        """Every alert of every recorded unit."""
        for unit in self.units.values():
            yield from unit.alerts


def _lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the journal: {exc}") from None
