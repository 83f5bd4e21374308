"""The alert stream formats, the sinks of a run, and the one writer for an alerts file (``-o``)."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion.detect.sinks import (
    AlertFormat,
    JsonLinesSink,
    TableSink,
    WebhookSink,
    alert_output,
    open_sinks,
    stream_sink,
)
from bastion.errors import InputError, UsageError
from bastion.findings import Alert, Severity


def _alert() -> Alert:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    return Alert("watch.ranges", Severity.HIGH, 3.0, "10.0.0.1", "ip", now, now, "why", ("line",))


def test_formats_parse_with_json_as_jsonl() -> None:
    assert AlertFormat.parse("table") is AlertFormat.TABLE
    assert AlertFormat.parse("jsonl") is AlertFormat.JSONL
    assert AlertFormat.parse("json") is AlertFormat.JSONL
    with pytest.raises(UsageError, match=r"^unknown --format 'xml' \(choose from table, jsonl\)$"):
        AlertFormat.parse("xml")


def test_each_format_has_its_sink() -> None:
    stream = io.StringIO()
    assert isinstance(stream_sink(AlertFormat.TABLE, stream), TableSink)
    assert isinstance(stream_sink(AlertFormat.JSONL, stream), JsonLinesSink)
    sinks = open_sinks(AlertFormat.JSONL, stream, "http://127.0.0.1:9/hook")
    assert [type(s) for s in sinks] == [JsonLinesSink, WebhookSink]
    sinks[0].emit(_alert())
    for sink in sinks:
        sink.close()
    assert json.loads(stream.getvalue())["entity"] == "10.0.0.1"
    assert len(open_sinks(AlertFormat.TABLE, stream)) == 1


def test_finite_output_is_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_text("previous run\n")
    with pytest.raises(RuntimeError), alert_output(path, streaming=False) as stream:
        stream.write("half\n")
        raise RuntimeError("detector failed")
    assert path.read_text() == "previous run\n"
    with alert_output(path, streaming=False) as stream:
        sink = JsonLinesSink(stream)
        sink.emit(_alert())
        sink.close()
    assert json.loads(path.read_text())["detector"] == "watch.ranges"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alerts.jsonl"]


def test_streaming_output_shows_each_alert_as_it_comes(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    with alert_output(path, streaming=True) as stream:
        JsonLinesSink(stream).emit(_alert())
        assert path.read_text().count("\n") == 1  # flushed while the run goes on
    with alert_output(None, streaming=True) as stream:
        assert stream.writable()


def test_unwritable_output_is_one_line(tmp_path: Path) -> None:
    for streaming in (True, False):
        missing = tmp_path / "no" / "alerts.jsonl"
        message = r"no/alerts\.jsonl: cannot write alerts: No such file"
        with pytest.raises(InputError, match=message), alert_output(missing, streaming=streaming) as stream:
            stream.write("never reached: the file cannot be opened")
    with alert_output(Path(os.devnull), streaming=False) as stream:
        stream.write("a device is written directly\n")
