"""Windows Security events (JSON exports and .evtx) and Google Workspace login audit, read and detected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bastion.cli.main import main
from bastion.detect.identity import read
from bastion.detect.identity.events import BAD_PASSWORD, MFA_DENIED, OTHER, UNKNOWN_USER, Skips
from bastion.detect.identity.read import read_file
from bastion.detect.identity.winlog import from_windows
from bastion.errors import InputError

FIX = Path(__file__).parents[2] / "fixtures" / "identity"


def test_windows_three_export_shapes_each_event_id() -> None:
    skips = Skips()
    events = list(read_file(FIX / "windows" / "security.jsonl", skips))
    got = [(e.user, e.ip, e.success, e.reason, e.app) for e in events]
    assert got == [
        ("alice", "203.0.113.10", True, "", "windows remote-interactive"),
        ("bob", "198.51.100.7", False, BAD_PASSWORD, "windows network"),  # 0xC000006D: SubStatus decides
        ("ghost", "198.51.100.7", False, UNKNOWN_USER, "windows network"),
        ("erin", "", False, OTHER, "windows interactive"),  # locked out: not a guess at a secret
        ("alice", "10.0.0.5", True, "", "kerberos"),  # IPv4-mapped address unwrapped
        ("carol", "198.51.100.8", False, BAD_PASSWORD, "kerberos"),
        ("dave", "", False, BAD_PASSWORD, "ntlm"),
        ("dave", "", True, "", "ntlm"),
    ]
    assert events[0].device == "alice-laptop" and events[0].time == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert events[6].device == "ws1" and events[-1].line == 11
    assert skips.counts == {
        "windows logon by the system, a batch job or a service": 1,
        "windows logon of a machine or built-in account": 1,
        "windows event that is not a sign-in (4624/4625/4648/4768/4771/4776)": 1,
        "line that is not valid JSON (truncated?)": 1,
    }


def test_real_4648_record_is_a_privileged_operation() -> None:
    # a real decoded EVTX record (SigmaHQ regression data, DRL 1.1), pretty-printed as evtx_dump writes it
    skips = Skips()
    (event,) = read_file(FIX / "windows" / "sigma-4648-explicit-credentials.json", skips)
    assert event.user == "xodih" and event.action == "privileged" and event.success
    assert event.client == "as testuser on localhost by LegacyHive.exe" and event.ip == ""
    assert event.time == datetime(2026, 7, 17, 14, 18, 34, 72213, UTC) and not skips.counts


@pytest.mark.parametrize(
    ("record", "why"),
    [
        ({"EventID": 4624, "TargetUserName": "a"}, "windows event without a readable time"),
        (
            {"EventID": 4625, "TimeGenerated": "2026-03-02T09:00:00Z", "TargetUserName": "-"},
            "without TargetUserName",
        ),
        ({"EventID": "x", "TimeGenerated": "2026-03-02T09:00:00Z", "TargetUserName": "a"}, "not a sign-in"),
        (
            {"EventID": 4648, "TimeGenerated": "2026-03-02T09:00:00Z", "EventData": {"SubjectUserName": "a"}},
            "without subject or target",
        ),
    ],
)
def test_windows_records_lacking_what_a_sign_in_needs_are_skips(record: dict[str, Any], why: str) -> None:
    result = from_windows(record)
    assert isinstance(result, str) and why in result


def test_evtx_event_id_with_qualifiers_and_nested_status() -> None:
    record = {
        "Event": {
            "System": {
                "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 4625},
                "TimeCreated": "2026-03-02T09:00:00Z",
            },
            "EventData": {
                "TargetUserName": "CORP\\Bob",
                "LogonType": "3",
                "Status": "0xC000006A",
                "IpAddress": "192.0.2.1",
            },
        }
    }
    event = from_windows(record)
    assert not isinstance(event, str)
    assert (event.user, event.reason, event.ip) == ("bob", BAD_PASSWORD, "192.0.2.1")


class _FakeParser:
    """Stands in for ``evtx.PyEvtxParser``: its ``records_json()`` iterator yields decoded records and,
    like the crate's, raises for an unreadable record and goes on with the next one."""

    def __init__(self, records: list[object]) -> None:
        self.records = records

    def __call__(self, path: str, number_of_threads: int = 0) -> _FakeParser:
        self.opened = (path, number_of_threads)
        return self

    def records_json(self) -> _FakeParser:
        self.at = 0
        return self

    def __next__(self) -> object:
        if self.at >= len(self.records):
            raise StopIteration
        record = self.records[self.at]
        self.at += 1
        if isinstance(record, Exception):
            raise record
        return record


def _evtx_file(tmp_path: Path) -> Path:
    path = tmp_path / "Security.evtx"
    path.write_bytes(read.EVTX_MAGIC + b"\x00" * 120)
    return path


def test_evtx_file_is_decoded_record_by_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = (FIX / "windows" / "security.jsonl").read_text().splitlines()[:3]
    records = [{"event_record_id": 100 + i, "timestamp": "", "data": line} for i, line in enumerate(lines)]
    records.append({"event_record_id": 200, "data": "{not json"})
    monkeypatch.setattr(read, "PyEvtxParser", _FakeParser(records))
    skips = Skips()
    events = list(read_file(_evtx_file(tmp_path), skips))
    assert [(e.user, e.line) for e in events] == [("alice", 100), ("bob", 101), ("ghost", 102)]
    assert skips.counts == {"EVTX record whose JSON form is not valid": 1}


def test_evtx_unreadable_records_are_counted_then_the_file_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = (FIX / "windows" / "security.jsonl").read_text().splitlines()[0]
    bad = [OSError("bad chunk")] * 150
    monkeypatch.setattr(read, "PyEvtxParser", _FakeParser([{"data": line}, *bad]))
    skips = Skips()
    assert len(list(read_file(_evtx_file(tmp_path), skips))) == 1
    assert skips.counts["EVTX record the evtx decoder could not read"] == read._EVTX_GIVE_UP
    assert any(reason.startswith("rest of an EVTX file") for reason in skips.counts)


def test_corrupt_evtx_is_one_line_error_from_the_real_decoder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"Security\.evtx: not a readable \.evtx file"):
        list(read_file(_evtx_file(tmp_path), Skips()))


def test_google_workspace_login_audit_page() -> None:
    skips = Skips()
    events = list(read_file(FIX / "logs" / "google-login.json", skips))
    got = [(e.user, e.success, e.reason, e.action) for e in events]
    assert got == [
        ("alice@example.com", True, "", "signin"),
        ("bob@example.com", False, BAD_PASSWORD, "signin"),
        ("bob@example.com", False, BAD_PASSWORD, "signin"),  # a failed password challenge
        ("carol@example.com", False, MFA_DENIED, "mfa"),
        ("dave@example.com", False, OTHER, "signin"),  # disabled account
    ]
    assert events[0].client == "google_password" and events[0].app == "google workspace"
    assert skips.counts == {
        "google workspace event that is not a sign-in (logout, settings, passed challenge)": 2,
        "google workspace activity without a readable id.time": 1,
    }


def _google_activity(t: datetime, email: str, ip: str, name: str, failure: str = "") -> dict[str, Any]:
    params: list[dict[str, Any]] = [{"name": "login_type", "value": "google_password"}]
    if failure:
        params.append({"name": "login_failure_type", "value": failure})
    return {
        "kind": "admin#reports#activity",
        "id": {"time": t.isoformat(), "applicationName": "login"},
        "actor": {"email": email},
        "ipAddress": ip,
        "events": [{"type": "login", "name": name, "parameters": params}],
    }


def test_cli_detects_mfa_fatigue_in_google_and_spray_in_windows(tmp_path: Path) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    google = [
        _google_activity(
            t0 + timedelta(minutes=i),
            "eve@example.com",
            "192.0.2.50",
            "login_failure",
            "login_failure_invalid_second_factor",
        )
        for i in range(4)
    ]
    google.append(
        _google_activity(t0 + timedelta(minutes=5), "eve@example.com", "192.0.2.50", "login_success")
    )
    (tmp_path / "google.jsonl").write_text("".join(json.dumps(x) + "\n" for x in google))
    windows = [
        {
            "TimeGenerated": (t0 + timedelta(minutes=i)).isoformat(),
            "EventID": 4625,
            "TargetUserName": f"user{i}",
            "LogonType": 3,
            "Status": "0xc000006d",
            "SubStatus": "0xc000006a",
            "IpAddress": "198.51.100.66",
        }
        for i in range(12)
    ]
    (tmp_path / "security.jsonl").write_text("".join(json.dumps(x) + "\n" for x in windows))
    out = tmp_path / "alerts.jsonl"
    code = main(
        [
            "identity",
            "detect",
            str(tmp_path / "google.jsonl"),
            str(tmp_path / "security.jsonl"),
            "--format",
            "jsonl",
            "-o",
            str(out),
        ]
    )
    alerts = [json.loads(x) for x in out.read_text().splitlines()]
    kinds = {a["kind"]: a for a in alerts}
    assert code == 1 and set(kinds) == {"mfa-fatigue", "password-spray"}
    assert (
        kinds["mfa-fatigue"]["users"] == ["eve@example.com"]
        and kinds["mfa-fatigue"]["severity"] == "critical"
    )
    assert kinds["password-spray"]["ips"] == ["198.51.100.66"] and kinds["password-spray"]["file"].endswith(
        "security.jsonl"
    )


def test_records_written_one_after_another_and_a_broken_tail(tmp_path: Path) -> None:
    one = (FIX / "windows" / "sigma-4648-explicit-credentials.json").read_text()
    both = tmp_path / "two.json"
    both.write_text(one + "\n" + one.replace("xodih", "other"))
    assert [e.user for e in read_file(both, Skips())] == ["xodih", "other"]
    broken = tmp_path / "broken.json"
    broken.write_text(one + "\n" + one[:200])
    with pytest.raises(InputError, match=r"broken\.json: not valid JSON after record 1"):
        list(read_file(broken, Skips()))
