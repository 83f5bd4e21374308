"""The baseline: real service and sign-in logs replayed time-shifted with names rewritten; generated
telemetry seeded."""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bastion.detect.identity.events import SignIn, Skips
from bastion.detect.identity.read import read_events
from bastion.drills.baseline import app_records, signin_items
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


def _entra_export(path: Path, people: int, days: int) -> None:
    """An Entra ID sign-in export (JSON lines, the Graph API's fields) of ``people`` working from home:
    each from one address and laptop, 08:00-18:00, now and then a mistyped password first."""
    rng = random.Random(7)
    rows = []
    for d in range(days):
        for i in range(people):
            for _ in range(rng.randint(2, 5)):
                t = datetime(2026, 11, 2, 8, tzinfo=UTC) + timedelta(days=d, minutes=rng.uniform(0, 600))
                base = {
                    "userPrincipalName": f"person{i}@corp.example",
                    "ipAddress": f"192.0.2.{i + 1}",
                    "appDisplayName": "Office 365",
                    "deviceDetail": {"deviceId": f"laptop-{i}", "operatingSystem": "Windows10"},
                    "location": {"city": "London", "countryOrRegion": "GB"},
                }
                if rng.random() < 0.05:
                    stamp_ = (t - timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
                    rows.append({**base, "createdDateTime": stamp_, "status": {"errorCode": 50126}})
                rows.append(
                    {
                        **base,
                        "createdDateTime": t.isoformat().replace("+00:00", "Z"),
                        "status": {"errorCode": 0},
                    }
                )
    rows.sort(key=lambda r: r["createdDateTime"])
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_real_signins_are_time_shifted_looped_and_rewritten(exercise_file: ExerciseFactory) -> None:
    ex = load_exercise(exercise_file(duration_h=72))
    auth = Path(__file__).parents[1] / "fixtures" / "identity" / "logs" / "auth.log"
    items = signin_items([auth], ex.start, ex.end, {"frank": "u01@drill.example"})
    times = [i.time for i in items]
    assert times[0] == ex.start and times == sorted(times) and all(ex.start <= t < ex.end for t in times)
    users = {i.payload.user for i in items if isinstance(i.payload, SignIn)}
    assert "u01@drill.example" in users and "frank" not in users
    in_file = list(read_events([auth], Skips()))
    assert len(items) > 2 * len(in_file)  # 72 h is longer than the log's span: it loops
    assert all(isinstance(i.payload, SignIn) and i.payload.time == i.time for i in items)


def test_exercise_on_real_signins_detects_the_attacks_and_nothing_else(
    exercise_file: ExerciseFactory, tmp_path: Path
) -> None:
    _entra_export(tmp_path / "signins.jsonl", 40, 5)
    path = exercise_file(
        scenarios=["ssh-brute-force-low-and-slow", "mfa-fatigue", "impossible-travel"],
        detectors=["identity"],
        duration_h=24,
        baseline={"signins": ["signins.jsonl"]},
    )
    org = yaml.safe_load((tmp_path / "org.yml").read_text())
    org["rewrite"] = {f"person{i}@corp.example": f"u{i:02d}@drill.example" for i in range(40)}
    (tmp_path / "org.yml").write_text(yaml.safe_dump(org))
    ex = load_exercise(path)
    tel = telemetry(ex, 0, attacks=False)
    users = {i.payload.user for i in tel.items["identity"] if isinstance(i.payload, SignIn)}
    assert users <= set(org["users"]) and len(users) == 40  # the real accounts, renamed
    assert min(i.time for i in tel.training["identity"]) == ex.start - timedelta(hours=72)
    board = scoreboard(ex, replay(ex, Journal.open(tmp_path / "out")))
    assert {o.scenario: o.status for o in board.outcomes} == {
        "ssh-brute-force-low-and-slow": "detected",
        "mfa-fatigue": "detected",
        "impossible-travel": "detected",
    }
    assert board.false_alerts_total == 0


def test_signin_log_without_sign_ins_is_refused(tmp_path: Path, exercise_file: ExerciseFactory) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"not": "a sign-in"}\n')
    ex = load_exercise(exercise_file())
    with pytest.raises(InputError, match=r"empty\.jsonl: no sign-in to replay as baseline"):
        signin_items([empty], ex.start, ex.end, {})
