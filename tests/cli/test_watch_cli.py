"""``bastion watch`` through the CLI: templates, train, detect, run."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bastion.cli.main import main
from bastion.detect.ingest.sources import tcp_send

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
SSH = LOGS / "OpenSSH_2k.log"


def split_ssh(tmp_path: Path) -> tuple[Path, Path]:
    lines = SSH.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    first.write_text("".join(lines[:1000]), encoding="utf-8")
    second.write_text("".join(lines[1000:]), encoding="utf-8")
    return first, second


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for sub in ("templates", "train", "detect", "run"):
        assert main(["watch", sub, "--help"]) == 0
        assert "Example: bastion watch" in capsys.readouterr().out


def test_templates_table_json_per_line_and_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "templates", str(SSH)]) == 0
    out = capsys.readouterr().out
    assert "template(s) from 2000 line(s)" in out and "Failed password for" in out
    state = tmp_path / "state.json"
    assert main(["watch", "templates", str(SSH), "--format", "json", "--state", str(state)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lines"] == 2000 and sum(t["count"] for t in data["templates"]) == 2000
    assert json.loads(state.read_text())["version"] == 1
    assert main(["watch", "templates", str(SSH), "--per-line", "--state", str(state)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2000 and rows[0]["line"] == 1 and "template_id" in rows[0]
    assert main(["watch", "templates", str(SSH), "--format", "xml"]) == 2


def test_train_and_detect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = split_ssh(tmp_path)
    model = tmp_path / "ssh.bastion"
    assert main(["watch", "train", str(first), "--session", "ip", "--model", "ranges", "-o", str(model)]) == 0
    assert "trained ranges" in capsys.readouterr().err
    assert main(["watch", "detect", str(second), "-m", str(model), "--format", "jsonl"]) == 1
    alerts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    sessions = [a for a in alerts if a["entity_kind"] != "window"]
    assert sessions and all(a["detector"] == "watch.ranges" and a["entity_kind"] == "ip" for a in sessions)
    assert all(a["detector"] == "watch.window" for a in alerts if a["entity_kind"] == "window")
    out_file = tmp_path / "alerts.txt"
    assert main(["watch", "detect", str(first), "-m", str(model), "-o", str(out_file)]) == 0
    assert out_file.read_text().strip() == "0 alert(s)"
    assert main(["watch", "detect", str(second), "-m", str(model), "--format", "xml"]) == 2


def test_detect_follow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = split_ssh(tmp_path)
    model = tmp_path / "ssh.bastion"
    assert main(["watch", "train", str(first), "--session", "ip", "-o", str(model)]) == 0
    code = main(["watch", "detect", str(second), "-m", str(model), "--follow", "--idle-timeout", "0.3"])
    assert code == 1 and "alert(s)" in capsys.readouterr().out
    assert main(["watch", "detect", str(first), str(second), "-m", str(model), "--follow"]) == 2


def test_bad_model_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.bastion"
    bad.write_bytes(b"garbage")
    assert main(["watch", "detect", str(SSH), "-m", str(bad)]) == 2
    assert "not a Bastion watch model" in capsys.readouterr().err
    header = np.frombuffer(
        json.dumps({"format": "bastion-watch-model", "version": 1}).encode(), dtype=np.uint8
    )
    with bad.open("wb") as f:
        np.savez(f, __header__=header)
    assert main(["watch", "detect", str(SSH), "-m", str(bad)]) == 2
    assert "damaged model file" in capsys.readouterr().err
    assert main(["watch", "train", str(SSH), "--model", "nope", "-o", str(bad)]) == 2
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert main(["watch", "train", str(empty), "-o", str(bad)]) == 2
    assert "no training sessions" in capsys.readouterr().err


def test_run_on_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "run.bastion"
    code = main(
        ["watch", "run", str(SSH), "--baseline-lines", "1000", "--session", "ip", "--idle-timeout", "0.3",
         "--format", "jsonl", "--save", str(saved)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1 and "baseline:" in captured.err and saved.exists()
    detectors = {json.loads(line)["detector"] for line in captured.out.splitlines()}
    assert "watch.ranges" in detectors and detectors <= {"watch.ranges", "watch.window"}
    assert main(["watch", "run", str(tmp_path / "missing.log")]) == 2
    assert main(["watch", "run", str(SSH), "--baseline-lines", "0"]) == 2
    code = main(
        ["watch", "run", str(SSH), "--baseline-seconds", "0", "--session", "ip", "--idle-timeout", "0.2"]
    )
    assert code in (0, 1) and "baseline: 1 session(s)" in capsys.readouterr().err
    assert main(["watch", "run", "syslog://127.0.0.1:notaport"]) == 2


def test_run_syslog_listener(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lines = SSH.read_text(encoding="utf-8").splitlines()

    def sender() -> None:
        for _ in range(100):
            try:
                tcp_send("127.0.0.1", port, lines[:600])
                return
            except OSError:
                time.sleep(0.05)

    thread = threading.Thread(target=sender)
    thread.start()
    code = main(
        ["watch", "run", f"syslog://127.0.0.1:{port}", "--baseline-lines", "300", "--session", "ip",
         "--idle-timeout", "1"]
    )  # fmt: skip
    thread.join()
    err = capsys.readouterr().err
    assert code in (0, 1) and "listening for syslog" in err and "baseline:" in err
    assert main(["watch", "run", f"syslog://127.0.0.1:{port}", "--idle-timeout", "0.2"]) == 2
    assert "no line arrived" in capsys.readouterr().err


def test_bad_input_never_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.log"
    lines = SSH.read_bytes().splitlines(keepends=True)[:300]
    junk = [b"\x00\xff\xfe\x01 binary garbage\n", b"caf\xe9 latin-1 line\n", b"B" * (1 << 20) + b"\n"]
    bad.write_bytes(b"".join(lines[:100] + junk + lines[100:]))
    assert main(["watch", "templates", str(bad), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lines"] == 303
    model = tmp_path / "m.bastion"
    assert main(["watch", "train", str(bad), "--session", "none", "--window", "600", "-o", str(model)]) == 0
    assert main(["watch", "detect", str(bad), "-m", str(model), "--format", "jsonl"]) in (0, 1)
    assert main(["watch", "templates", str(tmp_path / "missing.log")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_user_formats_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    formats = tmp_path / "formats.toml"
    formats.write_text(
        "[formats.app]\n"
        "regex = '^(?P<timestamp>\\S+) (?P<user>\\S+) (?P<message>.*)$'\n"
        "time_format = '%Y-%m-%dT%H:%M:%S'\n"
        "[formats.jsonapp]\n"
        "json = {message = 'msg', timestamp = 'ts'}\n",
        encoding="utf-8",
    )
    log = tmp_path / "app.log"
    log.write_text("".join(f"2024-01-01T00:00:{i:02d} u{i % 3} opened file {i}\n" for i in range(30)))
    model = tmp_path / "app.bastion"
    args = ["--formats", str(formats), "--log-format", "app"]
    assert main(["watch", "train", str(log), "--session", "user", "-o", str(model), *args]) == 0
    odd = tmp_path / "odd.log"
    odd.write_text("2024-01-02T00:00:00 u1 deleted everything\n")
    assert main(["watch", "detect", str(odd), "-m", str(model), "--format", "jsonl"]) == 1
    alert = json.loads(capsys.readouterr().out.splitlines()[0])
    assert alert["entity"] == "u1" and "unseen event" in alert["explanation"]
    jlog = tmp_path / "j.log"
    jlog.write_text('{"msg": "hello 1", "ts": "2024-01-01T00:00:00Z"}\n')
    assert main(["watch", "templates", str(jlog), *args[:2], "--log-format", "jsonapp"]) == 0
    assert "hello <*>" in capsys.readouterr().out
    assert main(["watch", "templates", str(jlog), *args[:2], "--log-format", "nope"]) == 2
    assert "choose from" in capsys.readouterr().err
    for bad in ("[formats]\nx = 1\n", "[formats.x]\nfoo = 1\n", "[formats.x]\nregex = '('\n",
                "[formats.x]\njson = {bad = 'y'}\n", "nothing = 1\n", "[[broken"):  # fmt: skip
        formats.write_text(bad, encoding="utf-8")
        assert main(["watch", "templates", str(jlog), *args]) == 2
    assert main(["watch", "templates", str(jlog), "--formats", str(tmp_path / "none.toml")]) == 2
    assert main(["watch", "templates", str(jlog), "--log-format", "regex"]) == 2
    assert main(["watch", "templates", str(jlog), "--regex", "(?P<message>.*)"]) == 0


def test_detect_posts_to_webhook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        first, second = split_ssh(tmp_path)
        model = tmp_path / "ssh.bastion"
        assert main(["watch", "train", str(first), "--session", "ip", "-o", str(model)]) == 0
        url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
        assert main(["watch", "detect", str(second), "-m", str(model), "--webhook", url]) == 1
        shown = capsys.readouterr().out
        assert received and f"{len(received)} alert(s)" in shown
        assert {item["detector"] for item in received} <= {"watch.ranges", "watch.window"}
        assert any(item["detector"] == "watch.ranges" for item in received)
    finally:
        server.shutdown()
        server.server_close()


def test_detect_notes_lines_without_session_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, _ = split_ssh(tmp_path)
    model = tmp_path / "ssh.bastion"
    assert main(["watch", "train", str(first), "--session", "ip", "-o", str(model)]) == 0
    capsys.readouterr()
    assert main(["watch", "detect", str(first), "-m", str(model)]) == 0
    assert "had no session key ('ip') and were not judged" in capsys.readouterr().err


def test_detect_plot_svg_html_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = split_ssh(tmp_path)
    model = tmp_path / "ssh.bastion"
    assert main(["watch", "train", str(first), "-o", str(model)]) == 0
    assert "time windows of" in capsys.readouterr().err
    svg, page = tmp_path / "score.svg", tmp_path / "score.html"
    assert (
        main(
            ["watch", "detect", str(second), "-m", str(model), "--plot", str(svg), "-o", str(tmp_path / "a")]
        )
        == 1
    )
    err = capsys.readouterr().err.replace("\n", " ")
    assert "time window(s) scored" in err and "by kind:" in err and f"plot: wrote {svg}" in err
    drawing = svg.read_text(encoding="utf-8")
    assert drawing.startswith("<svg") and "alert border" in drawing and "<polyline" in drawing
    assert "#d62728" in drawing  # alerting windows are marked
    assert (
        main(
            ["watch", "detect", str(second), "-m", str(model), "--plot", str(page), "-o", str(tmp_path / "b")]
        )
        == 1
    )
    html = page.read_text(encoding="utf-8")
    assert (
        html.startswith("<!doctype html>")
        and "<svg" in html
        and "<table>" in html
        and "watch.window" not in html
    )
    assert "window all@" in html


def test_plot_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = split_ssh(tmp_path)
    model = tmp_path / "ssh.bastion"
    assert main(["watch", "train", str(first), "--rate-window", "-5", "-o", str(model)]) == 2
    assert main(["watch", "train", str(first), "--rate-window", "600", "-o", str(model)]) == 0
    assert "time windows of 600 s" in capsys.readouterr().err
    assert main(["watch", "detect", str(second), "-m", str(model), "--plot", str(tmp_path / "x.txt")]) == 2
    assert "use a .png, .svg or .html" in capsys.readouterr().err
    png = tmp_path / "x.png"
    code = main(
        ["watch", "detect", str(second), "-m", str(model), "--plot", str(png), "-o", str(tmp_path / "a")]
    )
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert code == 2 and "PNG needs matplotlib" in capsys.readouterr().err
    else:
        assert code == 1 and png.read_bytes()[:4] == b"\x89PNG"
    missing = tmp_path / "no" / "such" / "dir.svg"
    assert (
        main(
            [
                "watch",
                "detect",
                str(second),
                "-m",
                str(model),
                "--plot",
                str(missing),
                "-o",
                str(tmp_path / "b"),
            ]
        )
        == 2
    )


def test_plot_without_time_windows_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain.log"
    plain.write_text("".join(f"worker {i % 3} handled request\n" for i in range(60)), encoding="utf-8")
    model = tmp_path / "plain.bastion"
    assert main(["watch", "train", str(plain), "--session", "none", "-o", str(model)]) == 0
    assert "no time-window layer" in capsys.readouterr().err
    svg = tmp_path / "p.svg"
    main(["watch", "detect", str(plain), "-m", str(model), "--plot", str(svg)])
    assert "no time windows" in capsys.readouterr().err and svg.read_text(encoding="utf-8").startswith("<svg")
