"""What automatic response would have done during a war-game replay, and how fast.

Reads an exercise output directory of ``bastion drill run`` through the drills package's public API
(read-only: :func:`bastion.drills.report.session` and :func:`bastion.drills.scoring.score`), feeds
each run's alerts in detection order to a :class:`Responder` whose clock is the replay's clock (so
allow-lists, approval, per-playbook limits and the breaker act as they would have), against a
sandbox: commands are recorded and answered, HTTP calls answered locally, files written to a
temporary directory; nothing outside is touched. Each applied action becomes a ``contain`` by the
team ``bastion-respond`` at the alert's time plus the measured time to handle it (plus an optional
fixed execution latency, e.g. the real ``nft`` p99 of bench/respond), and the exercise is scored
again: time to contain (TTC) with and without automatic response, per scenario.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bastion.drills.journal import Action as DrillAction
from bastion.drills.report import session
from bastion.drills.scoring import Stats, score
from bastion.respond.actions.base import CommandResult
from bastion.respond.actions.registry import ActionContext
from bastion.respond.engine import Responder
from bastion.respond.ledger import Ledger, Status
from bastion.respond.playbook import Mode, Playbook, Safeguards

__all__ = ["TEAM", "DrillComparison", "SandboxRunner", "ScenarioRow", "compare"]

TEAM = "bastion-respond"
"""The team name automatic containment is scored under."""


@dataclass
class SandboxRunner:
    """Answers every command as a healthy host would, and records it: nothing is run."""

    calls: list[tuple[str, ...]] = field(default_factory=list)

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        """``getent shadow`` finds an unlocked user; firewall checks find no block; the rest succeeds."""
        self.calls.append((*argv, *(["<stdin>"] if stdin is not None else [])))
        if list(argv[:2]) == ["getent", "shadow"] and len(argv) > 2:
            return CommandResult(0, f"{argv[2]}:$6$sandbox:19000:0:99999:7:::\n")
        if list(argv[1:3]) == ["get", "element"] or "-C" in argv:
            return CommandResult(1, "", "absent")
        return CommandResult(0)


@dataclass
class _ReplayClock:
    """The responder's clock: the replayed alert's time."""

    at: datetime | None = None

    def __call__(self) -> datetime:
        if self.at is None:
            raise ValueError("replay clock read before the first alert")
        return self.at


def _answer(request: httpx.Request) -> httpx.Response:
    if request.method == "GET":
        return httpx.Response(200, json={"id": "sandbox", "accountEnabled": True})
    return httpx.Response(204 if request.method in ("PATCH", "DELETE") else 200, json={})


@dataclass(frozen=True)
class ScenarioRow:
    """One scenario across the exercise's runs."""

    scenario: str
    runs: int
    detected: int
    ttd: Stats
    ttc_teams: Stats
    """Time to contain by the human teams (journaled actions) alone."""
    ttc_auto: Stats
    """Time to contain by automatic response alone."""
    ttc_with: Stats
    """Time to contain with automatic response beside the teams (the earlier of the two, per run)."""


@dataclass
class DrillComparison:
    """The comparison over one exercise."""

    exercise: str
    rows: list[ScenarioRow]
    statuses: Counter[str]
    """Outcomes of every action the playbooks took (applied, pending, refused, failed, planned)."""
    reasons: Counter[str]
    """Why actions were not applied (refused, failed), with how often."""
    on_false_alerts: int
    """Actions applied for alerts that belong to no scenario (collateral damage in real life)."""
    handle_ms: list[float]
    """Measured time to handle each alert that led to an applied action, in ms."""
    extra_ms: float

    def latency(self) -> dict[str, float | None]:
        """p50 and p99 (nearest rank) of :attr:`handle_ms`."""
        ms = sorted(self.handle_ms)
        if not ms:
            return {"p50_ms": None, "p99_ms": None}
        return {"p50_ms": statistics.median(ms), "p99_ms": ms[min(len(ms) - 1, -(-99 * len(ms) // 100) - 1)]}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "exercise": self.exercise,
            "team": TEAM,
            "scenarios": [
                {"id": r.scenario, "runs": r.runs, "detected": r.detected, "ttd": r.ttd.to_dict(),
                 "ttc_teams": r.ttc_teams.to_dict(), "ttc_auto": r.ttc_auto.to_dict(),
                 "ttc_with": r.ttc_with.to_dict()}
                for r in self.rows
            ],
            "actions": dict(self.statuses),
            "not_applied": dict(self.reasons),
            "applied_on_false_alerts": self.on_false_alerts,
            "handle_latency": self.latency(),
            "extra_latency_ms": self.extra_ms,
        }  # fmt: skip


def _promoted(books: Sequence[Playbook], promote: bool) -> list[Playbook]:
    return [b.model_copy(update={"mode": Mode.ACTIVE}) if promote else b for b in books]


def compare(
    exercise_dir: Path,
    playbooks: Sequence[Playbook],
    safeguards: Safeguards,
    *,
    promote: bool = False,
    extra_ms: float = 0.0,
) -> DrillComparison:
    """Replay the exercise's alerts through the playbooks in a sandbox and score TTC both ways.
    ``promote`` treats dry-run playbooks as active (what they would do once promoted)."""
    ex, journal = session(exercise_dir)
    books = _promoted(playbooks, promote)
    skew = ex.clock_skew_s
    by_run: dict[int, list[Any]] = {}
    for record in journal.all_alerts():
        by_run.setdefault(record.run, []).append(record)
    statuses: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    contained: dict[str, DrillAction] = {}
    handle_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bastion-drill-respond-") as tmp:
        http = httpx.Client(transport=httpx.MockTransport(_answer))
        for run in sorted(by_run):
            clock = _ReplayClock()
            ledger = Ledger(":memory:")  # a fresh ledger per run: runs replay the same hours again
            ctx = ActionContext(runner=SandboxRunner(), http=http, env={}, base_dir=Path(tmp) / str(run))
            responder = Responder(
                books, safeguards, ledger, ctx, clock=clock, requested_by=TEAM, on_page=None
            )
            for record in sorted(by_run[run], key=lambda r: (r.time, r.id)):
                at = record.time - timedelta(seconds=skew.get(record.family, 0.0))
                clock.at = at
                responder.expire()
                started = time.perf_counter()
                outcomes = responder.handle(record.alert)
                spent_ms = (time.perf_counter() - started) * 1000.0
                applied = [o for o in outcomes if o.status is Status.APPLIED]
                for o in outcomes:
                    statuses[o.status.value] += 1
                    if o.status in (Status.REFUSED, Status.FAILED):
                        reasons[f"{o.playbook}/{o.action}: {o.reason}"] += 1
                if applied:
                    handle_ms.append(spent_ms)
                    when = at + timedelta(milliseconds=spent_ms + extra_ms)
                    contained[record.id] = DrillAction("contain", record.id, TEAM, when)
            ledger.close()
        http.close()
    return _scored(ex, journal, contained, statuses, reasons, handle_ms, extra_ms)


def _scored(
    ex: Any,
    journal: Any,
    contained: dict[str, DrillAction],
    statuses: Counter[str],
    reasons: Counter[str],
    handle_ms: list[float],
    extra_ms: float,
) -> DrillComparison:
    skipped: dict[int, dict[str, str]] = {}
    for unit in journal.units.values():
        skipped.setdefault(unit.run, {}).update(unit.not_assessed)
    board = score(
        {s.id: s for s in ex.scenarios},
        journal.injections.values(),
        journal.all_alerts(),
        [*journal.actions.values(), *contained.values()],
        families=ex.detectors,
        skipped=skipped,
        teams=(*ex.teams, TEAM),
        clock_skew_s=ex.clock_skew_s,
        skew_tolerance_s=ex.skew_tolerance_s,
        baseline_hours=ex.duration_h,
    )
    false_ids = {aid for ids in board.false_alerts.values() for aid in ids}
    rows = []
    for scenario in ex.scenarios:
        outs = [o for o in board.outcomes if o.scenario == scenario.id]
        teams, auto, both = [], [], []
        for o in outs:
            human = [v for team, v in o.ttc.items() if team != TEAM]
            teams += human
            if TEAM in o.ttc:
                auto.append(o.ttc[TEAM])
            best = [*human, *([o.ttc[TEAM]] if TEAM in o.ttc else [])]
            if best:
                both.append(min(best))
        detected = [o for o in outs if o.ttd is not None]
        rows.append(
            ScenarioRow(
                scenario.id, len(outs), len(detected),
                Stats.of([o.ttd for o in detected if o.ttd is not None]),
                Stats.of(teams), Stats.of(auto), Stats.of(both),
            )
        )  # fmt: skip
    return DrillComparison(
        journal.name,
        rows,
        statuses,
        reasons,
        sum(1 for aid in contained if aid in false_ids),
        handle_ms,
        extra_ms,
    )
