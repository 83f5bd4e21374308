"""Impossible travel on the way back: a one-off sign-in abroad followed, too soon, by the account at
home is the classic proof that one of the two was not the person; flipping between two places the
account uses every day (split tunnel, roaming) is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion.detect.identity.engine import Engine
from bastion.detect.identity.events import SignIn
from bastion.detect.identity.geo import GeoDB
from bastion.findings import Alert, Severity

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOME, HOME2, MADRID, LAGOS = "203.0.113.10", "203.0.113.11", "198.51.100.7", "192.0.2.9"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    geo_csv = tmp_path / "geo.csv"
    geo_csv.write_text(
        "network,country,city,lat,lon,asn,as_org,is_anonymizer,is_hosting\n"
        "203.0.113.0/24,US,New York,40.71,-74.01,AS64500,NY broadband,0,0\n"
        "198.51.100.0/24,ES,Madrid,40.42,-3.70,AS64502,ES broadband,0,0\n"
        "192.0.2.0/24,NG,Lagos,6.52,3.38,AS64503,NG broadband,0,0\n"
    )
    geo = GeoDB()
    geo.load_csv(geo_csv)
    return Engine(geo)


def at(day: float, utc_hour: float, ip: str) -> SignIn:
    return SignIn(T0 + timedelta(days=day, hours=utc_hour), "ann@ex.com", ip, True, app="google workspace")


def alerts_of(engine: Engine, events: list[SignIn]) -> list[Alert]:
    return list(engine.run(sorted(events, key=lambda e: e.time)))


def test_home_soon_after_a_one_off_sign_in_abroad_is_impossible_travel(engine: Engine) -> None:
    # two weeks at home; three days later Lagos at 14:00 local (a trip as far as it shows: a note);
    # then home again two hours later: 8,400 km in two hours
    home = [at(d, h, HOME) for d in range(14) for h in (14, 19)]
    alerts = alerts_of(engine, [*home, at(16, 13, LAGOS), at(16, 15, HOME2)])
    assert [(a.metadata["kind"], a.severity) for a in alerts] == [
        ("new-country", Severity.LOW),
        ("impossible-travel", Severity.HIGH),
    ]
    assert alerts[1].metadata["ips"] == [LAGOS, HOME2]
    assert "faster than an airliner" in alerts[1].explanation


def test_flipping_between_two_habitual_places_is_not_travel(engine: Engine) -> None:
    # a split tunnel: New York and Madrid egress half an hour apart, every day for two weeks
    daily = [x for d in range(14) for x in (at(d, 14, HOME), at(d, 14.5, MADRID))]
    first = [a.metadata["kind"] for a in alerts_of(engine, daily)]
    assert first[0] == "impossible-travel"  # until both places are habits, a flip is travel
    assert alerts_of(engine, [at(20, 14, HOME), at(20, 14.5, MADRID), at(20, 15, HOME)]) == []
