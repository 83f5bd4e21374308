"""MaxMind DB files and iporigin ranges behind the geo interface, and through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.identity.geo import GeoDB
from bastion.detect.identity.sources import DBIP_CREDIT, is_mmdb
from bastion.errors import InputError

FIX = Path(__file__).parents[2] / "fixtures" / "identity"
MMDB = FIX / "mmdb"


def _all_mmdb(origin: bool = False) -> GeoDB:
    geo = GeoDB(origin=origin)
    for name in ("city.mmdb", "asn.mmdb", "dbip-city-flat.mmdb", "anonymous.mmdb"):
        geo.load(MMDB / name)
    return geo


def test_city_asn_and_anonymous_databases_add_up() -> None:
    geo = _all_mmdb()
    ny = geo.lookup("203.0.113.5")
    assert (ny.country, ny.city, ny.lat, ny.lon, ny.asn, ny.as_org) == (
        "US",
        "New York",
        40.71,
        -74.0,
        "AS64500",
        "Example ISP",
    )
    assert not ny.hosting and not ny.anonymizer and ny.located
    assert geo.lookup("198.51.100.3").hosting and not geo.lookup("198.51.100.200").hosting
    tokyo = geo.lookup("192.0.2.200")  # flat layout (country in lower case) plus the anonymous-IP file
    assert (tokyo.country, tokyo.city, tokyo.anonymizer) == ("JP", "Tokyo", True)
    paris = geo.lookup("2001:db8::5")  # IPv6 in the city file, unknown to the IPv4-only flat file
    assert (paris.country, paris.city) == ("FR", "Paris")
    assert geo.sources == ["city.mmdb", "asn.mmdb", "dbip-city-flat.mmdb", "anonymous.mmdb"]
    assert geo.credits == [DBIP_CREDIT]


def test_csv_rows_win_over_mmdb_and_unknowns_stay_unknown() -> None:
    geo = _all_mmdb()
    geo.load(FIX / "geo.csv")
    assert geo.sources[-1] == "geo.csv"
    assert geo.lookup("192.0.2.200").city == "Sydney" and geo.lookup("203.0.113.200").city == "Boston"
    unknown = geo.lookup("100.64.1.1")
    assert not unknown.located and not unknown.internal
    assert geo.lookup("10.0.0.1").internal and geo.lookup("not-an-ip") == geo.lookup("also-not")


def test_iporigin_marks_clouds_and_tor_but_not_documentation_prefixes() -> None:
    geo = GeoDB(origin=True)
    aws, tor = geo.lookup("52.95.110.1"), geo.lookup("185.220.101.1")
    assert aws.hosting and not aws.anonymizer and aws.as_org == "Amazon AWS" and not aws.located
    assert tor.anonymizer and not tor.hosting
    # Vultr's published feed lists 203.0.113.0/24; a documentation prefix is nobody's data centre
    assert not geo.lookup("203.0.113.5").hosting
    assert not GeoDB().lookup("52.95.110.1").hosting  # off unless asked for


def test_mmdb_is_recognised_by_content_and_a_corrupt_one_is_one_line(tmp_path: Path) -> None:
    renamed = tmp_path / "geo.dat"
    renamed.write_bytes((MMDB / "city.mmdb").read_bytes())
    assert is_mmdb(renamed) and not is_mmdb(FIX / "geo.csv") and not is_mmdb(tmp_path / "absent")
    geo = GeoDB()
    geo.load(renamed)
    assert geo.lookup("198.51.100.9").city == "Berlin"
    broken = tmp_path / "broken.mmdb"
    data = (MMDB / "city.mmdb").read_bytes()
    broken.write_bytes(b"\x00" * 40 + data[data.index(b"\xab\xcd\xefMaxMind.com") :][:20])
    with pytest.raises(InputError, match=r"broken\.mmdb: not a readable MaxMind DB"):
        GeoDB().load(broken)


def test_cli_travel_from_mmdb_locations_with_credit_and_no_origin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
    rows = [
        {
            "createdDateTime": (t0 + timedelta(days=d)).isoformat(),
            "userPrincipalName": "alice@ex.com",
            "ipAddress": "203.0.113.10",
            "status": {"errorCode": 0},
            "appDisplayName": "Office 365",
            "deviceDetail": {"deviceId": "dev-1"},
        }
        for d in range(12)
    ]
    rows.append(
        {
            **rows[-1],
            "createdDateTime": (t0 + timedelta(days=11, minutes=30)).isoformat(),
            "ipAddress": "192.0.2.10",
        }
    )
    log = tmp_path / "entra.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "alerts.jsonl"
    args = ["identity", "detect", str(log), "--format", "jsonl", "-o", str(out), "--no-origin"]
    code = main([*args, "--geo", str(MMDB / "city.mmdb"), "--geo", str(MMDB / "dbip-city-flat.mmdb")])
    alerts = [json.loads(x) for x in out.read_text().splitlines()]
    assert code == 1 and [a["kind"] for a in alerts if a["severity"] != "low"] == ["impossible-travel"]
    assert "New York" not in alerts[0]["explanation"] and "JP" in alerts[0]["explanation"]
    assert DBIP_CREDIT in capsys.readouterr().err
    (tmp_path / "bad.mmdb").write_bytes(b"\xab\xcd\xefMaxMind.com")
    assert main([*args, "--geo", str(tmp_path / "bad.mmdb")]) == 2
    assert "bad.mmdb: not a readable MaxMind DB" in capsys.readouterr().err
