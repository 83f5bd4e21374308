"""Header detection without a per-system regex, on generated logs in many header layouts."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.ingest.headers import detect_header
from bastion.detect.ingest.records import HeaderFormat, detect_format, read_lines, read_records

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"

MESSAGES = [
    "Accepted password for {user} from {ip} port {port} ssh2",
    "Connection closed by {ip} [preauth]",
    "GET /api/v1/items/{n} returned {code} in {ms} ms",
    "worker {n} started",
    "cache miss for key {hex}",
    "ciod: LOGIN chdir(/home/{user}) failed: No such file or directory",
    "Stopping service {user}-daemon after {n} retries",
    "error: disk /dev/sd{dev} is {n}% full",
    "5 more authentication failures for {user}",
]
"""Messages as a program writes them: some start with a colon word, a number or a level-like word."""

Layout = Callable[[random.Random, str], str]


def _t(r: random.Random) -> str:
    return f"{r.randrange(24):02}:{r.randrange(60):02}:{r.randrange(60):02}"


def _level(r: random.Random) -> str:
    return r.choice(["INFO", "WARN", "ERROR", "DEBUG"])


LAYOUTS: dict[str, Layout] = {
    "python-logging": lambda r, m: f"2024-03-01 {_t(r)},{r.randrange(1000):03} - app.db - {_level(r)} - {m}",
    "logback": lambda r, m: f"{_t(r)}.{r.randrange(1000):03} [main] {_level(r):<5} com.example.Service - {m}",
    "spring-boot": lambda r, m: (
        f"2024-03-01 {_t(r)}.123  {_level(r)} 4242 --- [nio-8080-exec-{r.randrange(9)}] o.s.web.Servlet : {m}"
    ),
    "journald-short-iso": lambda r, m: f"2024-03-01T{_t(r)}+0000 web01 nginx[{r.randrange(99999)}]: {m}",
    "syslog-rfc3164": lambda r, m: (
        f"Mar  {r.randrange(1, 10)} {_t(r)} db-2 postgres[{r.randrange(999)}]: {m}"
    ),
    "klog": lambda r, m: (
        f"I0301 {_t(r)}.{r.randrange(10**6):06}       1 controller.go:{r.randrange(900)}] {m}"
    ),
    "openstack": lambda r, m: (
        f"2017-05-16 {_t(r)}.008 25746 {_level(r)} nova.compute.manager "
        f"[req-{r.randrange(16**8):08x}-2096 - - -] {m}"
    ),
    "windows-cbs": lambda r, m: f"2016-09-28 {_t(r)}, Info                  CBS    {m}",
    "nginx-error": lambda r, m: (
        f"2024/03/01 {_t(r)} [{r.choice(['error', 'warn'])}] {r.randrange(9999)}#0: {m}"
    ),
    "apache-error": lambda r, m: f"[Sun Dec 04 {_t(r)} 2005] [{r.choice(['error', 'notice'])}] {m}",
    "hdfs-like": lambda r, m: f"081109 {r.randrange(240000):06} {r.randrange(999)} INFO dfs.DataNode: {m}",
    "epoch-level": lambda r, m: f"{1700000000 + r.randrange(10**6)} {_level(r)} {m}",
    "android-logcat": lambda r, m: (
        f"03-17 {_t(r)}.{r.randrange(1000):03}  1702  {r.randrange(9999):>4} {r.choice('VDIWE')} "
        f"{r.choice(['WindowManager', 'PowerManagerService'])}: {m}"
    ),
    "pipe-fields": lambda r, m: f"20171223-{_t(r)}:{r.randrange(1000):03}|Step_LSC|{r.randrange(10**8)}|{m}",
    "no-header": lambda _r, m: m,
}


def message(r: random.Random) -> str:
    """One message with fresh values."""
    return r.choice(MESSAGES).format(
        user=r.choice(["alice", "bob", "svc"]),
        ip=f"10.0.{r.randrange(255)}.{r.randrange(255)}",
        port=r.randrange(1024, 65535),
        n=r.randrange(1000),
        code=r.choice([200, 404, 500]),
        ms=r.randrange(900),
        hex=f"{r.randrange(16**12):012x}",
        dev=r.choice("abc"),
    )


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_message_found_in_every_layout(name: str) -> None:
    r = random.Random(name)
    pairs = [(m, LAYOUTS[name](r, m)) for m in (message(r) for _ in range(300))]
    header = detect_header([line for _, line in pairs[:100]])
    right = sum(1 for m, line in pairs if header.message(line) == m)
    assert right == len(pairs), (
        name,
        header,
        [(m, header.message(x)) for m, x in pairs if header.message(x) != m][:3],
    )


def test_loghub_headers_match_the_ground_truth_content() -> None:
    # OpenSSH_2k ships with its structured CSV: the detected message equals its Content column
    import csv

    with (LOGS / "OpenSSH_2k.log_structured.csv").open(encoding="utf-8") as f:
        content = [row["Content"] for row in csv.DictReader(f)]
    lines = [text for _, _, text in read_lines([LOGS / "OpenSSH_2k.log"])]
    header = detect_header(lines[:200])
    same = sum(1 for line, c in zip(lines, content, strict=True) if header.message(line).strip() == c.strip())
    assert same == len(lines)


def test_header_format_fields_and_auto_detection() -> None:
    r = random.Random(1)
    lines = [LAYOUTS["spring-boot"](r, message(r)) for _ in range(60)]
    fmt = detect_format(lines[:50])
    assert isinstance(fmt, HeaderFormat)
    record = fmt.parse("2024-03-01 10:11:12.123  WARN 4242 --- [main] o.s.web.Servlet : worker 7 started")
    assert record is not None and record.message == "worker 7 started"
    assert record.fields["level"] == "WARN" and record.timestamp is not None
    assert record.timestamp.isoformat().startswith("2024-03-01T10:11:12")
    assert fmt.parse("") is None  # nothing to split: the reader keeps such a line whole
    records = list(read_records(iter([("x", i, line) for i, line in enumerate(lines)])))
    assert all(not rec.message.startswith("2024") for rec in records)


def test_header_alone_and_no_header() -> None:
    header = detect_header(["2024-03-01 10:11:12 INFO"] * 5)
    assert header.message("2024-03-01 10:11:12 INFO") != ""  # never an empty message
    plain = detect_header(["just words here", "more words"])
    assert plain.share == 0.0 and plain.message("just words here") == "just words here"
    assert "time/level prefix" in detect_header(["2024-03-01 10:11:12 INFO a b"] * 3).describe()
    assert detect_header([]).share == 0.0


def test_templates_cli_on_generated_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = random.Random(7)
    path = tmp_path / "app.log"
    path.write_text("\n".join(LAYOUTS["logback"](r, message(r)) for _ in range(400)) + "\n", encoding="utf-8")
    assert main(["watch", "templates", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Accepted password for" in out and "com.example.Service" not in out
    # one template per message kind, whatever the time stamps, levels and threads
    assert f"{len(MESSAGES)} template(s) from 400 line(s)" in out


def test_lower_case_level_and_month_words_stay_in_the_message() -> None:
    lines = [f"2024-03-01 10:00:{i:02} INFO worker {i} ok" for i in range(30)]
    header = detect_header(lines)
    assert header.message("2024-03-01 10:00:00 INFO may retry later") == "may retry later"
    assert header.message("2024-03-01 10:00:00 error handling request 7") == "error handling request 7"
    assert header.message("2024-03-01 10:00:00 WARN error: disk full") == "error: disk full"


def test_logcat_and_pipe_headers_give_time_level_and_message() -> None:
    logcat = [
        f"03-17 16:13:{i:02}.811  1702  2395 {lv} WindowManager: screen {i}" for i, lv in enumerate("DIWEFV")
    ]
    fmt = detect_format(logcat * 5, year=2024)
    levels = [fmt.parse(line) for line in logcat]
    assert [r.fields.get("level") if r else None for r in levels] == [
        "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "TRACE"
    ]  # fmt: skip
    first = levels[0]
    assert first is not None and first.message == "screen 0"
    assert first.timestamp is not None and (first.timestamp.month, first.timestamp.second) == (3, 0)
    pipes = ["20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579"] * 10
    header = detect_header(pipes)
    assert header.pipes == 3 and "joined by '|'" in header.describe()
    record = detect_format(pipes).parse(pipes[0])
    assert record is not None and record.message == "onStandStepChanged 3579"
    assert record.timestamp is not None and record.timestamp.year == 2017
    # a line of the same log without the pipe fields, or with a non-time first field, is all message
    assert header.split("plain text line") == ("", "plain text line")
    assert header.split("abc|def|ghi|message") == ("", "abc|def|ghi|message")
    # pipes that do not follow a time stamp on most lines are no header
    assert detect_header(["a|b|c message"] * 10).pipes == 0
