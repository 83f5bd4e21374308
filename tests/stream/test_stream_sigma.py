"""Sigma events through the stream: published by host, matched by two consumers of one group."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.detect.sigma.engine import SigmaEngine
from bastion.detect.sigma.event import Event
from bastion.detect.sigma.events import ReadSkips, read_events
from bastion.detect.sigma.loader import load_rules
from bastion.jobs.sigma_stream import SIGMA_PREFIX, consume_events, event_of, publish_events, sigma_event_of
from bastion.stream.consumer import ConsumerStats
from conftest import REDIS_URL, MakeTransport, redis_keys_wiped

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sigma"
LOGS = [FIXTURES / "sysmon.jsonl", FIXTURES / "auth.log", FIXTURES / "cloudtrail.json"]


def _hits(events: Iterable[Event]) -> list[tuple[str, str]]:
    engine = SigmaEngine(load_rules([FIXTURES / "rules"]))
    found = []
    for event in events:
        hits, _ = engine.process(event)
        found.extend((hit.rule.id, hit.event.source) for hit in hits)
    return sorted(found)


def test_events_survive_the_wire() -> None:
    events = list(read_events(LOGS, ReadSkips()))
    again = [sigma_event_of(event_of(e)) for e in events]
    assert [(e.raw, e.tags, e.timestamp, e.host, e.source) for e in again] == [
        (e.raw, e.tags, e.timestamp, e.host, e.source) for e in events
    ]


def test_two_consumers_match_what_one_process_matches(make_transport: MakeTransport) -> None:
    transport = make_transport(partitions=8, batch_size=16)
    published = publish_events(transport, read_events(LOGS, ReadSkips()))
    assert published.accepted > 0 and published.dropped == 0
    stats: list[ConsumerStats] = []
    consumed = [list(consume_events(transport, i, 2, 0.3, stats)) for i in range(2)]
    assert sum(len(c) for c in consumed) == published.accepted == sum(s.events for s in stats)
    streamed = _hits([e for part in consumed for e in part])
    alone = _hits(read_events(LOGS, ReadSkips()))
    assert streamed == alone and alone  # same rule matches, none lost, none doubled
    assert transport.backlog() == 0


@pytest.fixture
def clean_log_stream() -> Iterator[None]:
    """The Sigma log stream's keys of the test Redis DB, empty before and after."""
    with redis_keys_wiped(SIGMA_PREFIX):
        yield


def _matches(path: Path) -> list[tuple[str, str]]:
    alerts = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return sorted((a["rule_id"], a["metadata"].get("source", a["entity"])) for a in alerts)


@pytest.mark.usefixtures("clean_log_stream")
def test_cli_publishes_and_two_consumers_raise_what_one_run_raises(tmp_path: Path) -> None:
    runner = CliRunner()
    logs = [str(p) for p in LOGS]
    rules = ["--rules", str(FIXTURES / "rules")]
    alone = tmp_path / "alone.jsonl"
    result = runner.invoke(app, ["sigma", "run", *logs, *rules, "--format", "jsonl", "-o", str(alone)])
    assert result.exit_code == 1, result.output  # alerts raised
    published = runner.invoke(app, ["sigma", "run", *logs, "--stream", REDIS_URL])
    assert published.exit_code == 0, published.output
    assert "(0 dropped: partitions full)" in published.output
    total = int(published.output.split("published ")[1].split()[0])
    seen = 0
    for index in range(2):
        out = tmp_path / f"alerts{index}.jsonl"
        consumed = runner.invoke(
            app,
            ["sigma", "run", *rules, "--stream", REDIS_URL, "--consumer", f"{index}/2", "--idle-exit", "0.5",
             "--format", "jsonl", "-o", str(out)],
        )  # fmt: skip
        assert consumed.exit_code in (0, 1), consumed.output
        seen += int(consumed.output.split(f"consumer {index}/2: ")[1].split()[0])
    assert seen == total > 0  # every event once over the group
    streamed = _matches(tmp_path / "alerts0.jsonl") + _matches(tmp_path / "alerts1.jsonl")
    assert sorted(streamed) == _matches(alone) and streamed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give LOGS, or --stream URL --consumer INDEX/COUNT"),
        (["--consumer", "0/2"], "--consumer needs --stream URL"),
        (["--stream", REDIS_URL, "--consumer", "2/2"], "0 <= INDEX < COUNT"),
        ([str(LOGS[0]), "--stream", REDIS_URL, "--consumer", "0/2"], "give no LOGS"),
        ([str(LOGS[0]), "--stream", "kafka://127.0.0.1:9092"], "not supported: use redis:// or nats://"),
        ([str(LOGS[0]), "--stream", "redis://127.0.0.1:1/0"], "error: stream broker"),
    ],
)
def test_bad_stream_usage_is_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["sigma", "run", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output
