"""Multi-line records: stack traces joined to their message, bounded; mixed formats in one file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.ingest.multiline import MAX_JOINED_LINES
from bastion.detect.ingest.records import lines_from_text, read_records

JAVA = """2024-03-01 10:00:00,001 INFO  [main] com.example.App: starting worker 1
2024-03-01 10:00:01,002 ERROR [main] com.example.App: request 17 failed
java.lang.IllegalStateException: pool exhausted
\tat com.example.Pool.take(Pool.java:42)
\tat com.example.App.handle(App.java:17)
Caused by: java.net.SocketTimeoutException: Read timed out
\tat java.net.SocketInputStream.read(SocketInputStream.java:150)
\t... 12 more
2024-03-01 10:00:02,003 INFO  [main] com.example.App: starting worker 2
"""


def test_java_stack_trace_joins_its_message() -> None:
    records = list(read_records(lines_from_text(JAVA)))
    assert [r.line_no for r in records] == [1, 2, 3, 9]
    error = records[1]
    assert error.message.startswith("request 17 failed") and error.fields["level"] == "ERROR"
    # the exception line has no indentation and no header: it stays its own record, the trace joins it
    assert records[2].message.startswith("java.lang.IllegalStateException: pool exhausted\nat com.example")
    assert "Caused by: java.net.SocketTimeoutException" in records[2].message
    assert records[2].message.endswith("... 12 more")
    assert records[3].message == "starting worker 2"


def test_python_traceback_and_bounds() -> None:
    head = "2024-03-01 10:00:00,001 ERROR app.main: crashed\n"
    trace = "Traceback (most recent call last):\n" + '  File "a.py", line 1, in <module>\n' * 500
    text = (
        "2024-03-01 09:59:59,000 INFO app.main: up\n"
        + head
        + trace
        + "2024-03-01 10:00:01,000 INFO app.main: up\n"
    )
    records = list(read_records(lines_from_text(text)))
    assert [r.message.split("\n")[0] for r in records] == ["up", "crashed", "up"]
    crashed = records[1]
    assert crashed.message.count("\n") == MAX_JOINED_LINES
    assert int(crashed.fields["continuation_dropped"]) == 501 - MAX_JOINED_LINES


def test_raw_logs_never_join() -> None:
    records = list(read_records(lines_from_text("plain words\n   indented words\nmore\n")))
    assert [r.message for r in records] == ["plain words", "   indented words", "more"]


def test_mixed_formats_in_one_file_lose_no_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = []
    for i in range(60):
        lines.append(
            f"Dec 10 06:55:{i % 60:02} web01 sshd[{i}]: Accepted publickey for deploy from 10.0.0.{i}"
        )
        if i % 3 == 0:
            lines.append('{"message": "json event ' + str(i) + '", "level": "info"}')
        if i % 5 == 0:
            lines.append(f"2024-03-01 10:00:{i % 60:02},001 WARN app.db: slow query {i} ms")
    path = tmp_path / "mixed.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = list(read_records(lines_from_text(path.read_text(encoding="utf-8"))))
    assert len(records) == len(lines)
    assert main(["watch", "templates", str(path)]) == 0
    assert f"from {len(lines)} line(s)" in capsys.readouterr().out


def test_templates_cli_on_java_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "app.log"
    path.write_text(JAVA * 20, encoding="utf-8")
    assert main(["watch", "templates", str(path)]) == 0
    out = capsys.readouterr().out
    assert "template(s) from 80 line(s)" in out  # 180 physical lines, 80 records
