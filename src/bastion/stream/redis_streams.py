"""Redis Streams transport: one stream per partition, one consumer group, bounded length.

Keys (``P`` the prefix, ``n`` a partition): ``P:p:{n}`` the stream (each entry a batch: ``n``
events as one JSON array in field ``e``; JSON lines, as published before, are read too),
``P:ckpt:n`` a hash of per-entity state (JSON per entity), ``P:alerts:n`` the partition's alerts,
``P:dropped`` the count of refused events. A committed batch is acknowledged *and deleted* (XACK +
XDEL in the commit's script; :meth:`RedisStreams.commit_many` does it for a run of batches of one
partition with their state written once), so a partition's length is its
backlog, and the bound applies to what is not processed yet: a publisher refuses (and counts)
events for a partition already holding ``max_batches`` entries — drop-newest, never an unbounded
queue in memory. Several publishers may overshoot the bound by one pipeline each.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import redis

from bastion.errors import BastionError
from bastion.stream.base import (
    Batch,
    PublishResult,
    StaleBatch,
    decode_events,
    dump_state,
    encode_events,
    partition_of,
)

__all__ = ["RedisStreams", "StaleBatch", "StreamUnavailable"]

GROUP = "detectors"

_COMMIT_MANY = """
local ids = tonumber(ARGV[3])
for n = 1, ids do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3 + n], ARGV[3 + n], 1)
  if #pending == 0 or pending[1][2] ~= ARGV[2] then
    return 0
  end
end
for n = 1, ids do
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[3 + n])
  redis.call('XDEL', KEYS[1], ARGV[3 + n])
end
local i = 4 + ids
local entities = tonumber(ARGV[i])
i = i + 1
for _ = 1, entities do
  if ARGV[i + 1] == 'null' then
    redis.call('HDEL', KEYS[2], ARGV[i])
  else
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  end
  i = i + 2
end
while i <= #ARGV do
  redis.call('XADD', KEYS[3], '*', 'a', ARGV[i])
  i = i + 1
end
return 1
"""


class StreamUnavailable(BastionError):
    """The stream broker cannot be reached (after the retries)."""


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisStreams:
    """The :class:`~bastion.stream.base.Transport` on Redis Streams."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "bastion:events",
        partitions: int = 16,
        *,
        batch_size: int = 500,
        max_batches: int = 10_000,
        retries: int = 5,
    ) -> None:
        if partitions < 1 or batch_size < 1 or max_batches < 1:
            raise ValueError("partitions, batch_size and max_batches must be positive")
        self.client = client
        self.prefix = prefix
        self.partitions = partitions
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.retries = retries
        self.dropped_key = f"{prefix}:dropped"
        self._commit_many = client.register_script(_COMMIT_MANY)

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "bastion:events", partitions: int = 16, **options: Any
    ) -> RedisStreams:
        """Connect to ``url`` and create the consumer groups; :class:`StreamUnavailable` when the
        broker does not answer."""
        client = redis.Redis.from_url(url, socket_connect_timeout=3, health_check_interval=30)
        transport = cls(client, prefix, partitions, **options)
        transport.ensure_groups()
        return transport

    def key(self, partition: int) -> str:
        """The stream of ``partition`` (``{n}``: a partition's keys share a Redis Cluster slot)."""
        return f"{self.prefix}:p:{{{partition}}}"

    def _ckpt(self, partition: int) -> str:
        return f"{self.prefix}:ckpt:{{{partition}}}"

    def _alerts(self, partition: int) -> str:
        return f"{self.prefix}:alerts:{{{partition}}}"

    def _retry(self, what: str, call: Any) -> Any:
        """Run ``call``; on a lost connection retry with backoff (0.1 s doubling to 5 s)."""
        delay = 0.1
        for attempt in range(self.retries + 1):
            try:
                return call()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if attempt == self.retries:
                    raise StreamUnavailable(f"stream broker lost ({what}): {exc}") from None
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def ensure_groups(self) -> None:
        """Create every partition's stream and consumer group (idempotent)."""

        def create() -> None:
            for partition in range(self.partitions):
                try:
                    self.client.xgroup_create(self.key(partition), GROUP, id="0", mkstream=True)
                except redis.ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise

        self._retry("create groups", create)

    def publish(self, keyed: Sequence[tuple[str, Mapping[str, Any]]]) -> PublishResult:
        """Append events in batches per partition; a full partition's events are dropped and counted."""
        groups: dict[int, list[Mapping[str, Any]]] = {}
        for key, event in keyed:
            groups.setdefault(partition_of(key, self.partitions), []).append(event)
        result = PublishResult()
        if not groups:
            return result
        order = sorted(groups)

        def lengths() -> list[int]:
            pipe = self.client.pipeline(transaction=False)
            for partition in order:
                pipe.xlen(self.key(partition))
            return [int(n) for n in pipe.execute()]

        backlog = dict(zip(order, self._retry("publish", lengths), strict=True))
        pipe = self.client.pipeline(transaction=False)
        dropped = 0
        for partition in order:
            events = groups[partition]
            room = max(0, self.max_batches - backlog[partition]) * self.batch_size
            kept, refused = events[:room], events[room:]
            dropped += len(refused)
            for start in range(0, len(kept), self.batch_size):
                chunk = kept[start : start + self.batch_size]
                body = encode_events(chunk)
                pipe.xadd(self.key(partition), {"n": len(chunk), "e": body})
                result.batches += 1
            result.accepted += len(kept)
            result.per_partition[partition] = len(kept)
        if dropped:
            pipe.incrby(self.dropped_key, dropped)
        self._retry("publish", pipe.execute)
        result.dropped = dropped
        return result

    def _batches(self, partition: int, entries: Sequence[Any], deliveries: int, consumer: str) -> list[Batch]:
        batches = []
        for entry_id, fields in entries:
            if not fields:  # deleted while pending: committed by a consumer thought dead
                self._retry("ack", lambda i=entry_id: self.client.xack(self.key(partition), GROUP, i))
                continue
            events = decode_events(fields.get(b"e", b""))
            batches.append(Batch(partition, _decode(entry_id), events, consumer, deliveries))
        return batches

    def read(self, consumer: str, partitions: Sequence[int], block_ms: int) -> list[Batch]:
        """Own pending batches first (a restarted consumer of the same name), then new ones."""
        if not partitions:
            time.sleep(block_ms / 1000)
            return []
        own = self._retry(
            "read",
            lambda: self.client.xreadgroup(GROUP, consumer, {self.key(p): "0" for p in partitions}, count=64),
        )
        batches = self._from_reply(own, 2, consumer)
        if batches:
            return batches
        fresh = self._retry(
            "read",
            lambda: self.client.xreadgroup(
                GROUP, consumer, {self.key(p): ">" for p in partitions}, count=64, block=block_ms or None
            ),
        )
        return self._from_reply(fresh, 1, consumer)

    def _from_reply(self, reply: Any, deliveries: int, consumer: str) -> list[Batch]:
        batches: list[Batch] = []
        for stream, entries in reply or []:
            partition = int(_decode(stream).rsplit(":", 1)[1].strip("{}"))
            batches.extend(self._batches(partition, entries, deliveries, consumer))
        return batches

    def claim(self, consumer: str, partitions: Sequence[int], min_idle_ms: int) -> list[Batch]:
        """XAUTOCLAIM every partition's batches idle for ``min_idle_ms``, in id order."""
        batches: list[Batch] = []
        for partition in partitions:
            start = "0-0"
            while True:
                reply = self._retry(
                    "claim",
                    lambda p=partition, s=start: self.client.xautoclaim(
                        self.key(p), GROUP, consumer, min_idle_ms, start_id=s, count=100
                    ),
                )
                next_id, entries = reply[0], reply[1]
                batches.extend(self._batches(partition, entries, 2, consumer))
                if _decode(next_id) == "0-0":
                    break
                start = _decode(next_id)
        return batches

    def pending(self, partitions: Sequence[int], *, besides: str) -> int:
        """Batches of ``partitions`` delivered to consumers other than ``besides`` and not committed."""

        def count() -> int:
            total = 0
            for partition in partitions:
                summary = self.client.xpending(self.key(partition), GROUP)
                for entry in summary.get("consumers") or []:
                    if _decode(entry["name"]) != besides:
                        total += int(entry["pending"])
            return total

        return int(self._retry("pending", count))

    def commit(self, batch: Batch, state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]) -> None:
        """One Lua script (atomic): if ``batch`` is still this consumer's, XACK + XDEL it, HSET the
        changed entities' state (HDEL where None) and XADD the alerts; else :class:`StaleBatch`
        (another consumer claimed it: this one was thought dead, and must not apply it twice)."""
        self.commit_many([batch], state, alerts)

    def commit_many(
        self, batches: Sequence[Batch], state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]
    ) -> None:
        """:meth:`commit` for several batches of one partition in one Lua script: every batch
        must still be its consumer's, else :class:`StaleBatch` and nothing is applied."""
        if not batches:
            return
        first = batches[0]
        if any(b.partition != first.partition or b.consumer != first.consumer for b in batches):
            raise ValueError("commit_many: batches of one partition and one consumer only")
        args: list[Any] = [GROUP, first.consumer, len(batches), *(b.id for b in batches), len(state)]
        for entity, value in state.items():
            args += [entity, dump_state(value)]
        args += [orjson.dumps(alert) for alert in alerts]
        keys = [self.key(first.partition), self._ckpt(first.partition), self._alerts(first.partition)]
        done = self._retry("commit", lambda: self._commit_many(keys=keys, args=args))
        if not done:
            which = f"batch {first.id}" if len(batches) == 1 else f"a batch of {len(batches)}"
            raise StaleBatch(f"{which} of partition {first.partition} was claimed by another consumer")

    def save(self, partition: int, state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]) -> None:
        """One MULTI/EXEC: HSET (HDEL for None) the entities' state and XADD the alerts."""
        pipe = self.client.pipeline(transaction=True)
        for entity, value in state.items():
            if value is None:
                pipe.hdel(self._ckpt(partition), entity)
            else:
                pipe.hset(self._ckpt(partition), entity, dump_state(value))
        for alert in alerts:
            pipe.xadd(self._alerts(partition), {"a": orjson.dumps(alert)})
        if state or alerts:
            self._retry("save", pipe.execute)

    def checkpoint(self, partition: int) -> dict[str, Any]:
        """Every entity's committed state in ``partition``."""
        raw = self._retry("checkpoint", lambda: self.client.hgetall(self._ckpt(partition)))
        return {_decode(entity): orjson.loads(value) for entity, value in raw.items()}

    def dropped(self) -> int:
        """Events refused so far because their partition was full."""
        return int(self._retry("dropped", lambda: self.client.get(self.dropped_key)) or 0)

    def backlog(self) -> int:
        """Batches published and not committed yet, over every partition."""

        def lengths() -> int:
            pipe = self.client.pipeline(transaction=False)
            for partition in range(self.partitions):
                pipe.xlen(self.key(partition))
            return sum(int(n) for n in pipe.execute())

        return int(self._retry("backlog", lengths))

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert published so far, partition by partition (for reports and tests; a reader
        of alerts would XREAD the partitions' alert streams)."""
        found: list[dict[str, Any]] = []
        for partition in range(self.partitions):
            entries = self._retry("alerts", lambda p=partition: self.client.xrange(self._alerts(p)))
            found.extend(orjson.loads(fields[b"a"]) for _id, fields in entries)
        return found
