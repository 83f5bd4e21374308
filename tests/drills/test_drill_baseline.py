"""The baseline: real logs replayed time-shifted with names rewritten; generated telemetry seeded."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bastion.drills.baseline import app_records
from bastion.drills.exercise import load_exercise
from bastion.drills.journal import Journal
from bastion.drills.replay import replay, telemetry
from bastion.drills.report import scoreboard
from bastion.errors import InputError
from conftest import ExerciseFactory

APACHE = Path(__file__).parents[1] / "fixtures" / "drills" / "apache_2k.log"


def test_real_log_is_time_shifted_looped_and_rewritten(exercise_file: ExerciseFactory) -> None:
    ex = load_exercise(exercise_file(duration_h=72))
    rewrite = {"workers2.properties": "orders.properties"}
    records = app_records([APACHE], ex.start, ex.end, rewrite)
    times = [r.timestamp for r in records]
    assert times[0] == ex.start and all(t is not None and ex.start <= t < ex.end for t in times)
    assert len(records) > 2000  # 72 h is longer than the log's 38 h: it loops
    assert not any("workers2.properties" in r.raw for r in records)
    assert sum("orders.properties" in r.message for r in records) > 10


def test_exercise_on_a_real_service_log_detects_the_error_burst(
    exercise_file: ExerciseFactory, tmp_path: Path
) -> None:
    shutil.copy(APACHE, tmp_path / "apache.log")
    path = exercise_file(
        scenarios=["service-error-burst"], detectors=["watch"], baseline={"logs": ["apache.log"]}
    )
    doc = yaml.safe_load(path.read_text())
    org = yaml.safe_load((tmp_path / "org.yml").read_text())
    org["rewrite"] = {"workerEnv": "orders-worker"}
    (tmp_path / "org.yml").write_text(yaml.safe_dump(org))
    ex = load_exercise(path)
    tel = telemetry(ex, 0)
    lines = [i.payload for i in tel.items["watch"]]
    assert any("orders-worker" in getattr(r, "message", "") for r in lines)
    assert min(i.time for i in tel.training["watch"]) == ex.start - timedelta(hours=24)
    board = scoreboard(ex, replay(ex, Journal.open(tmp_path / "out")))
    (outcome,) = board.outcomes
    assert outcome.status == "detected", outcome.why
    assert board.false_alerts_total <= 2, doc  # a real log has its own oddities; few alerts on it


def test_log_without_time_stamps_is_refused(tmp_path: Path, exercise_file: ExerciseFactory) -> None:
    flat = tmp_path / "flat.log"
    flat.write_text("no time here\nnor here\n")
    ex = load_exercise(exercise_file())
    with pytest.raises(InputError, match=r"flat\.log: no time-stamped record to replay as baseline"):
        app_records([flat], ex.start, ex.end, {})


def test_generated_baseline_is_seeded(exercise_file: ExerciseFactory) -> None:
    ex = load_exercise(exercise_file(scenarios=["mfa-fatigue"], detectors=["identity", "sigma"]))
    a, b = telemetry(ex, 0, attacks=False), telemetry(ex, 0, attacks=False)
    assert [i.time for i in a.items["identity"]] == [i.time for i in b.items["identity"]]
    assert not a.injections and "watch" not in a.items
    # 40 users, 8 sign-ins a day between 07:30 and 18:30; the 12 h period from midnight holds 4.5 h of it
    expected = 40 * 8 * 4.5 / 11
    assert 0.8 * expected < len(a.items["identity"]) < 1.3 * expected
