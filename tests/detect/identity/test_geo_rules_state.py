"""Geo CSV lookups, the rules file schema, and the versioned state file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.detect.identity.baseline import Profile, State, load_state, save_state
from bastion.detect.identity.geo import GeoDB, distance_km, is_internal
from bastion.detect.identity.rules import DEFAULT_RULES, KINDS, load_rules
from bastion.errors import InputError

FIX = Path(__file__).parents[2] / "fixtures" / "identity"


def test_longest_prefix_wins_and_ipv6_and_internal() -> None:
    geo = GeoDB()
    geo.load_csv(FIX / "geo.csv")
    assert geo.networks == 6
    assert geo.lookup("203.0.113.10").city == "New York"
    assert geo.lookup("203.0.113.200").city == "Boston"  # the /25 inside the /24
    assert geo.lookup("2001:db8::1").country == "FR"
    vpn = geo.lookup("100.64.0.9")
    assert vpn.anonymizer and vpn.hosting and vpn.located
    assert geo.lookup("10.1.2.3").internal and not geo.lookup("10.1.2.3").located
    assert not geo.lookup("8.8.8.8").internal and geo.lookup("not-an-ip").country == ""
    assert geo.lookup("203.0.113.10") is geo.lookup("203.0.113.10")  # cached


def test_only_rfc1918_rfc4193_loopback_are_internal() -> None:
    assert all(
        is_internal(ip) for ip in ("10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "fd00::1", "::1")
    )
    assert not any(is_internal(ip) for ip in ("100.64.0.1", "172.32.0.1", "8.8.8.8", "2001:db8::1", "x"))


def test_distance() -> None:
    assert distance_km(40.71, -74.01, 51.51, -0.13) == pytest.approx(5570, rel=0.01)  # New York-London


def test_corrupt_geo_csv_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "geo.csv"
    bad.write_text("network,country,lat,lon\nnot-a-network,US,1,2\n")
    with pytest.raises(InputError, match=r"geo\.csv:2: bad geo row"):
        GeoDB().load_csv(bad)
    bad.write_text("cidr,where\n1.0.0.0/8,US\n")
    with pytest.raises(InputError, match="lacks column"):
        GeoDB().load_csv(bad)
    bad.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(InputError, match="cannot read geo CSV"):
        GeoDB().load_csv(bad)


def test_rules_file_has_every_kind_with_attack_ids() -> None:
    rules = load_rules()
    assert list(rules.detections) == list(KINDS)
    assert rules.detections["password-spray"].attack == ["T1110.003"]
    assert rules.detections["mfa-fatigue"].attack == ["T1621"]
    with pytest.raises(InputError, match="lacks param"):
        rules.detections["brute-force"].param("nope")


def test_bad_rules_files(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(DEFAULT_RULES.read_text().replace("T1110.003", "spray"))
    with pytest.raises(InputError, match="not ATT&CK technique ids"):
        load_rules(path)
    path.write_text("version: 1\ndetections: {}\n")
    with pytest.raises(InputError, match="missing kinds"):
        load_rules(path)
    path.write_text("version: [1\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_rules(path)
    with pytest.raises(InputError, match="cannot read rules"):
        load_rules(tmp_path / "absent.yml")


def test_state_round_trip_and_bad_files(tmp_path: Path) -> None:
    p = Profile()
    p.learn(1000.0, {"asn": "AS1", "country": "US", "device": "d", "app": "a", "hour": "9"})
    p.remember_ip("203.0.113.1")
    state = State(profiles={"alice": p}, org_countries={"US": 1})
    path = tmp_path / "state.json"
    save_state(state, path)
    back = load_state(path)
    assert back.profiles["alice"] == p and back.org_countries == {"US": 1}
    assert load_state(tmp_path / "none.json").profiles == {}
    path.write_text('{"kind": "bastion.detect.identity.state", "version": 99}')
    with pytest.raises(InputError, match="state version 99"):
        load_state(path)
    path.write_text('{"kind": "bastion.detect.identity.state", "version": 1, "profiles": {"a": {}}}')
    with pytest.raises(InputError, match="corrupt identity state"):
        load_state(path)
    path.write_text("[1, 2")
    with pytest.raises(InputError, match="not a readable identity state"):
        load_state(path)
    path.write_text("{}")
    with pytest.raises(InputError, match="not a bastion identity state"):
        load_state(path)


def test_profile_decay_forgets_old_habits_not_idle_time() -> None:
    p = Profile()
    for _ in range(5):
        p.learn(0.0, {"asn": "AS1", "country": "US", "device": "", "app": "", "hour": "9"})
    p.decay(86400.0 * 200, 30)
    assert p.familiar("asn", "AS1") and p.familiar("device", "")  # a long leave forgets nothing
    for day in range(201, 320):
        p.decay(86400.0 * day, 30)
        p.learn(86400.0 * day, {"asn": "AS2", "country": "US", "device": "", "app": "", "hour": "9"})
    assert p.familiar("asn", "AS2") and not p.familiar("asn", "AS1") and not p.familiar("asn", "AS9")


def test_profile_weight_rebases_without_changing_what_is_familiar() -> None:
    p = Profile()
    p.learn(0.0, {"asn": "AS1", "country": "US", "device": "", "app": "", "hour": "9"})
    for day in range(1, 2200, 30):  # six years of monthly sign-ins: the weight passes 2**64 and rebases
        p.decay(86400.0 * day, 30)
        p.learn(86400.0 * day, {"asn": "AS2", "country": "US", "device": "", "app": "", "hour": "9"})
    assert p.weight < 2.0**64 and p.familiar("asn", "AS2") and not p.familiar("asn", "AS1")
    assert p.count("country", "US") == pytest.approx(p.to_dict()["counts"]["country"]["US"])
    assert 1.0 < p.count("country", "US") < 3.0  # monthly sign-ins at a 30-day half-life: about 2
