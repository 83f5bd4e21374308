"""The broker lost mid-run: publishers and consumers reconnect with backoff, or say so once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from tcp_proxy import Proxy

from bastion.jobs import board
from bastion.jobs.broker import BrokerUnavailable, JobQueue, QueueSettings
from bastion.jobs.models import JobState
from bastion.store.db import Store
from bastion.stream.consumer import StreamConsumer
from bastion.stream.redis_streams import RedisStreams, StreamUnavailable
from conftest import REDIS_URL

DB = int(REDIS_URL.rsplit("/", 1)[1])


class Count:
    """Counts events per entity (the checkpointed state)."""

    def handle(
        self, events: list[dict[str, Any]], state: dict[str, Any]
    ) -> tuple[Iterable[str], list[dict[str, Any]]]:
        for event in events:
            state[event["k"]] = state.get(event["k"], 0) + 1
        return {event["k"] for event in events}, []


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    """A cuttable proxy in front of the test Redis."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} not reachable: {exc}")
    running = Proxy(("127.0.0.1", int(REDIS_URL.split(":")[2].split("/")[0])))
    yield running
    running.cut()


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of the test's own, deleted afterwards."""
    name = f"bastion-test-faults-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{name}*"))
    if keys:
        client.delete(*keys)


def test_publish_and_consume_ride_out_a_broker_outage(proxy: Proxy, prefix: str) -> None:
    transport = RedisStreams.from_url(proxy.url(DB), prefix, 2, batch_size=10)
    transport.publish([(f"k{i % 5}", {"k": f"k{i % 5}"}) for i in range(50)])
    proxy.cut()
    restored = threading.Timer(0.8, proxy.restore)
    restored.start()
    started = time.monotonic()
    result = transport.publish([(f"k{i % 5}", {"k": f"k{i % 5}"}) for i in range(50)])  # retried with backoff
    assert result.accepted == 50 and time.monotonic() - started >= 0.7
    restored.join()
    consumer = StreamConsumer(transport, Count(), "c", min_idle_ms=100)
    consumer.poll(block_ms=50)
    proxy.cut()
    threading.Timer(0.5, proxy.restore).start()
    stats = consumer.run(idle_exit_s=0.5)
    assert stats.events == 100
    assert {k: v for p in range(2) for k, v in transport.checkpoint(p).items()} == {
        f"k{i}": 20 for i in range(5)
    }


def test_a_broker_that_stays_away_is_one_error_not_a_crash_loop(proxy: Proxy, prefix: str) -> None:
    transport = RedisStreams.from_url(proxy.url(DB), prefix, 1, retries=2)
    proxy.cut()
    started = time.monotonic()
    with pytest.raises(StreamUnavailable, match=r"stream broker lost \(publish\)"):
        transport.publish([("k", {"k": "k"})])
    assert time.monotonic() - started >= 0.3  # 0.1 + 0.2 s of backoff, not a tight loop


def test_the_job_producer_rides_out_an_outage_and_reports_one_that_lasts(
    proxy: Proxy, prefix: str, tmp_path: Path
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'jobs.db'}")
    store.migrate()
    queue = JobQueue(proxy.url(DB), QueueSettings(namespace=prefix))
    assert len(queue.enqueue(store, ["/srv/a"])) == 1
    proxy.cut()
    restored = threading.Timer(0.5, proxy.restore)
    restored.start()
    assert len(queue.enqueue(store, ["/srv/b"])) == 1  # retried with backoff until the broker is back
    restored.join()
    proxy.cut()
    with pytest.raises(BrokerUnavailable, match="lost"):
        queue.enqueue(store, ["/srv/c"], attempts=2)
    assert [v.state for v in board.jobs(store)] == [JobState.QUEUED] * 3  # the unsent one is visible
    queue.close()
    store.close()
