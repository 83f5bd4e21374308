"""Logs that name no device (Google Workspace's login audit): the device is unknown, never "the same
device", so unfamiliar scores are a share of what the log carries and a new country is decided on the
rest of the evidence; a trip stays a note, an intruder is an alert."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion.detect.identity.baseline import Profile, State, load_state, save_state
from bastion.detect.identity.cloud import from_google
from bastion.detect.identity.engine import Engine
from bastion.detect.identity.events import SignIn
from bastion.detect.identity.geo import GeoDB
from bastion.detect.identity.render import describe_profile
from bastion.findings import Alert, Severity

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOME, CLOUD, MADRID, MOSCOW = "203.0.113.10", "203.0.113.200", "198.51.100.7", "192.0.2.9"
GOOGLE = "google workspace"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    geo_csv = tmp_path / "geo.csv"
    geo_csv.write_text(
        "network,country,city,lat,lon,asn,as_org,is_anonymizer,is_hosting\n"
        "203.0.113.0/25,US,New York,40.71,-74.01,AS64500,NY broadband,0,0\n"
        "203.0.113.128/25,US,New York,40.71,-74.01,AS64510,NY cloud,0,1\n"
        "198.51.100.0/24,ES,Madrid,40.42,-3.70,AS64502,ES broadband,0,0\n"
        "192.0.2.0/24,RU,Moscow,55.76,37.62,AS64503,RU broadband,0,0\n"
    )
    geo = GeoDB()
    geo.load_csv(geo_csv)
    return Engine(geo)


def at(day: float, utc_hour: float, ip: str, device: str = "", user: str = "ann@ex.com") -> SignIn:
    return SignIn(T0 + timedelta(days=day, hours=utc_hour), user, ip, True, app=GOOGLE, device=device)


def habit(device: str = "") -> list[SignIn]:
    """Fourteen days at home in New York, 09:00 and 14:00 local (14:00 and 19:00 UTC)."""
    return [at(d, h, HOME, device) for d in range(14) for h in (14, 19)]


def alerts_of(engine: Engine, events: list[SignIn]) -> list[Alert]:
    return list(engine.run(sorted(events, key=lambda e: e.time)))


def medium(alerts: list[Alert]) -> list[str]:
    return [str(a.metadata["kind"]) for a in alerts if a.severity >= Severity.MEDIUM]


def test_unfamiliar_score_is_a_share_of_what_the_log_carries(engine: Engine) -> None:
    # a cloud network in the home city at 03:00 local: nothing else to go on without a device
    alerts = alerts_of(engine, [*habit(), at(20, 8, CLOUD)])
    assert medium(alerts) == ["unfamiliar-sign-in"]
    assert alerts[0].score == pytest.approx(0.857, abs=0.001)
    assert "names no device" in alerts[0].explanation


def test_the_same_sign_in_on_a_familiar_named_device_stays_a_note(engine: Engine) -> None:
    alerts = alerts_of(engine, [*habit("laptop-1"), at(20, 8, CLOUD, "laptop-1")])
    assert medium(alerts) == [] and [a.metadata["kind"] for a in alerts] == ["unfamiliar-sign-in"]
    assert alerts[0].score == pytest.approx(0.6) and alerts[0].severity is Severity.LOW


def test_a_holiday_after_a_flight_day_is_a_note(engine: Engine) -> None:
    # last sign-in at home day 13, 19:00 UTC; Madrid day 15 at 10:00 local (09:00 UTC, 09:00 solar)
    alerts = alerts_of(engine, [*habit(), at(15, 9, MADRID), at(15, 13, MADRID), at(16, 9, MADRID)])
    assert medium(alerts) == []
    (note,) = alerts
    assert note.metadata["kind"] == "new-country" and note.severity is Severity.LOW
    assert "nothing else is unusual" in note.explanation


def test_a_new_country_too_soon_after_home_is_an_alert(engine: Engine) -> None:
    # 7,500 km (8.3 h of flight) ten hours after the last sign-in at home, at 08:00 local there
    alerts = alerts_of(engine, [*habit(), at(14, 5, MOSCOW)])
    assert medium(alerts) == ["new-country"]
    assert "too soon for a trip" in alerts[0].explanation


def test_a_new_country_at_night_there_is_an_alert(engine: Engine) -> None:
    # days after the last sign-in at home (time enough for a trip) but at 03:00 local in Moscow
    alerts = alerts_of(engine, [*habit(), at(17, 0, MOSCOW)])
    assert medium(alerts) == ["new-country"]
    assert "hour this account never signs in near" in alerts[0].explanation


def test_an_hour_next_to_a_habit_is_not_odd(engine: Engine) -> None:
    # 08:00 local in Moscow (05:00 UTC), days later: one hour from the 09:00 habit
    alerts = alerts_of(engine, [*habit(), at(17, 5, MOSCOW)])
    assert medium(alerts) == [] and [a.metadata["kind"] for a in alerts] == ["new-country"]


def test_a_trip_keeps_its_local_rhythm(engine: Engine) -> None:
    # days in Madrid at 09:00 and 14:00 local: the hours are familiar, so no unfamiliar-sign-in
    trip = [at(d, h, MADRID) for d in range(15, 20) for h in (9, 14)]
    alerts = alerts_of(engine, [*habit(), *trip])
    assert [a.metadata["kind"] for a in alerts] == ["new-country"]
    profile = engine.state.profiles["ann@ex.com"]
    assert profile.offset == 0 and profile.familiar("hour", "9")


def _google(suspicious: bool, events_as_object: bool = False) -> dict[str, object]:
    event = {
        "type": "login",
        "name": "login_success",
        "parameters": [
            {"name": "login_type", "value": "google_password"},
            {"name": "is_suspicious", "boolValue": suspicious},
        ],
    }
    return {
        "kind": "admin#reports#activity",
        "id": {"time": "2026-03-20T19:00:00.000Z", "applicationName": "login"},
        "actor": {"email": "Ann@ex.com"},
        "ipAddress": HOME,
        "networkInfo": {"ipAsn": [64500], "regionCode": "us", "subdivisionCode": "US-NY"},
        "events": event if events_as_object else [event],
    }


def test_google_network_info_and_suspicious_flag_are_read() -> None:
    plain, flagged = from_google(_google(False)), from_google(_google(True, events_as_object=True))
    assert isinstance(plain, SignIn) and isinstance(flagged, SignIn)
    assert (plain.asn, plain.country, plain.user, plain.flagged) == ("AS64500", "US", "ann@ex.com", "")
    assert flagged.flagged == "Google marked it suspicious (is_suspicious)" and flagged.device == ""


def test_a_sign_in_google_marks_suspicious_is_an_alert(engine: Engine) -> None:
    flagged = from_google(_google(True))
    assert isinstance(flagged, SignIn)
    alerts = alerts_of(engine, [*habit(), flagged])
    assert medium(alerts) == ["unfamiliar-sign-in"]
    assert "Google marked it suspicious" in alerts[0].explanation


def test_the_local_offset_survives_the_state_file(tmp_path: Path) -> None:
    state = State(profiles={"ann@ex.com": Profile(n=1, offset=-5), "bob": Profile(n=1)})
    save_state(state, tmp_path / "s.json")
    loaded = load_state(tmp_path / "s.json")
    assert loaded.profiles["ann@ex.com"].offset == -5 and loaded.profiles["bob"].offset is None
    assert "Usual hours (UTC)" in "\n".join(describe_profile("bob", loaded.profiles["bob"], 10))
    ann = "\n".join(describe_profile("ann@ex.com", loaded.profiles["ann@ex.com"], 10))
    assert "last seen at UTC-5" in ann


def test_hours_learned_in_utc_move_to_local_time_once(engine: Engine, tmp_path: Path) -> None:
    """A state written before hours were local (no offset) holds UTC hours: at the identity's first
    located sign-in they move to local time, and a later trip moves nothing."""
    old = Profile(n=20, first=T0.timestamp(), last=T0.timestamp(), day=int(T0.timestamp() // 86400))
    old.learn(T0.timestamp(), {"asn": "AS64500", "country": "US", "device": "", "app": GOOGLE, "hour": "14"})
    data = old.to_dict()
    del data["offset"]
    path = tmp_path / "old.json"
    path.write_text(
        '{"version": 1, "kind": "bastion.detect.identity.state", "last_time": null, "org_countries": {}, '
        f'"profiles": {{"ann@ex.com": {json.dumps(data)}}}}}'
    )
    engine.state = load_state(path)
    assert engine.state.profiles["ann@ex.com"].offset is None
    assert medium(alerts_of(engine, [at(1, 14, HOME)])) == []
    profile = engine.state.profiles["ann@ex.com"]
    assert profile.offset == -5 and profile.familiar("hour", "9") and not profile.familiar("hour", "14")
    alerts_of(engine, [at(3, 9, MADRID)])
    assert profile.offset == 0 and profile.familiar("hour", "9")


def _weekdays(device: str = "") -> list[SignIn]:
    """Three weeks at home in New York on weekdays only, 09:00 and 14:00 local (T0 is a Monday)."""
    return [at(d, h, HOME, device) for d in range(21) if d % 7 < 5 for h in (14, 19)]


def test_a_new_country_on_a_day_the_account_never_uses_is_an_alert(engine: Engine) -> None:
    # Saturday 10:00 in Madrid, three days after the last sign-in at home: time for a trip, a usual hour
    alerts = alerts_of(engine, [*_weekdays(), at(26, 9, MADRID)])
    assert medium(alerts) == ["new-country"]
    assert "it came on a Saturday, a day that holds 0% of this account's sign-ins" in alerts[0].explanation


def test_the_same_trip_on_a_weekday_stays_a_note(engine: Engine) -> None:
    # Thursday 10:00 in Madrid, three days after the last sign-in at home
    alerts = alerts_of(engine, [*_weekdays(), at(25, 9, MADRID)])
    assert medium(alerts) == [] and [a.metadata["kind"] for a in alerts] == ["new-country"]


def test_a_named_device_on_a_rare_day_stays_a_note(engine: Engine) -> None:
    alerts = alerts_of(engine, [*_weekdays("laptop-1"), at(26, 9, MADRID, "laptop-1")])
    assert medium(alerts) == [] and [a.metadata["kind"] for a in alerts] == ["new-country"]


def test_days_are_judged_only_once_learned() -> None:
    # a state written before days were learned: no share, so no verdict from it
    old = Profile(n=20, total=20.0)
    old.counts["country"]["US"] = 20.0
    data = old.to_dict()
    del data["counts"]["weekday"]
    loaded = Profile.from_dict(data)
    assert loaded.day_share("Saturday") is None
    loaded.counts["weekday"] = {"Monday": 18.0}
    assert loaded.day_share("Saturday") == 0.0 and loaded.day_share("Monday") == 1.0


def test_explain_gives_the_days_of_the_week(engine: Engine) -> None:
    alerts_of(engine, _weekdays())
    text = "\n".join(describe_profile("ann@ex.com", engine.state.profiles["ann@ex.com"], 10))
    assert "Days of the week (local time, share of sign-ins): Monday 19%, Tuesday" in text
    assert "Saturday" not in text
