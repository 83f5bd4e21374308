"""``bastion watch run --stream``: records partitioned by entity, open sessions checkpointed."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.detect.ingest.records import Record, read_lines, read_records
from bastion.detect.logs.features import Sessionizer, SessionKey
from bastion.detect.logs.pipeline import Detector, train
from bastion.errors import UsageError
from bastion.findings import Alert
from bastion.jobs.watch_stream import (
    WATCH_PREFIX,
    WatchHandler,
    publish_records,
    record_event,
    record_of,
    run_watch_consumer,
    session_from_dict,
    session_to_dict,
)
from bastion.stream.connect import open_transport
from bastion.stream.consumer import StreamConsumer
from bastion.stream.nats_jetstream import NatsJetStream
from conftest import NATS_URL, REDIS_URL, MakeTransport, redis_keys_wiped

HDFS = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "HDFS_2k.log"


def _records(start: int, stop: int) -> list[Record]:
    lines = list(read_lines([HDFS]))[start:stop]
    return list(read_records(iter(lines), None))


@pytest.fixture(scope="module")
def detector() -> Detector:
    """A model trained on the first 1,000 HDFS lines, by block, without the time-window layer."""
    trained, _ = train(_records(0, 1000), "ranges", SessionKey("block"))
    trained.windows = None
    return trained


def _keys(alerts: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return sorted((a["entity"], round(a["score"], 6)) for a in alerts)


def test_records_and_sessions_survive_the_wire(detector: Detector) -> None:
    records = _records(1000, 1100)
    assert [record_of(json.loads(json.dumps(record_event(r)))) for r in records] == records
    sessionizer = Sessionizer(detector.miner, detector.key, learn=False)
    opened = list(sessionizer.feed(records))
    assert opened
    assert [session_from_dict(json.loads(json.dumps(session_to_dict(s)))) for s in opened] == opened


def test_two_consumers_raise_what_one_process_raises(
    detector: Detector, make_transport: MakeTransport
) -> None:
    records = _records(1000, 2000)
    expected = [a.to_dict() for a in detector.detect(records)]
    assert expected  # the later HDFS lines hold abnormal blocks
    transport = make_transport(partitions=4, batch_size=50)
    assert publish_records(transport, detector, records).accepted == 1000
    seen = 0
    raised: list[Alert] = []
    for index in range(2):
        done = run_watch_consumer(transport, detector, index, 2, raised.append, idle_exit_s=0.3)
        seen += done.stats.events
    assert seen == 1000 and len(raised) == len(expected)
    alerts = transport.alerts()
    assert _keys(alerts) == _keys(expected)
    assert transport.backlog() == 0
    assert all(
        not transport.checkpoint(p) or set(transport.checkpoint(p)) == {"__watermark"} for p in range(4)
    )


def test_a_consumer_killed_mid_run_is_replaced_without_loss_or_double(
    detector: Detector, make_transport: MakeTransport
) -> None:
    records = _records(1000, 2000)
    expected = [a.to_dict() for a in detector.detect(records)]
    transport = make_transport(partitions=2, batch_size=40)
    publish_records(transport, detector, records[:500])
    first = StreamConsumer(transport, WatchHandler(detector), "first", min_idle_ms=100)
    for _ in range(100):  # these batches committed with their open sessions
        if first.stats.events == 500:
            break
        first.poll(block_ms=100)
    assert first.stats.events == 500
    publish_records(transport, detector, records[500:])
    held = transport.read("first", [0, 1], 100)  # delivered, never committed: then the process dies
    assert held
    open_now = {e for p in range(2) for e in transport.checkpoint(p) if e != "__watermark"}
    assert open_now  # sessions left open in the checkpoint, to be resumed
    done = run_watch_consumer(transport, detector, 0, 1, [].append, idle_exit_s=1.0, min_idle_ms=100)
    assert done.stats.claimed >= len(held)
    assert first.stats.events + done.stats.events == 1000
    assert _keys(transport.alerts()) == _keys(expected)


@pytest.fixture(params=["redis", "nats"])
def stream_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A broker URL whose default watch stream is empty before and after the test."""
    if request.param == "nats":
        where = urlsplit(NATS_URL)
        try:
            socket.create_connection((where.hostname or "127.0.0.1", where.port or 4222), timeout=2).close()
        except OSError as exc:
            pytest.skip(f"NATS at {NATS_URL} not reachable: {exc}")

        def wipe_nats() -> None:
            transport = NatsJetStream.from_url(NATS_URL, WATCH_PREFIX)
            transport.destroy()
            transport.close()

        wipe_nats()
        yield NATS_URL
        wipe_nats()
        return
    with redis_keys_wiped(WATCH_PREFIX):
        yield REDIS_URL


def test_watch_run_stream_publishes_then_consumers_alert(tmp_path: Path, stream_url: str) -> None:
    train_log, live = tmp_path / "train.log", tmp_path / "live.log"
    lines = HDFS.read_text().splitlines(keepends=True)
    train_log.write_text("".join(lines[:1000]))
    live.write_text("".join(lines[1000:]))
    model = tmp_path / "hdfs.bastion"
    runner = CliRunner()
    trained = runner.invoke(app, ["watch", "train", str(train_log), "--session", "block", "-o", str(model)])
    assert trained.exit_code == 0, trained.output
    base = ["watch", "run", "--stream", stream_url, "--model-file", str(model)]
    published = runner.invoke(app, [*base[:2], str(live), *base[2:], "--idle-timeout", "0.3"])
    assert published.exit_code == 0, published.output
    assert "published 1000 log records (0 dropped: partitions full)" in published.output
    found = 0
    for index in range(2):
        result = runner.invoke(
            app, [*base, "--consumer", f"{index}/2", "--format", "jsonl", "--idle-timeout", "0.3"]
        )
        assert result.exit_code in (0, 1), result.output
        found += sum(1 for line in result.stdout.splitlines() if line.startswith("{"))
        assert f"consumer {index}/2:" in result.output
    assert found > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stream", "redis://127.0.0.1:1/0"], "--model-file"),
        (["--consumer", "0/2"], "go with --stream"),
        (
            ["x.log", "--stream", "redis://127.0.0.1:1/0", "--consumer", "0/2", "--model-file", "m"],
            "no SOURCE",
        ),
        ([], "give SOURCE"),
    ],
)
def test_bad_stream_usage(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["watch", "run", *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_an_unknown_broker_scheme_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="scheme 'ftp' is not supported"):
        open_transport("ftp://127.0.0.1/x", "p")
