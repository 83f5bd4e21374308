"""ASN range CSVs (the ``@ip-location-db/asn`` layout) as a geo source: networks for addresses the
other sources locate without one, recognised by content, bad rows named by file and line."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.identity.asn import AsnRanges, is_asn_range_csv
from bastion.detect.identity.geo import GeoDB
from bastion.errors import InputError


def v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


FIX = Path(__file__).parents[2] / "fixtures" / "identity"
RANGES = (
    "ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization\n"
    "198.51.100.0,198.51.100.127,64496,Example Transit\n"
    '192.0.2.0,192.0.2.255,64497,"Example Hosting, Inc."\n'
    "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64498,Example v6\n"
)


def test_ranges_answer_inside_and_nothing_outside(tmp_path: Path) -> None:
    path = tmp_path / "asn-ipv4.csv"
    path.write_text(RANGES)
    ranges = AsnRanges()
    ranges.load(path)
    assert ranges.ranges == 3
    assert ranges.lookup(v4("198.51.100.127"), 4) == ("AS64496", "Example Transit")
    assert ranges.lookup(v4("192.0.2.9"), 4) == ("AS64497", "Example Hosting, Inc.")
    assert ranges.lookup(v4("198.51.100.128"), 4) is None and ranges.lookup(v4("1.1.1.1"), 4) is None
    assert ranges.lookup(int(ipaddress.IPv6Address("2001:db8::5")), 6) == ("AS64498", "Example v6")


def test_numeric_ranges_without_a_header_and_a_second_file(tmp_path: Path) -> None:
    num = tmp_path / "asn-ipv4-num.csv"
    num.write_text("3221225984,3221226239,64500,Doc Net\n")  # 192.0.2.0 - 192.0.2.255
    more = tmp_path / "more.csv"
    more.write_text("203.0.113.0,203.0.113.255,AS64501,Doc Net 3\n")
    assert is_asn_range_csv(num) and is_asn_range_csv(more)
    ranges = AsnRanges()
    ranges.load(more)
    ranges.load(num)
    assert ranges.lookup(3221225985, 4) == ("AS64500", "Doc Net")
    assert ranges.lookup(v4("203.0.113.1"), 4) == ("AS64501", "Doc Net 3")


def test_a_geo_csv_is_not_taken_for_ranges(tmp_path: Path) -> None:
    assert not is_asn_range_csv(FIX / "geo.csv")
    assert not is_asn_range_csv(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("198.51.100.0,198.51.100.9", "an ASN range row needs start, end and number"),
        ("198.51.100.9,198.51.100.0,64496,backwards", "bad ASN range row"),
        ("198.51.100.0,2001:db8::,64496,mixed", "bad ASN range row"),
        ("198.51.100.0,198.51.100.9,sixty,words", "bad ASN range row"),
    ],
)
def test_a_bad_row_names_file_and_line(tmp_path: Path, row: str, why: str) -> None:
    path = tmp_path / "asn.csv"
    path.write_text(RANGES + row + "\n")
    with pytest.raises(InputError, match=rf"asn\.csv:5: {why}"):
        AsnRanges().load(path)


def test_geo_takes_the_network_from_ranges_only_where_it_has_none(tmp_path: Path) -> None:
    geo_csv = tmp_path / "geo.csv"
    geo_csv.write_text(
        "network,country,city,lat,lon,asn\n"
        "198.51.100.0/24,DE,Berlin,52.52,13.40,\n"  # located, no network
        "192.0.2.0/24,AU,Sydney,-33.87,151.21,AS1\n"  # its own network wins
    )
    ranges = tmp_path / "asn.csv"
    ranges.write_text(RANGES)
    geo = GeoDB()
    geo.load(ranges)
    geo.load(geo_csv)
    berlin, sydney = geo.lookup("198.51.100.5"), geo.lookup("192.0.2.5")
    assert (berlin.asn, berlin.as_org, berlin.country, berlin.located) == (
        "AS64496",
        "Example Transit",
        "DE",
        True,
    )
    assert sydney.asn == "AS1"
    v6 = geo.lookup("2001:db8::1")
    assert (v6.asn, v6.located, v6.internal) == ("AS64498", False, False)
    assert geo.sources == ["asn.csv", "geo.csv"]


def test_detect_reads_ranges_and_names_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ranges = tmp_path / "asn.csv"
    ranges.write_text(RANGES)
    logs = str(FIX / "logs" / "okta.jsonl")
    assert main(["identity", "detect", logs, "--geo", str(ranges), "--geo", str(FIX / "geo.csv")]) in (0, 1)
    ranges.write_text(RANGES + "1.2.3.4,1.2.3.0,1,x\n")
    assert main(["identity", "detect", logs, "--geo", str(ranges)]) == 2
    err = capsys.readouterr().err
    assert "asn.csv:5: bad ASN range row" in err and "Traceback" not in err
