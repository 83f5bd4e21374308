"""The transport contract, on Redis Streams and NATS JetStream: order per entity, bounds,
checkpoints, dead consumers."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import pytest

from bastion.stream.base import partition_of
from bastion.stream.consumer import StreamConsumer
from bastion.stream.redis_streams import RedisStreams, StaleBatch
from conftest import MakeTransport


class Recorder:
    """Counts events per entity in the checkpointed state; raises an alert every 5th event."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def handle(
        self, events: list[dict[str, Any]], state: dict[str, Any]
    ) -> tuple[Iterable[str], list[dict[str, Any]]]:
        changed = set()
        alerts = []
        for event in events:
            entity = event["user"]
            count = state.get(entity, 0) + 1
            state[entity] = count
            changed.add(entity)
            self.seen.append((entity, event["seq"]))
            if count % 5 == 0:
                alerts.append({"entity": entity, "count": count})
        return changed, alerts


def _events(users: int, per_user: int) -> list[tuple[str, dict[str, Any]]]:
    return [(f"u{u}", {"user": f"u{u}", "seq": s}) for s in range(per_user) for u in range(users)]


def test_partition_is_stable_and_spread() -> None:
    assert partition_of("alice", 16) == partition_of("alice", 16) == 7
    assert len({partition_of(f"user{i}", 8) for i in range(200)}) == 8


def test_every_event_once_in_order_per_entity_with_checkpoints(make_transport: MakeTransport) -> None:
    transport = make_transport(partitions=4, batch_size=7)
    result = transport.publish(_events(10, 20))
    assert (result.accepted, result.dropped) == (200, 0)
    handlers = [Recorder(), Recorder()]
    consumers = [StreamConsumer(transport, h, f"c{i}", i, 2, min_idle_ms=100) for i, h in enumerate(handlers)]
    for consumer in consumers:
        consumer.run(idle_exit_s=0.3)
    assert sum(c.stats.events for c in consumers) == 200
    for handler in handlers:
        for user in {u for u, _ in handler.seen}:
            assert [s for u, s in handler.seen if u == user] == list(range(20))  # in order, once
    owners = [{u for u, _ in h.seen} for h in handlers]
    assert not owners[0] & owners[1]  # one entity, one consumer
    state = {k: v for p in range(4) for k, v in transport.checkpoint(p).items()}
    assert state == {f"u{u}": 20 for u in range(10)}
    assert len(transport.alerts()) == 40 and transport.backlog() == 0


def test_bounded_partitions_drop_newest_and_count(make_transport: MakeTransport) -> None:
    transport = make_transport(partitions=1, batch_size=2, max_batches=2)
    result = transport.publish(_events(1, 10))
    assert (result.accepted, result.dropped, result.batches) == (4, 6, 2)
    assert transport.publish(_events(1, 1)).dropped == 1
    assert transport.dropped() == 7 and transport.backlog() == 2


def test_a_restarted_consumer_resumes_from_its_checkpoint(make_transport: MakeTransport) -> None:
    transport = make_transport(partitions=2, batch_size=5)
    transport.publish(_events(4, 10))
    StreamConsumer(transport, Recorder(), "first", min_idle_ms=100).run(idle_exit_s=0.2)
    transport.publish(_events(4, 3))
    handler = Recorder()
    StreamConsumer(transport, handler, "second", min_idle_ms=100).run(idle_exit_s=0.2)
    assert len(handler.seen) == 12
    state = {k: v for p in range(2) for k, v in transport.checkpoint(p).items()}
    assert state == {f"u{u}": 13 for u in range(4)}


def test_a_dead_consumers_batches_are_claimed_and_a_zombie_cannot_commit(
    make_transport: MakeTransport,
) -> None:
    transport = make_transport(partitions=1, batch_size=4)
    transport.publish(_events(2, 6))
    dead = transport.read("dead", [0], 100)  # delivered, never committed: the consumer died
    assert dead  # Redis hands out every batch, JetStream one a partition at a time
    if isinstance(transport, RedisStreams):
        assert transport.pending([0], besides="other") == len(dead) == 3
    handler = Recorder()
    survivor = StreamConsumer(transport, handler, "other", min_idle_ms=200, claim_every_s=0.05)
    stats = survivor.run(idle_exit_s=1.0)
    assert stats.claimed == len(dead) and stats.events == 12
    assert [s for u, s in handler.seen if u == "u0"] == list(range(6))
    with pytest.raises(StaleBatch, match="claimed by another consumer"):
        transport.commit(dead[0], {"u0": 999}, [{"late": True}])
    assert transport.checkpoint(0) == {"u0": 6, "u1": 6}
    assert not any(alert.get("late") for alert in transport.alerts())


def test_a_consumer_restarted_under_its_own_name_reads_its_pending_first(
    make_redis: MakeTransport,
) -> None:
    transport = make_redis(partitions=1, batch_size=3)
    transport.publish(_events(1, 6))
    held = transport.read("same", [0], 100)
    assert [b.deliveries for b in held] == [1, 1]
    again = transport.read("same", [0], 100)
    assert [b.id for b in again] == [b.id for b in held] and {b.deliveries for b in again} == {2}


def test_consumer_stops_on_the_event(make_transport: MakeTransport) -> None:
    transport = make_transport(partitions=1)
    stop = threading.Event()
    stop.set()
    assert StreamConsumer(transport, Recorder(), "c").run(stop).events == 0
    with pytest.raises(ValueError, match=r"consumer index 2 not in 0\.\.1"):
        StreamConsumer(transport, Recorder(), "c", 2, 2)
