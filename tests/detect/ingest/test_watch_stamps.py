"""Time stamps in many header layouts become datetimes (windows by time need them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bastion.detect.ingest.records import lines_from_text, read_records
from bastion.detect.ingest.stamps import parse_stamp


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("2015-07-29 17:41:44,747 - INFO", datetime(2015, 7, 29, 17, 41, 44, 747000, tzinfo=UTC)),
        ("2024-03-01T10:00:00Z level=info", datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)),
        ("2024-03-01T10:00:00+02:00", datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC)),
        (
            "- 1117838570 2005.06.03 R02-M1-N0 2005-06-03-15.42.50.675872 R02 RAS KERNEL INFO",
            datetime(2005, 6, 3, 15, 42, 50, 675872, tzinfo=UTC),
        ),
        ("2005/06/03 15:42:50 WARN", datetime(2005, 6, 3, 15, 42, 50, tzinfo=UTC)),
        ("17/06/09 20:10:40 INFO executor.Backend:", datetime(2017, 6, 9, 20, 10, 40, tzinfo=UTC)),
        ("081109 203615 148 INFO dfs.DataNode:", datetime(2008, 11, 9, 20, 36, 15, tzinfo=UTC)),
        ("[Sun Dec 04 04:47:44 2005] [notice]", datetime(2005, 12, 4, 4, 47, 44, tzinfo=UTC)),
        ("Dec 4, 2005 04:47:44 PM org.Foo main", datetime(2005, 12, 4, 4, 47, 44, tzinfo=UTC)),
        ("1117838570 INFO", datetime(2005, 6, 3, 22, 42, 50, tzinfo=UTC)),
        ("20171223-22:15:29:606|Step_LSC|30002312", datetime(2017, 12, 23, 22, 15, 29, 606000, tzinfo=UTC)),
        (  # the file name's stamp comes first; the one with a space between date and time is the line's
            "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO",
            datetime(2017, 5, 16, 0, 0, 0, 8000, tzinfo=UTC),
        ),
        ("nova-api.log.1.2017-05-16_13:53:08 INFO", datetime(2017, 5, 16, 13, 53, 8, tzinfo=UTC)),
    ],
)
def test_common_layouts(head: str, expected: datetime) -> None:
    assert parse_stamp(head) == expected


def test_year_less_stamp_takes_the_given_year_or_never_lies_in_the_future() -> None:
    assert parse_stamp("Jun 14 15:16:01 combo sshd", year=2005) == datetime(
        2005, 6, 14, 15, 16, 1, tzinfo=UTC
    )
    now = datetime.now(UTC)
    for head in ("Jan 01 00:00:00 host app", "Dec 31 23:59:59 host app"):
        guessed = parse_stamp(head)
        assert guessed is not None and guessed.year in (now.year, now.year - 1)
        assert (guessed - now).total_seconds() <= 86_400


@pytest.mark.parametrize("head", ["INFO main", "2024-13-45 99:99:99 x", "version 3.2.1", "", "12345 WARN"])
def test_no_stamp_or_an_impossible_one_gives_none(head: str) -> None:
    assert parse_stamp(head) is None


def test_header_format_records_carry_time_and_component() -> None:
    text = "\n".join(
        f"- 11178385{70 + i} 2005.06.03 R02-M1-N0 2005-06-03-15.42.{50 + i}.675872 R02-M1-N0 RAS KERNEL INFO "
        f"instruction cache parity error corrected {i}"
        for i in range(8)
    )
    records = list(read_records(lines_from_text(text)))
    assert all(r.timestamp is not None for r in records)
    assert records[0].timestamp == datetime(2005, 6, 3, 15, 42, 50, 675872, tzinfo=UTC)
    assert records[0].fields["component"] == "KERNEL" and records[0].fields["level"] == "INFO"
    assert records[0].message.startswith("instruction cache parity error")


def test_month_day_stamp_takes_the_given_year() -> None:
    assert parse_stamp("03-17 16:13:38.811  1702  2395 D", year=2017) == datetime(
        2017, 3, 17, 16, 13, 38, 811000, tzinfo=UTC
    )
    guessed = parse_stamp("12-31 23:59:59 I")  # no year: never more than a day in the future
    assert guessed is not None and guessed <= datetime.now(UTC) + timedelta(days=1)
    assert parse_stamp("13-45 10:00:00 I") is None
