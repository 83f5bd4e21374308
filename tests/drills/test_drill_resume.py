"""An exercise interrupted halfway resumes where it stopped; nothing is scored twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.drills.exercise import load_exercise
from bastion.drills.journal import Action, Journal, Unit
from bastion.drills.replay import replay
from bastion.drills.report import scoreboard
from bastion.errors import InputError
from conftest import ExerciseFactory

SOME = ["ssh-brute-force-then-success", "win-certutil-decode", "web-sql-injection", "mfa-fatigue"]


class Interrupted(Exception):
    pass


def test_interrupted_exercise_resumes_without_scoring_twice(
    exercise_file: ExerciseFactory, tmp_path: Path
) -> None:
    ex = load_exercise(exercise_file(scenarios=SOME, detectors=["identity", "sigma"], runs=2))
    out = tmp_path / "out"
    done: list[Unit] = []

    def stop_after_two(unit: Unit) -> None:
        done.append(unit)
        if len(done) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        replay(ex, Journal.open(out), on_unit=stop_after_two)
    half = Journal.open(out)
    assert set(half.units) == {(0, "identity"), (0, "sigma")}
    # scoring the half-done journal: run 1 is in the journal with no finished unit yet
    replayed: list[Unit] = []
    full = replay(ex, Journal.open(out), on_unit=replayed.append)
    assert [(u.run, u.family) for u in replayed] == [(1, "identity"), (1, "sigma")]
    lines = [json.loads(x) for x in (out / "journal.jsonl").read_text().splitlines()]
    units = [(x["run"], x["family"]) for x in lines if x["type"] == "unit"]
    assert sorted(units) == sorted(set(units)) and len(units) == 4
    board = scoreboard(ex, full)
    assert len(board.outcomes) == 2 * len(SOME)
    assert {o.status for o in board.outcomes} == {"detected"}
    # replaying a finished exercise adds nothing
    again = replay(ex, Journal.open(out), on_unit=replayed.append)
    assert len(replayed) == 2 and (out / "journal.jsonl").read_text().count('"type": "unit"') == 4
    assert scoreboard(ex, again).points == board.points


def test_torn_last_line_is_ignored_and_actions_count_once(
    exercise_file: ExerciseFactory, tmp_path: Path
) -> None:
    ex = load_exercise(exercise_file(scenarios=["mfa-fatigue"], detectors=["identity"]))
    out = tmp_path / "out"
    journal = replay(ex, Journal.open(out))
    alert = next(journal.all_alerts())
    assert journal.add_action(Action("ack", alert.id, "blue", alert.time))
    assert not journal.add_action(Action("ack", alert.id, "blue", alert.time))
    with (out / "journal.jsonl").open("a") as fh:
        fh.write('{"type": "unit", "run": 0, "fam')  # a crash mid-write
    reopened = Journal.open(out)
    assert reopened.torn == 1 and len(reopened.actions) == 1
    board = scoreboard(ex, reopened)
    start = reopened.injections[(0, "mfa-fatigue")].start
    assert board.outcomes[0].tta == {"blue": pytest.approx((alert.time - start).total_seconds())}


def test_journal_of_another_exercise_is_refused(exercise_file: ExerciseFactory, tmp_path: Path) -> None:
    ex = load_exercise(exercise_file(scenarios=["mfa-fatigue"], detectors=["identity"]))
    journal = Journal.open(tmp_path / "out")
    journal.begin("0123456789abcdef", "another")
    with pytest.raises(InputError, match="journal of another exercise"):
        replay(ex, journal)


def test_the_same_alert_in_two_runs_has_two_ids() -> None:
    from datetime import UTC, datetime

    from bastion.drills.detectors import alert_id
    from bastion.findings import Alert, Severity

    at = datetime(2026, 12, 1, 19, tzinfo=UTC)
    alert = Alert(
        "scan", Severity.HIGH, 1.0, "deploy/settings.py", "path", at, at, "x", metadata={"rule_id": "r"}
    )
    assert alert_id(alert, 0) == alert_id(alert, 0) != alert_id(alert, 1)
