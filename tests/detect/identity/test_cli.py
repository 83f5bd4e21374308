"""``bastion identity detect|explain`` through the CLI, on real files."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion.cli.main import main

FIX = Path(__file__).parents[2] / "fixtures" / "identity"


def _spray_log(path: Path) -> Path:
    """An Entra JSON-lines file: alice's habit, then a spray that lands on alice."""
    t0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
    lines: list[dict[str, object]] = [
        {
            "createdDateTime": (t0 + timedelta(days=day)).isoformat(),
            "userPrincipalName": "alice@ex.com",
            "ipAddress": "203.0.113.10",
            "status": {"errorCode": 0},
            "appDisplayName": "Office 365",
            "deviceDetail": {"deviceId": "dev-1"},
        }
        for day in range(12)
    ]
    t1 = t0 + timedelta(days=13)
    lines += [
        {
            "createdDateTime": (t1 + timedelta(minutes=i)).isoformat(),
            "ipAddress": "192.0.2.9",
            "userPrincipalName": "alice@ex.com" if i == 0 else f"u{i}@ex.com",
            "status": {"errorCode": 50126},
        }
        for i in range(12)
    ]
    lines.append(
        {
            "createdDateTime": (t1 + timedelta(minutes=20)).isoformat(),
            "userPrincipalName": "alice@ex.com",
            "ipAddress": "192.0.2.9",
            "status": {"errorCode": 0},
            "appDisplayName": "Azure Portal",
        }
    )
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_detect_jsonl_fields_state_and_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _spray_log(tmp_path / "signins.jsonl")
    state, out = tmp_path / "state.json", tmp_path / "alerts.jsonl"
    code = main(
        [
            "identity",
            "detect",
            str(log),
            "--geo",
            str(FIX / "geo.csv"),
            "--state",
            str(state),
            "--format",
            "jsonl",
            "-o",
            str(out),
        ]
    )
    assert code == 1
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    kinds = [a["kind"] for a in alerts]
    assert "password-spray" in kinds and "success-after-failures" in kinds and "new-country" in kinds
    spray = alerts[kinds.index("password-spray")]
    assert set(spray) >= {
        "time",
        "start",
        "end",
        "users",
        "ips",
        "kind",
        "severity",
        "score",
        "file",
        "explanation",
        "attack",
    }
    assert spray["ips"] == ["192.0.2.9"] and spray["attack"] == ["T1110.003"] and spray["file"] == str(log)
    assert json.loads(state.read_text())["version"] == 1
    capsys.readouterr()
    assert main(["identity", "explain", "alice@ex.com", "--state", str(state)]) == 0
    text = capsys.readouterr().out
    assert "13 successful sign-in(s)" in text and "AS64500" in text and "dev-1" in text
    assert "Usual hours (local solar time where the sign-ins come from; last seen at UTC" in text
    assert main(["identity", "explain", "nobody", "--state", str(state)]) == 2
    assert "no baseline for 'nobody'" in capsys.readouterr().err


def test_detect_table_and_json_on_all_fixture_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["identity", "detect", str(FIX / "logs"), "--geo", str(FIX / "geo.csv"), "--year", "2026"])
    captured = capsys.readouterr()
    assert code in (0, 1) and "alert(s) from 29 sign-in event(s)" in captured.out  # 24 + 5 Google
    assert "skipped 1 record(s): cloudtrail event that is not a sign-in" in captured.err
    out = tmp_path / "a.json"
    main(
        [
            "identity",
            "detect",
            str(FIX / "logs" / "auth.log"),
            "--format",
            "json",
            "-o",
            str(out),
            "--year",
            "2026",
            "--min-severity",
            "critical",
        ]
    )
    doc = json.loads(out.read_text())
    assert doc["alerts"] == [] and doc["summary"]["events"] == 11 and doc["summary"]["skipped"]


def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identity", "detect", str(tmp_path / "missing.log")]) == 2
    assert "missing.log: no such file or directory" in capsys.readouterr().err
    trunc = tmp_path / "t.json"
    trunc.write_text('[{"createdDateTime": ')
    assert main(["identity", "detect", str(trunc)]) == 2
    err = capsys.readouterr().err
    assert "t.json: not valid JSON" in err and "Traceback" not in err
    assert main(["identity", "detect", str(FIX / "logs" / "okta.jsonl"), "--min-severity", "loud"]) == 2
    assert "--min-severity" in capsys.readouterr().err
    junk = tmp_path / "junk.log"
    junk.write_text("hello\nworld\n")
    assert main(["identity", "detect", str(junk)]) == 2
    assert "no sign-in events read (2 skipped)" in capsys.readouterr().err
    badgeo = tmp_path / "g.csv"
    badgeo.write_text("network,country\nnope,US\n")
    assert main(["identity", "detect", str(FIX / "logs" / "okta.jsonl"), "--geo", str(badgeo)]) == 2
    assert "g.csv:2: bad geo row" in capsys.readouterr().err
    assert main(["identity", "explain", "x", "--state", str(tmp_path / "none.json")]) == 2


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identity", "detect", "--help"]) == 0
    assert "Example: bastion identity detect" in capsys.readouterr().out


def test_table_output_shows_alerts_with_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _spray_log(tmp_path / "signins.jsonl")
    code = main(["identity", "detect", str(log), "--geo", str(FIX / "geo.csv"), "--min-severity", "high"])
    out = capsys.readouterr().out
    assert code == 1
    assert "[HIGH] password-spray" in out and "T1110.003" in out and "    | " in out
    assert "[MEDIUM]" not in out and "alert(s) from 25 sign-in event(s)" in out


def test_state_carries_baselines_to_the_next_run(tmp_path: Path) -> None:
    lines = _spray_log(tmp_path / "all.jsonl").read_text().splitlines()
    monday, tuesday = tmp_path / "monday.jsonl", tmp_path / "tuesday.jsonl"
    monday.write_text("\n".join(lines[:12]) + "\n")  # alice's habit
    tuesday.write_text("\n".join(lines[12:]) + "\n")  # the spray and the sign-in from Sydney
    state, out = tmp_path / "state.json", tmp_path / "alerts.jsonl"
    geo = ["--geo", str(FIX / "geo.csv")]
    assert main(["identity", "detect", str(monday), *geo, "--state", str(state)]) == 0
    main(["identity", "detect", str(tuesday), *geo, "--format", "jsonl", "-o", str(out)])
    assert "new-country" not in out.read_text()  # without the state alice is a stranger
    main(
        ["identity", "detect", str(tuesday), *geo, "--state", str(state), "--format", "jsonl", "-o", str(out)]
    )
    assert "new-country" in out.read_text()
    assert json.loads(state.read_text())["last_time"].startswith("2026-03-15")


def test_detect_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (FIX / "logs" / "okta.jsonl").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))  # type: ignore[arg-type]
    assert main(["identity", "detect", "-", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["events"] == 3


def test_threat_list_option(tmp_path: Path) -> None:
    listed = tmp_path / "bad-ips.txt"
    listed.write_text("192.0.2.60\n")
    out = tmp_path / "alerts.jsonl"
    okta = str(FIX / "logs" / "okta.jsonl")
    assert (
        main(["identity", "detect", okta, "--threat-list", str(listed), "--format", "jsonl", "-o", str(out)])
        == 1
    )
    alert = json.loads(out.read_text().splitlines()[0])
    assert (
        alert["kind"] == "malicious-ip"
        and alert["ips"] == ["192.0.2.60"]
        and alert["users"] == ["erin@example.com"]
    )


def test_truncated_gzip_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes((FIX / "logs" / "cloudtrail.json.gz").read_bytes()[:300])
    assert main(["identity", "detect", str(cut)]) == 2
    err = capsys.readouterr().err
    assert "cut.json.gz: cannot read" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_sign_ins_no_source_can_locate_are_reported_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    log = str(FIX / "logs" / "auth.log")
    main(["identity", "detect", log, "--year", "2026", "--format", "json"])
    captured = capsys.readouterr()
    assert "unknown: 1 successful sign-in(s) from outside addresses could not be located" in captured.err
    assert json.loads(captured.out)["summary"]["unlocated"] == 1
    main(["identity", "detect", log, "--year", "2026", "--geo", str(FIX / "geo.csv")])
    assert "could not be located" not in capsys.readouterr().err


def test_detect_posts_reported_alerts_to_a_webhook(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        out = tmp_path / "alerts.jsonl"
        args = ["identity", "detect", str(_spray_log(tmp_path / "spray.jsonl")), "--format", "jsonl"]
        assert main([*args, "-o", str(out), "--webhook", url, "--min-severity", "high"]) == 1
        written = [json.loads(x) for x in out.read_text().splitlines()]
        assert received and len(received) == len(written)
        assert {r["detector"] for r in received} == {f"identity.{w['kind']}" for w in written}
        assert main([*args, "-o", str(out), "--webhook", "ftp://127.0.0.1/x"]) == 2
    finally:
        server.shutdown()
        server.server_close()
