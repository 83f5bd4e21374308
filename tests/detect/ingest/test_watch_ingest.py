"""Ingest: formats, detection, files, gzip, directories, bad bytes."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import pytest

from bastion.detect.ingest.records import (
    MAX_LINE_BYTES,
    CombinedFormat,
    JsonFormat,
    LineFormat,
    RegexFormat,
    SyslogFormat,
    decode_line,
    detect_format,
    get_format,
    lines_from_text,
    read_lines,
    read_records,
)
from bastion.errors import InputError, UsageError

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"
ACCESS = '203.0.113.9 - alice [10/Oct/2024:13:55:36 +0000] "GET /admin?x=1 HTTP/1.1" 403 512 "-" "curl/8.0"'


def test_syslog_3164_and_5424() -> None:
    fmt = SyslogFormat(year=2024)
    rec = fmt.parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186")
    assert rec is not None
    assert (rec.host, rec.program, rec.fields["pid"], rec.fields["ip"]) == (
        "LabSZ",
        "sshd",
        "24200",
        "173.234.31.186",
    )
    assert rec.timestamp is not None and rec.timestamp.year == 2024 and rec.timestamp.month == 12
    assert rec.message.startswith("Invalid user")
    rec = fmt.parse("<34>1 2024-10-11T22:14:15.003Z mymachine su - ID47 - 'su root' failed for lonvick")
    assert rec is not None and rec.host == "mymachine" and rec.timestamp is not None
    assert rec.fields["user"] == "lonvick"
    assert fmt.parse("not syslog at all") is None
    assert fmt.parse("Foo 10 06:55:46 h p: bad month") is None


def test_combined_json_regex_raw() -> None:
    rec = CombinedFormat().parse(ACCESS)
    assert rec is not None and rec.host == "203.0.113.9" and rec.fields["status"] == "403"
    assert rec.message == "GET /admin 403 curl/8.0" and rec.timestamp is not None
    assert CombinedFormat().parse("garbage") is None
    js = JsonFormat(message="msg_text")
    rec = js.parse('{"msg_text": "login failed for bob", "ts": "2024-01-01T00:00:00Z", "hostname": "h1"}')
    assert rec is not None and rec.host == "h1" and rec.fields["user"] == "bob" and rec.timestamp is not None
    assert js.parse("[1, 2]") is None and js.parse("{bad") is None and js.parse('{"x": 1}') is None
    assert js.parse("plain") is None
    rx = RegexFormat(r"(?P<timestamp>\S+) (?P<host>\S+) (?P<message>.*)")
    rec = rx.parse("2024-01-01T10:00:00 web1 disk full")
    assert rec is not None and rec.host == "web1" and rec.message == "disk full" and rec.timestamp is not None
    assert rx.parse("") is None
    rx2 = RegexFormat(r"(?P<timestamp>\S+ \S+) (?P<message>.*)", time_format="%Y/%m/%d %H:%M")
    rec = rx2.parse("2024/01/02 03:04 ok")
    assert rec is not None and rec.timestamp is not None and rec.timestamp.hour == 3
    rec = rx2.parse("bad time here")
    assert rec is not None and rec.timestamp is None
    assert LineFormat().parse("x") is not None


def test_format_errors_and_lookup() -> None:
    with pytest.raises(UsageError, match="invalid"):
        RegexFormat("(")
    with pytest.raises(UsageError, match="message"):
        RegexFormat(r"(?P<x>.*)")
    with pytest.raises(UsageError, match="unknown log format"):
        get_format("nope")
    with pytest.raises(UsageError, match="needs --regex"):
        get_format("regex")
    assert isinstance(get_format("raw", r"(?P<message>.*)"), RegexFormat)
    assert get_format("json").name == "json"


def test_detect_format() -> None:
    syslog = [line for _, _, line in read_lines([LOGS / "OpenSSH_2k.log"])][:50]
    assert detect_format(syslog).name == "syslog"
    assert detect_format([ACCESS] * 5).name == "combined"
    assert detect_format(['{"message": "x"}'] * 3).name == "json"
    assert detect_format(["random words"] * 3).name == "raw"


def test_read_files_gzip_dirs_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.log").write_text("one\n\ntwo\r\n", encoding="utf-8")
    with gzip.open(tmp_path / "d" / "b.log.gz", "wt") as f:
        f.write("three\n")
    (tmp_path / "d" / ".hidden").write_text("skip\n")
    got = [text for _, _, text in read_lines([tmp_path / "d"])]
    assert got == ["one", "two", "three"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"from stdin\n")))
    assert [t for _, _, t in read_lines([Path("-")])] == ["from stdin"]
    with pytest.raises(InputError, match="no such file"):
        list(read_lines([tmp_path / "missing"]))
    (tmp_path / "bad.gz").write_bytes(b"not gzip")
    with pytest.raises(InputError, match="cannot read"):
        list(read_lines([tmp_path / "bad.gz"]))


def test_bad_bytes_long_lines_mixed_encodings(tmp_path: Path) -> None:
    path = tmp_path / "bad.log"
    huge = b"A" * (1 << 20)
    path.write_bytes(
        b"caf\xc3\xa9 ok\n" + b"caf\xe9 latin\n" + b"\x00\x01\xff\xfe garbage\x07\n" + huge + b"\nlast\n"
    )
    got = [text for _, _, text in read_lines([path])]
    assert got[0] == "café ok" and got[1] == "café latin"
    assert got[2] == "ÿþ garbage"
    assert len(got[3]) == MAX_LINE_BYTES and got[4] == "last"
    assert decode_line(b"x" * (MAX_LINE_BYTES + 10)) == "x" * MAX_LINE_BYTES


def test_read_records_auto_and_fallback() -> None:
    text = "Dec 10 06:55:46 LabSZ sshd[1]: hello\nunparsable line\n"
    records = list(read_records(lines_from_text(text)))
    assert records[0].program == "sshd" and records[0].line_no == 1
    assert records[1].message == "unparsable line" and records[1].host == ""


def test_year_less_stamps_never_land_in_the_future() -> None:
    from datetime import UTC, datetime, timedelta

    from bastion.detect.ingest.records import SyslogFormat

    ahead = datetime.now(UTC) + timedelta(days=40)
    line = (
        f"{ahead:%b} {ahead.day:2d} 06:55:46 LabSZ sshd[1]: Accepted password for a from 1.2.3.4 port 22 ssh2"
    )
    record = SyslogFormat().parse(line)
    assert record is not None and record.timestamp is not None
    assert record.timestamp <= datetime.now(UTC) + timedelta(days=1)
    assert record.timestamp.year in (ahead.year - 1, datetime.now(UTC).year - 1)
    fixed = SyslogFormat(year=2030).parse(line)  # an explicit year is kept as given
    assert fixed is not None and fixed.timestamp is not None and fixed.timestamp.year == 2030
