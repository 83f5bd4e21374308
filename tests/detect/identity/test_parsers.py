"""Parsers: every supported sign-in log read from real files, with counted skips."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion.detect.identity.authlog import AuthLogParser
from bastion.detect.identity.cloud import parse_time
from bastion.detect.identity.events import BAD_PASSWORD, MFA_DENIED, UNKNOWN_USER, Skips
from bastion.detect.identity.read import detect_format, read_events, read_file
from bastion.errors import InputError

FIX = Path(__file__).parents[2] / "fixtures" / "identity"


def test_entra_array_reads_successes_failures_and_counts_skips() -> None:
    skips = Skips()
    events = list(read_file(FIX / "logs" / "entra.json", skips))
    assert [e.user for e in events] == [
        "alice@example.com",
        "bob@example.com",
        "bob@example.com",
        "ghost@example.com",
    ]
    alice = events[0]
    assert alice.success and alice.device == "dev-alice" and alice.country == "US"
    assert alice.lat == pytest.approx(40.71) and alice.time == datetime(2026, 3, 2, 9, 0, 0, 123456, UTC)
    assert events[1].reason == BAD_PASSWORD and events[2].reason == MFA_DENIED and events[2].action == "mfa"
    assert events[3].reason == UNKNOWN_USER
    assert skips.counts == {
        "entra interrupt (not a completed sign-in)": 1,
        "entra record without a readable createdDateTime": 1,
        "JSON value that is not an object": 1,
    }


def test_azure_monitor_export_with_truncated_last_line() -> None:
    skips = Skips()
    events = list(read_file(FIX / "logs" / "azure-monitor.jsonl", skips))
    assert [(e.user, e.success) for e in events] == [
        ("carol@example.com", True),
        ("carol@example.com", False),
    ]
    assert events[0].device == "MacOs/Safari" and events[0].line == 1
    assert skips.counts == {"line that is not valid JSON (truncated?)": 1}


def test_cloudtrail_gzip_records_keeps_sign_ins_only() -> None:
    skips = Skips()
    events = list(read_file(FIX / "logs" / "cloudtrail.json.gz", skips))
    assert [(e.user, e.success, e.reason, e.app) for e in events] == [
        ("dave", True, "", "ConsoleLogin"),
        ("HIDDEN_DUE_TO_SECURITY_REASONS", False, UNKNOWN_USER, "ConsoleLogin"),
        ("dave", False, BAD_PASSWORD, "ConsoleLogin"),
        ("arn:aws:iam::111122223333:user/dave", True, "", "AssumeRole"),
    ]
    assert events[3].action == "privileged"
    assert skips.counts == {"cloudtrail event that is not a sign-in": 1}


def test_cloudtrail_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "ct.jsonl"
    with gzip.open(FIX / "logs" / "cloudtrail.json.gz", "rt") as handle:
        records = json.load(handle)["Records"]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    skips = Skips()
    assert len(list(read_file(path, skips))) == 4 and skips.total == 1


def test_okta_system_log() -> None:
    skips = Skips()
    events = list(read_file(FIX / "logs" / "okta.jsonl", skips))
    assert [(e.success, e.reason, e.action) for e in events] == [
        (True, "", "signin"),
        (False, BAD_PASSWORD, "signin"),
        (False, MFA_DENIED, "mfa"),
    ]
    assert events[0].city == "New York" and events[0].lat == pytest.approx(40.7)
    assert skips.counts == {"okta event that is not a sign-in": 1}


def test_auth_log_sshd_sudo_su_with_year() -> None:
    skips = Skips()
    events = list(read_file(FIX / "logs" / "auth.log", skips, year=2025))
    kinds = [(e.user, e.success, e.reason, e.app) for e in events]
    assert kinds[0] == ("frank", True, "", "sshd") and events[0].ip == "203.0.113.40"
    assert kinds[1] == ("admin", False, UNKNOWN_USER, "sshd")  # the repeated "Failed ... invalid" dropped
    assert kinds[2:7] == [("root", False, BAD_PASSWORD, "sshd")] * 5  # 1 + "message repeated 4 times"
    assert kinds[7:] == [
        ("frank", True, "", "sudo"),
        ("frank", False, BAD_PASSWORD, "sudo"),
        ("frank", True, "", "su"),
        ("mallory", False, BAD_PASSWORD, "su"),
    ]
    assert all(e.time.year == 2025 for e in events)
    assert skips.counts["repeat of the Invalid user line before it"] == 1
    assert skips.counts["not a syslog line"] == 1
    assert skips.counts["not an authentication program (sshd, sudo, su)"] == 1


def test_auth_log_year_rolls_back_for_months_after_the_file_month() -> None:
    parser = AuthLogParser(2026, last_month=1)
    result = parser.parse("Dec 31 23:59:59 h sshd[1]: Accepted password for ann from 203.0.113.1 port 1 ssh2")
    assert not isinstance(result, str) and result[0].time.year == 2025
    assert parser.parse("Feb 30 10:00:00 h sshd[1]: Accepted password for a from 1.2.3.4 port 1") == (
        "syslog line with an unreadable time"
    )


def test_iso_syslog_stamps() -> None:
    result = AuthLogParser(2026).parse(
        "2026-03-02T13:00:01+01:00 h sshd[1]: Failed password for bob from 203.0.113.1 port 22 ssh2"
    )
    assert not isinstance(result, str) and result[0].time == datetime(2026, 3, 2, 12, 0, 1, tzinfo=UTC)


def test_format_detection_and_time_parsing() -> None:
    assert detect_format('[{"a": 1}]') == "json-document"
    assert detect_format('{"Records": [\n') == "json-document"
    assert detect_format('{"a": 1}\n{"a": 2}') == "jsonl"
    assert detect_format("Mar  2 13:00:01 web1 sshd[1]: x") == "authlog"
    assert parse_time("2026-03-02T09:00:00+02:00") == datetime(2026, 3, 2, 7, tzinfo=UTC)
    assert parse_time("yesterday") is None and parse_time(5) is None


def test_merge_across_files_is_in_time_order() -> None:
    skips = Skips()
    events = list(read_events([FIX / "logs"], skips, year=2026))
    times = [e.time for e in events]
    assert times == sorted(times) and len(events) == 4 + 2 + 4 + 3 + 11 + 5  # ... + Google


def test_corrupt_json_document_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"createdDateTime": "2026-03-02T09:00:00Z", ')
    with pytest.raises(InputError, match=r"bad\.json: not valid JSON"):
        list(read_file(bad, Skips()))
    odd = tmp_path / "odd.json"
    odd.write_text('{"Records": 5,\n "x": 1}')
    with pytest.raises(InputError, match="neither an array"):
        list(read_file(odd, Skips()))


def test_unknown_json_records_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    path.write_text('{"hello": "world"}\n\n{"also": 1}\n')
    skips = Skips()
    assert list(read_file(path, skips)) == []
    assert skips.total == 2 and "skipped 2 record(s)" in skips.notes()[0]


def _entra_records(n: int) -> list[str]:
    return [
        json.dumps(
            {
                "createdDateTime": f"2026-03-02T09:{i // 60:02d}:{i % 60:02d}Z",
                "userPrincipalName": f"u{i}@ex.com",
                "ipAddress": "203.0.113.5",
                "status": {"errorCode": 0},
            }
        )
        for i in range(n)
    ]


def test_json_array_streams_in_bounded_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bastion.detect.identity.read._CHUNK", 64)  # records span many reads
    path = tmp_path / "big.json"
    path.write_text("\ufeff[\n" + ",\n".join(_entra_records(300)) + "\n]\n", encoding="utf-8")
    skips = Skips()
    events = list(read_file(path, skips))
    assert len(events) == 300 and events[-1].user == "u299@ex.com" and events[-1].line == 300
    assert skips.total == 0


def test_truncated_json_array_keeps_complete_records_and_counts_the_rest(tmp_path: Path) -> None:
    records = _entra_records(5)
    path = tmp_path / "cut.json"
    path.write_text("[" + ",".join(records) + "," + records[0][:40])
    skips = Skips()
    assert len(list(read_file(path, skips))) == 5
    assert skips.counts == {"truncated JSON array (last record incomplete)": 1}
    path.write_text("[" + ",".join(records) + ",   ")
    skips = Skips()
    assert len(list(read_file(path, skips))) == 5
    assert skips.counts == {"truncated JSON array (no closing ])": 1}


def test_garbage_inside_a_json_array_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bastion.detect.identity.read.MAX_RECORD", 300)
    monkeypatch.setattr("bastion.detect.identity.read._CHUNK", 64)
    path = tmp_path / "junk.json"
    path.write_text("[" + _entra_records(1)[0] + ", {oops" + " " * 400 + "}]")
    with pytest.raises(InputError, match=r"junk\.json: not valid JSON after record 1"):
        list(read_file(path, Skips()))


def test_cloudtrail_fields_of_the_wrong_type_are_skips_or_text() -> None:
    from bastion.detect.identity.cloud import from_cloudtrail

    assert from_cloudtrail({"eventName": ["ConsoleLogin"]}) == "cloudtrail event that is not a sign-in"
    event = from_cloudtrail(
        {
            "eventName": "ConsoleLogin",
            "eventTime": "2026-01-01T00:00:00Z",
            "userIdentity": {"userName": 5},
            "responseElements": None,
            "errorMessage": "Failed authentication",
            "sourceIPAddress": 7,
        }
    )
    assert not isinstance(event, str)
    assert (event.user, event.ip, event.success, event.reason) == ("5", "7", False, BAD_PASSWORD)
