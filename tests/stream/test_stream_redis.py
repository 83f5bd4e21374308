"""The transport contract, on Redis Streams and NATS JetStream: order per entity, bounds,
checkpoints, dead consumers."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import orjson
import pytest

from bastion.stream.base import decode_events, dump_state, encode_events, partition_of
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


class Failing(Recorder):
    """A :class:`Recorder` that raises on its ``at``-th batch (a consumer dying mid-run)."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at
        self.batches = 0

    def handle(
        self, events: list[dict[str, Any]], state: dict[str, Any]
    ) -> tuple[Iterable[str], list[dict[str, Any]]]:
        self.batches += 1
        if self.batches == self.at:
            raise RuntimeError("killed mid-run")
        return super().handle(events, state)


def test_a_run_of_batches_commits_once_with_its_state(make_redis: MakeTransport) -> None:
    transport = make_redis(partitions=1, batch_size=4)
    assert isinstance(transport, RedisStreams)
    transport.publish(_events(2, 20))  # 40 events: 10 batches of one partition
    calls: list[int] = []
    commit_many = transport.commit_many

    def counted(batches: Any, state: Any, alerts: Any) -> None:
        calls.append(len(batches))
        commit_many(batches, state, alerts)

    transport.commit_many = counted  # type: ignore[method-assign]
    stats = StreamConsumer(transport, Recorder(), "c", min_idle_ms=100).run(idle_exit_s=0.3)
    assert stats.events == 40 and stats.batches == 10
    assert calls == [10]  # one commit for the partition's run, its state written once
    assert transport.checkpoint(0) == {"u0": 20, "u1": 20}
    assert len(transport.alerts()) == 8 and transport.backlog() == 0


def test_a_run_is_committed_whole_or_not_at_all(make_redis: MakeTransport) -> None:
    transport = make_redis(partitions=1, batch_size=4)
    assert isinstance(transport, RedisStreams)
    transport.publish(_events(2, 6))
    held = transport.read("zombie", [0], 100)
    assert len(held) == 3
    transport.claim("thief", [0], 0)  # all three claimed by another consumer meanwhile
    with pytest.raises(StaleBatch):
        transport.commit_many(held, {"u0": 999}, [{"late": True}])
    assert transport.checkpoint(0) == {} and transport.alerts() == []
    assert transport.pending([0], besides="zombie") == 3  # still the thief's, none acknowledged


def test_a_consumer_dying_mid_run_leaves_the_whole_run_to_its_replacement(
    make_redis: MakeTransport,
) -> None:
    transport = make_redis(partitions=1, batch_size=4)
    transport.publish(_events(2, 20))  # 10 batches
    dying = Failing(at=7)  # handles six batches, dies on the seventh: nothing committed
    with pytest.raises(RuntimeError, match="killed mid-run"):
        StreamConsumer(transport, dying, "first", min_idle_ms=100).run(idle_exit_s=0.3)
    assert len(dying.seen) == 24 and transport.checkpoint(0) == {}
    handler = Recorder()
    replacement = StreamConsumer(transport, handler, "second", min_idle_ms=100, claim_every_s=0.05)
    stats = replacement.run(idle_exit_s=1.0)
    assert stats.claimed == 10 and stats.events == 40
    assert [s for u, s in handler.seen if u == "u0"] == list(range(20))  # every event once, in order
    assert transport.checkpoint(0) == {"u0": 20, "u1": 20}  # counted once, not 20 + 6
    assert len(transport.alerts()) == 8 and transport.backlog() == 0


def test_batches_published_as_json_lines_before_are_still_read(make_redis: MakeTransport) -> None:
    transport = make_redis(partitions=1, batch_size=4)
    assert isinstance(transport, RedisStreams)
    old = b"\n".join(orjson.dumps({"user": "u0", "seq": s}) for s in range(3))
    transport.client.xadd(transport.key(0), {"n": 3, "e": old})
    transport.publish(_events(1, 5)[3:])  # then two in today's form (a JSON array)
    handler = Recorder()
    StreamConsumer(transport, handler, "c", min_idle_ms=100).run(idle_exit_s=0.3)
    assert handler.seen == [("u0", s) for s in range(5)]
    assert decode_events(encode_events([{"a": 1}, {"b": [2]}])) == [{"a": 1}, {"b": [2]}]


class Live:
    """A handler's live state object: serialized at the commit through ``to_dict``."""

    def __init__(self, count: int) -> None:
        self.count = count

    def to_dict(self) -> dict[str, int]:
        return {"count": self.count}


def test_state_objects_are_serialized_at_the_commit(make_redis: MakeTransport) -> None:
    transport = make_redis(partitions=1)
    assert dump_state(Live(3)) == b'{"count":3}'
    transport.save(0, {"u0": Live(4)}, [])
    assert transport.checkpoint(0) == {"u0": {"count": 4}}
    with pytest.raises(TypeError, match="not JSON serializable"):
        dump_state(object())
