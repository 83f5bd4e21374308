"""Scoring on hand-built timelines whose answers are known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bastion.drills.journal import Action, AlertRecord
from bastion.drills.scenario import Scenario, parse_scenario
from bastion.drills.scoring import NOT_ASSESSED, POINTS, Stats, p90, score
from bastion.drills.telemetry import Injection
from bastion.findings import Alert, Severity

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def scenario(
    sid: str, detector: str, within: float = 600, techniques: tuple[str, ...] = ("T1110.001",)
) -> Scenario:
    return parse_scenario(
        {
            "version": 1,
            "id": sid,
            "name": sid,
            "techniques": list(techniques),
            "steps": [{"name": "s", "telemetry": [{"kind": "signin", "fields": {"user": "x"}}]}],
            "expect": [{"detector": detector, "within_s": within}],
        },
        f"{sid}.yml",
    )


def alert(
    aid: str, run: int, at: datetime, signature: str, entity: str, family: str = "identity"
) -> AlertRecord:
    a = Alert(
        detector=signature if family != "sigma" else "sigma",
        severity=Severity.HIGH,
        score=1.0,
        entity=entity,
        entity_kind="user",
        window_start=at,
        window_end=at,
        explanation="test",
        metadata={"rule_id": signature.split(".", 1)[1]} if family == "sigma" else {},
    )
    return AlertRecord(aid, run, family, signature, at, a)


def inj(sid: str, run: int, start: datetime, entities: set[str], length: float = 60) -> Injection:
    return Injection(sid, run, start, start + timedelta(seconds=length), frozenset(entities))


SC = {
    "bru": scenario("bru", "identity.brute-force", within=300),
    "spray": scenario("spray", "identity.password-spray", techniques=("T1110.003",)),
    "win": scenario("win", "sigma.abc", techniques=("T1059.001",)),
}


def test_ttd_tta_ttc_median_and_p90_across_runs_and_teams() -> None:
    injections = [inj("bru", r, T0 + timedelta(hours=r), {"alice", "203.0.113.1"}) for r in range(3)]
    # run 0 detected after 30 s, run 1 after 400 s (late: past within_s 300), run 2 missed
    alerts = [
        alert("a0", 0, T0 + timedelta(seconds=30), "identity.brute-force", "203.0.113.1|alice"),
        alert("a1", 1, T0 + timedelta(hours=1, seconds=400), "identity.brute-force", "alice"),
        alert("a2", 2, T0 + timedelta(hours=2, seconds=20), "identity.unfamiliar-sign-in", "alice"),
    ]
    actions = [
        Action("ack", "a0", "red", T0 + timedelta(seconds=100)),
        Action("ack", "a0", "green", T0 + timedelta(seconds=200)),
        Action("ack", "a1", "red", T0 + timedelta(hours=1, seconds=500)),
        Action("contain", "a0", "red", T0 + timedelta(seconds=900)),
        Action("resolve", "a0", "red", T0 + timedelta(seconds=1800)),
    ]
    board = score(SC, injections, alerts, actions, families=["identity"], teams=("red", "green"))
    outs = {o.run: o for o in board.outcomes}
    assert [outs[r].status for r in range(3)] == ["detected", "detected", "missed"]
    assert outs[0].ttd == 30 and outs[0].in_time
    assert outs[1].ttd == 400 and not outs[1].in_time
    assert outs[2].why == "raised only identity.unfamiliar-sign-in"
    assert (
        outs[0].tta == {"red": 100, "green": 200}
        and outs[0].ttc == {"red": 900}
        and outs[0].ttr == {"red": 1800}
    )
    summary = board.summary("bru")
    assert summary["status"] == "partly detected"
    assert summary["ttd"] == Stats(2, 215.0, 400.0)
    assert summary["tta"] == Stats(3, 200.0, 500.0)
    assert summary["ttc"] == Stats(1, 900.0, 900.0)
    # the unfamiliar-sign-in alert belongs to the scenario (its entity): not a false alert
    assert board.false_alerts_total == 0
    detect = POINTS["DETECT"]
    red = 2 * detect + POINTS["IN_TIME"] + 2 * POINTS["ACK"] + POINTS["CONTAIN"] + POINTS["RESOLVE"]
    green = 2 * detect + POINTS["IN_TIME"] + POINTS["ACK"]
    assert board.points == {"red team": POINTS["RED_MISS"], "red": red, "green": green}


def test_red_team_points_and_false_alerts() -> None:
    injections = [inj("spray", 0, T0, {"198.51.100.7"})]
    alerts = [
        alert("x1", 0, T0 + timedelta(hours=5), "identity.brute-force", "bob"),  # nothing to do with it
        alert("x2", 0, T0 - timedelta(hours=1), "identity.password-spray", "198.51.100.7"),  # too early
        alert("x3", 0, T0 + timedelta(hours=3), "identity.password-spray", "198.51.100.7"),  # far too late
    ]
    board = score(SC, injections, alerts, [], families=["identity"], baseline_hours=10)
    (o,) = board.outcomes
    assert o.status == "missed" and o.why == "no alert about its entities"
    assert board.false_alerts == {0: ["x1", "x2", "x3"]}
    assert board.false_alerts_per_hour() == pytest.approx(0.3)
    assert board.points == {"red team": POINTS["RED_MISS"], "blue": 3 * POINTS["FALSE_ALERT"]}


def test_not_assessed_is_never_detected_nor_missed() -> None:
    injections = [inj("win", 0, T0, {"pc-1"}), inj("bru", 0, T0, {"alice"})]
    # an alert that would match, but sigma is not part of the exercise
    alerts = [alert("s1", 0, T0 + timedelta(seconds=5), "sigma.abc", "pc-1", family="sigma")]
    board = score(
        SC, injections, alerts, [], families=["identity"], skipped={0: {"identity": "not installed"}}
    )
    status = {o.scenario: (o.status, o.why) for o in board.outcomes}
    assert status["win"] == (NOT_ASSESSED, "detector sigma is not part of the exercise")
    assert status["bru"] == (NOT_ASSESSED, "not installed")
    assert board.points == {"red team": 0, "blue": 0}
    rows = board.by_technique()
    assert rows["T1059.001"].status == NOT_ASSESSED and rows["T1059.001"].coverage is None


def test_clock_skew_is_corrected_and_never_gives_a_negative_time() -> None:
    injections = [inj("bru", 0, T0, {"alice"}), inj("bru", 1, T0, {"alice"})]
    alerts = [
        # the identity detector's clock runs 300 s fast: this alert really came 20 s after the start
        alert("k0", 0, T0 + timedelta(seconds=320), "identity.brute-force", "alice"),
        alert(
            "k1", 1, T0 + timedelta(seconds=250), "identity.brute-force", "alice"
        ),  # 50 s early after correction
    ]
    board = score(SC, injections, alerts, [], families=["identity"], clock_skew_s={"identity": 300})
    outs = {o.run: o for o in board.outcomes}
    assert outs[0].ttd == 20 and not outs[0].skewed
    assert outs[1].ttd == 0 and outs[1].skewed  # within the tolerance: counted, at 0
    tight = score(
        SC, injections, alerts, [], families=["identity"], clock_skew_s={"identity": 300}, skew_tolerance_s=10
    )
    assert {o.run: o.status for o in tight.outcomes} == {0: "detected", 1: "missed"}


def test_an_alert_or_action_seen_twice_is_scored_once() -> None:
    injections = [inj("bru", 0, T0, {"alice"})]
    a = alert("d1", 0, T0 + timedelta(seconds=10), "identity.brute-force", "alice")
    stray = alert("d2", 0, T0 + timedelta(hours=3), "identity.brute-force", "carol")
    acts = [Action("ack", "d1", "blue", T0 + timedelta(seconds=60))] * 2
    board = score(SC, injections, [a, a, stray, stray], acts, families=["identity"])
    assert board.false_alerts_total == 1
    assert (
        board.points["blue"] == POINTS["DETECT"] + POINTS["IN_TIME"] + POINTS["ACK"] + POINTS["FALSE_ALERT"]
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([5.0], 5.0), ([float(v) for v in range(1, 11)], 9.0), ([1.0, 100.0], 100.0)],
)
def test_p90_nearest_rank(values: list[float], expected: float | None) -> None:
    assert p90(values) == expected
