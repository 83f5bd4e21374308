"""Alerts: explanations, redaction, sinks (table, JSON lines, webhook on a loopback server)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from bastion.detect.ingest.records import lines_from_text, read_records
from bastion.detect.logs.explain import EventStats, build_alert, redact_line
from bastion.detect.logs.features import Session, SessionKey
from bastion.detect.logs.pipeline import load_detector, train
from bastion.detect.sinks import JsonLinesSink, TableSink, WebhookSink
from bastion.errors import InputError
from bastion.findings import Alert, Severity

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"


def normal_session(key: str) -> Session:
    return Session(
        key, "ip", events=[1, 2, 2], texts={1: "login ok", 2: "read file"}, lines={1: "l1", 2: "l2"}
    )


def test_explanations_name_unseen_over_and_under() -> None:
    stats = EventStats.learn([normal_session("a"), normal_session("b")])
    odd = Session(
        "c", "ip", events=[2, 2, 2, 2, 9], texts={2: "read file", 9: "drop table"}, lines={9: "evil", 2: "r"}
    )
    reasons, evidence = stats.explain(odd)
    assert any("unseen event (1x): 'drop table'" in r for r in reasons)
    assert any("over-represented: 'read file' 4x" in r for r in reasons)
    assert any("under-represented: 'login ok' 0x" in r for r in reasons)
    assert "evil" in evidence
    alert = build_alert(odd, "ranges", 5.0, 1.0, stats, ["extra reason"])
    assert alert.severity is Severity.HIGH and alert.entity == "c" and "extra reason" in alert.explanation
    assert EventStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats
    many = Session("d", "ip", events=list(range(10, 20)), texts={})
    assert reasons_count(stats, many) == 6


def reasons_count(stats: EventStats, session: Session) -> int:
    return len(stats.explain(session, limit=5)[0])


def test_redaction() -> None:
    assert redact_line("login password=hunter2 ok") == "login password=**** ok"
    assert redact_line("Authorization: Bearer abc.def") == "Authorization: Bearer ****"
    assert redact_line("Failed password for root") == "Failed password for root"


def sample_alert() -> Alert:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return Alert("watch.ranges", Severity.HIGH, 3.0, "10.0.0.1", "ip", now, now, "why", ("line",))


def test_table_and_jsonl_sinks() -> None:
    out = io.StringIO()
    sink = TableSink(out)
    sink.emit(sample_alert())
    sink.close()
    assert "[HIGH] watch.ranges ip=10.0.0.1" in out.getvalue() and "| line" in out.getvalue()
    out = io.StringIO()
    jl = JsonLinesSink(out)
    jl.emit(sample_alert())
    jl.close()
    assert Alert.from_dict(json.loads(out.getvalue())) == sample_alert()


@pytest.fixture
def webhook_server() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(500 if self.path == "/fail" else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_webhook_sink(webhook_server: tuple[str, list[dict[str, object]]]) -> None:
    url, received = webhook_server
    sink = WebhookSink(url + "/hook")
    sink.emit(sample_alert())
    sink.close()
    assert received[0]["entity"] == "10.0.0.1" and sink.count == 1
    failing = WebhookSink(url + "/fail")
    with pytest.raises(InputError, match="webhook delivery failed"):
        failing.emit(sample_alert())
    failing.close()
    with pytest.raises(InputError, match="must start with http"):
        WebhookSink("ftp://x")


def test_pipeline_train_save_load_detect(tmp_path: Path) -> None:
    lines = list(lines_from_text((LOGS / "HDFS_2k.log").read_text()))
    detector, summary = train(read_records(iter(lines[:1500])), "ranges", SessionKey("block"))
    assert summary.sessions > 100 and summary.templates > 5
    detector.save(tmp_path / "hdfs.bastion")
    again = load_detector(tmp_path / "hdfs.bastion")
    new_event = [("x", 1, "081109 203615 148 INFO dfs.DataNode: Exception writing blk_77 to mirror 10.0.0.1")]
    alerts = list(again.detect(read_records(iter(new_event))))
    assert alerts and "unseen event" in alerts[0].explanation and alerts[0].entity == "blk_77"
    with pytest.raises(InputError, match="no training sessions"):
        train(read_records(iter(lines[:10])), "ranges", SessionKey("user"))


def test_sequence_model_explains_order() -> None:
    text = "".join(
        f"2024-01-01T00:00:0{i % 10} s{i} open\n2024-01-01T00:00:0{i % 10} s{i} close\n" for i in range(30)
    )
    lines = list(lines_from_text(text))
    from bastion.detect.ingest.records import RegexFormat

    fmt = RegexFormat(r"(?P<timestamp>\S+) (?P<sid>\S+) (?P<message>.*)")
    detector, _ = train(read_records(iter(lines), fmt), "sequence", SessionKey("sid"))
    odd = list(lines_from_text("2024-01-01T00:00:00 s99 close\n2024-01-01T00:00:01 s99 open\n"))
    alerts = list(detector.detect(read_records(iter(odd), fmt)))
    assert alerts and "unexpected order" in alerts[0].explanation
