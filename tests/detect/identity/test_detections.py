"""Detections on event sequences, attacks and the look-alikes of normal life side by side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion.detect.identity.engine import Engine
from bastion.detect.identity.events import BAD_PASSWORD, MFA_DENIED, UNKNOWN_USER, SignIn
from bastion.detect.identity.geo import GeoDB
from bastion.detect.identity.rules import DEFAULT_RULES, load_rules
from bastion.errors import InputError
from bastion.findings import Alert, Severity

FIX = Path(__file__).parents[2] / "fixtures" / "identity"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NY, BOSTON, BERLIN, SYDNEY, VPN = "203.0.113.10", "203.0.113.200", "198.51.100.7", "192.0.2.9", "100.64.0.5"


def ev(minutes: float, user: str, ip: str, ok: bool = True, reason: str = "", **kw: object) -> SignIn:
    """One sign-in ``minutes`` after T0."""
    return SignIn(T0 + timedelta(minutes=minutes), user, ip, ok, "" if ok else (reason or BAD_PASSWORD), **kw)  # type: ignore[arg-type]


def fresh() -> Engine:
    """An engine with the fixture geo data and nothing learned."""
    geo = GeoDB()
    geo.load_csv(FIX / "geo.csv")
    return Engine(geo)


@pytest.fixture
def engine() -> Engine:
    return fresh()


def run(engine: Engine, events: list[SignIn]) -> list[Alert]:
    return list(engine.run(sorted(events, key=lambda e: e.time)))


def kinds(alerts: list[Alert], floor: Severity = Severity.LOW) -> list[str]:
    return [str(a.metadata["kind"]) for a in alerts if a.severity >= floor]


def habit(user: str, days: int = 14, ip: str = NY, device: str = "laptop-1") -> list[SignIn]:
    """A working habit: two sign-ins a weekday-like day from one place and device."""
    return [
        ev(d * 1440 + h * 60, user, ip, device=device, app="Office 365") for d in range(days) for h in (1, 6)
    ]


def test_password_spray_one_source_many_accounts(engine: Engine) -> None:
    attack = [ev(i, f"user{i}@example.com", SYDNEY, False) for i in range(12)]
    alerts = run(engine, attack)
    assert kinds(alerts) == ["password-spray"]
    spray = alerts[0]
    assert spray.techniques == ("T1110.003",) and spray.entity == SYDNEY and spray.severity is Severity.HIGH
    assert len(spray.metadata["users"]) == 10 and "10 accounts" in spray.explanation
    assert spray.window_start == T0 and spray.window_end == T0 + timedelta(minutes=9)


def test_brute_force_one_account_and_forgotten_password_is_quiet(engine: Engine) -> None:
    forgot = [ev(i, "ann", NY, False) for i in range(4)] + [ev(5, "ann", NY)]
    assert run(engine, forgot) == []
    attack = [ev(100 + i / 2, "bob", SYDNEY, False) for i in range(10)]
    alerts = run(engine, attack)
    assert kinds(alerts) == ["brute-force"] and alerts[0].techniques == ("T1110.001",)


def test_service_account_with_a_stale_password_is_quiet(engine: Engine) -> None:
    stale = [ev(i * 5, "svc-backup", "10.0.0.5", False) for i in range(36)]  # every 5 min for 3 hours
    assert kinds(run(engine, stale)) == []


def test_low_and_slow_guessing_from_a_stranger(engine: Engine) -> None:
    slow = [*habit("tom"), *(ev(15 * 1440 + 25 * i, "tom", SYDNEY, False, app="sshd") for i in range(8))]
    alerts = run(engine, slow)  # one guess every 25 minutes: never two in the fast ten-minute window
    assert kinds(alerts) == ["brute-force"] and alerts[0].severity is Severity.MEDIUM
    assert alerts[0].window_end == T0 + timedelta(minutes=15 * 1440 + 125)  # the sixth guess
    assert "6 failed sign-ins to tom within 2.1 hours from 192.0.2.9" in alerts[0].explanation
    assert "never used" in alerts[0].explanation and "threshold 6" in alerts[0].explanation
    burst = [*habit("uma"), *(ev(15 * 1440 + i / 4, "uma", SYDNEY, False) for i in range(12))]
    alerts = run(fresh(), burst)  # fast: the stranger's sixth guess (medium), then the tenth (high)
    assert [(k, a.severity) for k, a in zip(kinds(alerts), alerts, strict=True)] == [
        ("brute-force", Severity.MEDIUM),
        ("brute-force", Severity.HIGH),
    ]


def test_slow_failures_that_are_not_a_stranger_guessing_are_quiet(engine: Engine) -> None:
    home = [*habit("vic"), *(ev(15 * 1440 + 30 * i, "vic", NY, False) for i in range(12))]
    assert kinds(run(engine, home)) == []  # its own address: a stale saved password
    unknown = [ev(30 * i, "nobody", SYDNEY, False) for i in range(12)]
    assert kinds(run(fresh(), unknown)) == []  # no account history: internet noise, the fast rule's job
    inside = [*habit("wes"), *(ev(15 * 1440 + 30 * i, "wes", "10.1.2.3", False) for i in range(12))]
    assert kinds(run(fresh(), inside)) == []  # an internal address
    hotel = [
        *habit("xia"),
        *(ev(15 * 1440 + 20 * i, "xia", BERLIN, False, device="laptop-1") for i in range(9)),
    ]
    assert kinds(run(fresh(), hotel)) == []  # abroad, on the account's own laptop
    method = [*habit("yan", device="password"), *(
        ev(15 * 1440 + 20 * i, "yan", SYDNEY, False, device="password", app="sshd") for i in range(6)
    )]  # fmt: skip
    assert kinds(run(fresh(), method)) == ["brute-force"]  # sshd names a method, not a device


def test_a_rules_file_without_the_low_and_slow_params_keeps_it_off(tmp_path: Path) -> None:
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    old = text.replace(", slow_window_s: 86400, slow_min_failures: 6", "")
    assert old != text
    (tmp_path / "rules.yml").write_text(old, encoding="utf-8")
    geo = GeoDB()
    geo.load_csv(FIX / "geo.csv")
    engine = Engine(geo, rules=load_rules(tmp_path / "rules.yml"))
    slow = [*habit("zed"), *(ev(15 * 1440 + 25 * i, "zed", SYDNEY, False) for i in range(8))]
    assert kinds(run(engine, slow)) == []


def test_credential_stuffing_many_sources_many_accounts(engine: Engine) -> None:
    attack = [
        ev(i / 3, f"victim{i}@example.com", f"192.0.2.{100 + i}", False, UNKNOWN_USER) for i in range(12)
    ]
    alerts = run(engine, attack)
    assert kinds(alerts) == ["credential-stuffing"]
    assert alerts[0].techniques == ("T1110.004",) and "10 sources to 10 accounts" in alerts[0].explanation


def test_success_after_many_failures_and_after_spray(engine: Engine) -> None:
    guessed = [ev(i, "carl", SYDNEY, False) for i in range(12)] + [ev(13, "carl", SYDNEY)]
    assert "success-after-failures" in kinds(run(engine, guessed))
    sprayed = [ev(200 + i, f"s{i}", BERLIN, False) for i in range(10)] + [ev(215, "s3", BERLIN)]
    alerts = run(engine, sprayed)
    assert kinds(alerts) == ["password-spray", "success-after-failures"]
    assert "was spraying" in alerts[1].explanation and "T1078" in alerts[1].techniques


def test_mfa_fatigue_then_approval_is_critical_and_one_mistake_is_quiet(engine: Engine) -> None:
    mistake = [ev(0, "dana", NY, False, MFA_DENIED, action="mfa"), ev(1, "dana", NY)]
    assert run(engine, mistake) == []
    flood = [ev(10 + i, "erik", SYDNEY, False, MFA_DENIED, action="mfa") for i in range(4)] + [
        ev(15, "erik", SYDNEY)
    ]
    alerts = run(engine, flood)
    assert kinds(alerts) == ["mfa-fatigue"]
    assert alerts[0].severity is Severity.CRITICAL and alerts[0].techniques == ("T1621",)
    only = [ev(100 + i, "fay", SYDNEY, False, MFA_DENIED, action="mfa") for i in range(6)]
    assert kinds(run(engine, only)) == ["mfa-fatigue"]


def test_impossible_travel_and_plausible_business_travel(engine: Engine) -> None:
    hop = [ev(0, "gus", NY), ev(60, "gus", SYDNEY)]
    alerts = run(engine, hop)
    assert kinds(alerts) == ["impossible-travel"] and alerts[0].score > 900
    assert "km/h" in alerts[0].explanation and alerts[0].metadata["ips"] == [NY, SYDNEY]
    trip = [ev(0, "hal", NY), ev(180, "hal", BOSTON), ev(60 * 24, "hal", BERLIN)]
    assert kinds(run(engine, trip)) == []


def test_vpn_egress_never_counts_as_travel(engine: Engine) -> None:
    vpn = [ev(0, "ivy", NY), ev(10, "ivy", VPN), ev(20, "ivy", SYDNEY)]
    assert "impossible-travel" not in kinds(run(engine, vpn))


def test_new_country_low_with_own_device_medium_with_a_new_one(engine: Engine) -> None:
    holiday = [*habit("jan"), ev(15 * 1440, "jan", BERLIN, device="laptop-1", app="Office 365")]
    alerts = run(engine, holiday)
    assert kinds(alerts) == ["new-country"] and alerts[0].severity is Severity.LOW
    stolen = [*habit("kim"), ev(15 * 1440, "kim", BERLIN, device="kali", app="Azure Portal")]
    alerts = run(fresh(), stolen)  # in a small organisation one sign-in from DE already makes DE usual
    assert kinds(alerts, Severity.MEDIUM) == ["new-country"] and "device" in alerts[0].explanation


def test_cold_start_raises_no_baseline_alerts(engine: Engine) -> None:
    fresh = [ev(0, "lee", NY, device="a"), ev(60 * 24, "lee", BERLIN, device="b", app="x")]
    assert kinds(run(engine, fresh)) == []


def test_anonymous_ip_first_time_and_a_daily_vpn_user(engine: Engine) -> None:
    first = [*habit("max", 3), ev(5 * 1440, "max", VPN, device="laptop-1")]
    assert kinds(run(engine, first)) == ["anonymous-ip"]
    daily = [ev(d * 1440, "ned", VPN, device="laptop-2") for d in range(8)]
    alerts = run(engine, daily)
    assert kinds(alerts) == ["anonymous-ip"] * 3  # the habit is learned after three days


def test_dormant_account_reactivated_and_return_from_leave(engine: Engine) -> None:
    leave = [*habit("olga"), ev(80 * 1440, "olga", NY, device="laptop-1", app="Office 365")]
    assert kinds(run(engine, leave)) == []
    taken = [*habit("pete"), ev(80 * 1440, "pete", SYDNEY, device="kali", app="Office 365")]
    assert "dormant-account" in kinds(run(engine, taken))


def test_unfamiliar_properties_and_a_new_laptop(engine: Engine) -> None:
    laptop = [*habit("quin"), ev(14 * 1440 + 60, "quin", NY, device="laptop-new", app="Office 365")]
    assert kinds(run(engine, laptop)) == []
    odd = [*habit("rita"), ev(14 * 1440 + 19 * 60, "rita", BOSTON, device="unknown", app="Azure CLI")]
    alerts = run(engine, odd)
    assert kinds(alerts, Severity.MEDIUM) == ["unfamiliar-sign-in"]
    assert "asn" in alerts[0].explanation and alerts[0].score >= 0.7


def test_duplicates_out_of_order_and_bounded_windows(engine: Engine) -> None:
    e = ev(0, "sam", NY, False)
    run(engine, [e, e, ev(5, "sam", NY), ev(1, "sam", NY, False)])
    assert engine.duplicates == 1 and engine.out_of_order == 0
    engine.consume(ev(-10, "sam", NY))
    assert engine.out_of_order == 1
    for i in range(300):
        engine.consume(ev(10 + i, f"u{i}", f"192.0.2.{i % 250}", False))
    engine.windows.sweep((T0 + timedelta(days=2)).timestamp())
    assert not engine.windows.by_ip and not engine.windows.by_pair and not engine.windows.by_user


def test_one_network_in_two_places_is_not_travel(tmp_path: Path) -> None:
    geo_csv = tmp_path / "geo.csv"
    geo_csv.write_text(
        "network,country,city,lat,lon,asn,as_org,is_anonymizer,is_hosting\n"
        "203.0.113.0/25,US,New York,40.71,-74.01,AS65000,Corp VPN,0,0\n"
        "203.0.113.128/25,US,Los Angeles,34.05,-118.24,AS65000,Corp VPN,0,0\n"
    )
    geo = GeoDB()
    geo.load_csv(geo_csv)
    failover = [ev(0, "tom", "203.0.113.5"), ev(5, "tom", "203.0.113.200")]
    assert kinds(run(Engine(geo), failover)) == []


def test_policy_denials_are_not_password_guesses(engine: Engine) -> None:
    denied = [ev(i / 2, "deploy-bot", SYDNEY, False, "other", action="privileged") for i in range(30)]
    assert kinds(run(engine, denied)) == [] and engine.events == 30


def test_privileged_operation_after_a_new_device_on_a_new_network(engine: Engine) -> None:
    def sudo(minutes: float, user: str) -> SignIn:
        return ev(minutes, user, "", action="privileged", app="sudo", client="/bin/bash")

    admin = [*habit("root-admin", device="publickey"), sudo(13 * 1440 + 70, "root-admin")]
    assert kinds(run(engine, admin)) == []  # sudo after a usual sign-in
    laptop = [
        *habit("ops", device="publickey"),
        ev(14 * 1440, "ops", NY, device="password"),
        sudo(14 * 1440 + 5, "ops"),
    ]
    assert kinds(run(engine, laptop)) == []  # a new key on the usual network
    taken = [
        *habit("dev", device="publickey"),
        ev(14 * 1440, "dev", BOSTON, device="password"),
        sudo(14 * 1440 + 9, "dev"),
    ]
    alerts = run(engine, taken)
    assert kinds(alerts, Severity.HIGH) == ["new-device-privileged"]
    assert alerts[-1].techniques == ("T1078", "T1548") and "9 minutes later" in alerts[-1].explanation
    late = [
        *habit("eve", device="publickey"),
        ev(14 * 1440, "eve", BOSTON, device="password"),
        sudo(14 * 1440 + 90, "eve"),
    ]
    assert "new-device-privileged" not in kinds(run(engine, late))


def test_threat_listed_addresses(tmp_path: Path) -> None:
    listed = tmp_path / "tor-exits.txt"
    listed.write_text("# exits\n192.0.2.0/28\n2001:db8::5\n\n")
    geo = GeoDB()
    geo.load_csv(FIX / "geo.csv")
    geo.load_threat_list(listed)
    assert geo.threats == 2 and geo.lookup("192.0.2.3").listed == "tor-exits.txt"
    assert geo.lookup("192.0.2.30").listed == "" and geo.lookup("2001:db8::5").listed == "tor-exits.txt"
    assert geo.lookup("192.0.2.3").city == "Sydney"  # geo facts kept
    tries = [ev(i, "vic", "192.0.2.3", False) for i in range(3)] + [ev(70, "vic", "192.0.2.3", False)]
    alerts = run(Engine(geo), [*tries, ev(71, "vic", "192.0.2.4")])
    assert kinds(alerts) == ["malicious-ip"] * 3  # one for the failures of the hour, again later, the success
    assert alerts[-1].severity is Severity.HIGH and "listed in tor-exits.txt" in alerts[-1].explanation
    listed.write_text("not-an-ip\n")
    with pytest.raises(InputError, match=r"tor-exits\.txt:1: not an address"):
        GeoDB().load_threat_list(listed)
    with pytest.raises(InputError, match="cannot read threat list"):
        GeoDB().load_threat_list(tmp_path / "absent.txt")
