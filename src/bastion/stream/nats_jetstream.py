"""NATS JetStream transport: one subject and one durable pull consumer per partition, bounded.

Names (``T`` the prefix made a NATS token): stream ``T`` with subjects ``T.p.<n>`` (each message a
batch of events as JSON lines), work-queue retention (an acknowledged batch is deleted, so a
subject's length is its backlog) and at most ``max_batches`` messages a subject with *discard
new per subject*: the server refuses a batch for a full partition and the publisher counts its
events as dropped (key ``dropped`` of the checkpoint bucket). Durable ``T_p<n>`` filters
``T.p.<n>`` with ``max_ack_pending`` 1: nothing newer of a partition is handed out while a batch
of it is unacknowledged, so one entity's events are never reordered, and a dead consumer's batch
is redelivered by the server once ``ack_wait_ms`` passed (:meth:`claim` returns such
redeliveries).

JetStream has no transaction over several subjects, so the commit is made idempotent instead.
Checkpoints live in the key-value bucket ``T_ckpt``: one key per entity (``e.<n>.<base64>``,
holding the batch that wrote it, the new value and the value before) and a partition marker
(``m.<n>``: the last committed batch). A commit writes the entities (compare-and-set on the
revisions read), publishes the alerts (message ids ``<n>.<batch>.<i>``: JetStream drops a
repeat within its duplicate window), moves the marker (compare-and-set: the commit point) and
acknowledges. Whoever loads a checkpoint takes an entity's value *before* when it was written by
a batch past the marker (a commit that died half-way), and a batch at or below the marker is
acknowledged and skipped when delivered again. A consumer thought dead that commits late fails a
compare-and-set: :class:`~bastion.stream.base.StaleBatch`.

nats-py is asynchronous; this class runs its own event loop on a daemon thread.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import threading
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DiscardPolicy, RetentionPolicy, StreamConfig
from nats.js.kv import KeyValue

from bastion.stream.base import (
    Batch,
    PublishResult,
    StaleBatch,
    decode_events,
    dump_state,
    encode_events,
    partition_of,
)
from bastion.stream.redis_streams import StreamUnavailable

__all__ = ["NatsJetStream"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_LOST = (nats.errors.ConnectionClosedError, nats.errors.NoServersError, nats.errors.OutboundBufferLimitError)
_EMPTY = (nats.errors.TimeoutError, asyncio.TimeoutError, nats.js.errors.FetchTimeoutError)
QUICK_POLL_S = 0.005
"""How long a read waits for each partition's next batch first (a batch there comes at once; a
batch that comes later waits in the subscription for the next read: it is not lost)."""
IDLE_POLL_S = 0.05
"""Then, with nothing anywhere, how long each poll waits until the read's ``block_ms``."""
_FULL = 10077
"""JetStream's error code for a publish refused by a full subject (maximum messages per subject)."""


def _token(prefix: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", prefix)


def _entity_key(partition: int, entity: str) -> str:
    code = base64.urlsafe_b64encode(entity.encode("utf-8", "surrogatepass")).decode().rstrip("=")
    return f"e.{partition}.{code or '_'}"


def _entity_of(key: str) -> str:
    code = key.split(".", 2)[2]
    if code == "_":
        return ""
    return base64.urlsafe_b64decode(code + "=" * (-len(code) % 4)).decode("utf-8", "surrogatepass")


@dataclass
class _Partition:
    """What this process knows of a partition's checkpoint: the marker and each entity's
    revision and committed value (JSON, or None when removed)."""

    marker: int = 0
    marker_rev: int = 0
    entities: dict[str, tuple[int, bytes | None]] = field(default_factory=dict)
    held: dict[int, tuple[str, Msg]] = field(default_factory=dict)
    """Delivered batches not committed yet, by stream sequence: the consumer and the message."""


class NatsJetStream:
    """The :class:`~bastion.stream.base.Transport` on NATS JetStream (see the module's notes)."""

    def __init__(
        self,
        url: str,
        prefix: str = "bastion:events",
        partitions: int = 16,
        *,
        batch_size: int = 500,
        max_batches: int = 10_000,
        ack_wait_ms: int = 5000,
        retries: int = 5,
        timeout_s: float = 10.0,
        connect_s: float = 6.0,
    ) -> None:
        if partitions < 1 or batch_size < 1 or max_batches < 1 or ack_wait_ms < 1:
            raise ValueError("partitions, batch_size, max_batches and ack_wait_ms must be positive")
        self.url = url
        self.token = _token(prefix)
        self.partitions = partitions
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.ack_wait_ms = ack_wait_ms
        self.retries = retries
        self.timeout_s = timeout_s
        self.connect_s = connect_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-jetstream", daemon=True)
        self._thread.start()
        self._parts: dict[int, _Partition] = {}
        self._stash: list[Batch] = []
        self._subs: dict[int, JetStreamContext.PullSubscription] = {}
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._kv: KeyValue | None = None

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "bastion:events", partitions: int = 16, **options: Any
    ) -> NatsJetStream:
        """Connect to ``url`` and create the stream, consumers and bucket (idempotent);
        :class:`StreamUnavailable` when the broker does not answer."""
        transport = cls(url, prefix, partitions, **options)
        try:
            transport._run(transport._setup())
        except BaseException:
            transport.close()
            raise
        return transport

    # -- plumbing -------------------------------------------------------------------------------

    def _run(self, coro: Awaitable[T], what: str = "call") -> T:
        async def wrapped() -> T:
            return await coro

        future = asyncio.run_coroutine_threadsafe(wrapped(), self._loop)
        try:
            return future.result(self.timeout_s * 3)
        except _LOST as exc:
            raise StreamUnavailable(f"stream broker lost ({what}): {type(exc).__name__}") from None

    def _retry(self, what: str, make: Any) -> Any:
        """Run the coroutine ``make()`` builds; on a lost connection retry with backoff."""
        delay = 0.1
        for attempt in range(self.retries + 1):
            try:
                return self._run(make(), what)
            except (TimeoutError, StreamUnavailable, nats.errors.TimeoutError) as exc:
                if attempt == self.retries:
                    raise StreamUnavailable(f"stream broker lost ({what}): {exc}") from None
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _setup(self) -> None:
        async def quiet(exc: Exception) -> None:
            log.warning("stream broker: %s: %s", type(exc).__name__, exc)

        try:  # reconnects without end once connected; the first connection gets a deadline
            self._nc = await asyncio.wait_for(
                nats.connect(
                    self.url,
                    connect_timeout=3,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    error_cb=quiet,
                ),
                timeout=self.connect_s,
            )
        except (TimeoutError, OSError, *_LOST, nats.errors.TimeoutError) as exc:
            raise StreamUnavailable(f"stream broker unavailable: {type(exc).__name__}: {exc}") from None
        self._js = self._nc.jetstream(timeout=self.timeout_s)
        config = StreamConfig(
            name=self.token,
            subjects=[f"{self.token}.p.*"],
            retention=RetentionPolicy.WORK_QUEUE,
            max_msgs_per_subject=self.max_batches,
            discard=DiscardPolicy.NEW,
            discard_new_per_subject=True,
        )
        try:
            await self._js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await self._js.update_stream(config)
        await self._js.add_stream(
            StreamConfig(
                name=f"{self.token}_alerts", subjects=[f"{self.token}.alerts.*"], duplicate_window=600
            )
        )
        self._kv = await self._js.create_key_value(bucket=f"{self.token}_ckpt", history=1)
        for partition in range(self.partitions):
            durable = f"{self.token}_p{partition}"
            self._subs[partition] = await self._js.pull_subscribe(
                f"{self.token}.p.{partition}",
                durable=durable,
                stream=self.token,
                config=ConsumerConfig(
                    durable_name=durable,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.ack_wait_ms / 1000,
                    max_ack_pending=1,
                    max_deliver=-1,
                ),
            )

    @property
    def js(self) -> JetStreamContext:
        """The JetStream context (after :meth:`from_url`)."""
        if self._js is None:
            raise StreamUnavailable("stream broker not connected")
        return self._js

    @property
    def kv(self) -> KeyValue:
        """The checkpoint bucket (after :meth:`from_url`)."""
        if self._kv is None:
            raise StreamUnavailable("stream broker not connected")
        return self._kv

    def close(self) -> None:
        """Close the connection and stop the event loop."""
        if self._nc is not None and not self._nc.is_closed:
            nc = self._nc
            try:
                asyncio.run_coroutine_threadsafe(nc.close(), self._loop).result(5)
            except (TimeoutError, *_LOST):
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    def _part(self, partition: int) -> _Partition:
        return self._parts.setdefault(partition, _Partition())

    # -- publish --------------------------------------------------------------------------------

    def publish(self, keyed: Sequence[tuple[str, Mapping[str, Any]]]) -> PublishResult:
        """Publish batches per partition, in order (partitions in parallel); a full partition's
        batches are refused by the server, their events dropped and counted."""
        groups: dict[int, list[Mapping[str, Any]]] = {}
        for key, event in keyed:
            groups.setdefault(partition_of(key, self.partitions), []).append(event)
        result = PublishResult()
        if not groups:
            return result

        async def one(partition: int, events: list[Mapping[str, Any]]) -> tuple[int, int, int]:
            kept = batches = 0
            for start in range(0, len(events), self.batch_size):
                chunk = events[start : start + self.batch_size]
                body = encode_events(chunk)
                try:
                    await self.js.publish(f"{self.token}.p.{partition}", body, stream=self.token)
                except nats.js.errors.APIError as exc:
                    if exc.err_code != _FULL:
                        raise
                    return kept, batches, len(events) - kept  # drop-newest: the rest of it too
                kept += len(chunk)
                batches += 1
            return kept, batches, 0

        async def every() -> list[tuple[int, int, int]]:
            return list(await asyncio.gather(*(one(p, groups[p]) for p in sorted(groups))))

        outcome = self._retry("publish", every)
        for partition, (kept, batches, dropped) in zip(sorted(groups), outcome, strict=True):
            result.accepted += kept
            result.batches += batches
            result.dropped += dropped
            result.per_partition[partition] = kept
        if result.dropped:
            self._retry("count drops", lambda: self._add_dropped(result.dropped))
        return result

    async def _add_dropped(self, count: int) -> None:
        while True:
            try:
                entry = await self.kv.get("dropped")
                value = int(entry.value or b"0") + count
                await self.kv.update("dropped", str(value).encode(), last=entry.revision)
                return
            except nats.js.errors.KeyNotFoundError:
                try:
                    await self.kv.create("dropped", str(count).encode())
                    return
                except nats.js.errors.KeyWrongLastSequenceError:
                    continue
            except nats.js.errors.KeyWrongLastSequenceError:
                continue

    def dropped(self) -> int:
        """Events refused so far because their partition was full."""

        async def get() -> int:
            try:
                entry = await self.kv.get("dropped")
            except nats.js.errors.KeyNotFoundError:
                return 0
            return int(entry.value or b"0")

        return int(self._retry("dropped", get))

    # -- consume --------------------------------------------------------------------------------

    async def _fetch(self, partition: int, wait_s: float) -> Msg | None:
        try:
            msgs = await self._subs[partition].fetch(1, timeout=wait_s)
        except _EMPTY:
            return None
        return msgs[0] if msgs else None

    async def _marker(self, partition: int) -> tuple[int, int]:
        try:
            entry = await self.kv.get(f"m.{partition}")
        except nats.js.errors.KeyNotFoundError:
            return 0, 0
        return int(orjson.loads(entry.value or b"{}").get("s", 0)), int(entry.revision or 0)

    async def _poll(self, consumer: str, partitions: Sequence[int], wait_s: float) -> list[Batch]:
        msgs = await asyncio.gather(*(self._fetch(p, wait_s) for p in partitions))
        batches = []
        for partition, msg in zip(partitions, msgs, strict=True):
            if msg is None:
                continue
            seq = msg.metadata.sequence.stream
            part = self._part(partition)
            if seq <= part.marker:
                part.marker, part.marker_rev = await self._marker(partition)
            if seq <= part.marker:  # committed before, its acknowledgement lost: done already
                await msg.ack()
                continue
            part.held[seq] = (consumer, msg)
            events = decode_events(msg.data)
            batches.append(Batch(partition, str(seq), events, consumer, msg.metadata.num_delivered))
        return batches

    def read(self, consumer: str, partitions: Sequence[int], block_ms: int) -> list[Batch]:
        """Batches of ``partitions`` (at most one each: one unacknowledged batch per partition):
        what is there at once, else what comes within ``block_ms`` (polls of 50 ms)."""
        if self._stash:
            stashed, self._stash = self._stash, []
            return stashed
        if not partitions:
            time.sleep(block_ms / 1000)
            return []
        deadline = time.monotonic() + block_ms / 1000
        wait_s = QUICK_POLL_S  # a partition with a batch answers at once: do not wait for the empty ones
        while True:
            batches: list[Batch] = self._retry("read", lambda w=wait_s: self._poll(consumer, partitions, w))
            if batches or time.monotonic() >= deadline:
                return batches
            wait_s = IDLE_POLL_S

    def claim(self, consumer: str, partitions: Sequence[int], min_idle_ms: int) -> list[Batch]:
        """Batches the server delivers again (their consumer died and ``ack_wait_ms`` passed; the
        server's setting stands in for ``min_idle_ms``); first deliveries wait for :meth:`read`."""
        del min_idle_ms
        if not partitions:
            return []
        fetched: list[Batch] = self._retry("claim", lambda: self._poll(consumer, partitions, QUICK_POLL_S))
        self._stash.extend(b for b in fetched if b.deliveries == 1)
        return [b for b in fetched if b.deliveries > 1]

    def pending(self, partitions: Sequence[int], *, besides: str) -> int:
        """0: with one unacknowledged batch a partition, the server hands out nothing newer while
        another consumer holds one, so there is nothing to wait for here."""
        del partitions, besides
        return 0

    # -- checkpoints ----------------------------------------------------------------------------

    def checkpoint(self, partition: int) -> dict[str, Any]:
        """Every entity's committed state in ``partition`` (a half-done commit's writes undone)."""

        async def load() -> dict[str, Any]:
            part = self._part(partition)
            part.marker, part.marker_rev = await self._marker(partition)
            part.entities.clear()
            state: dict[str, Any] = {}
            try:
                every = await self.kv.keys()  # filtered here: servers before 2.10 ignore filters
            except nats.js.errors.NoKeysError:
                return state
            keys = [key for key in every if key.startswith(f"e.{partition}.")]
            for start in range(0, len(keys), 256):
                chunk = keys[start : start + 256]
                entries = await asyncio.gather(*(self.kv.get(key) for key in chunk))
                for key, entry in zip(chunk, entries, strict=True):
                    record = orjson.loads(entry.value or b"{}")
                    value = record.get("p") if int(record.get("s", 0)) > part.marker else record.get("v")
                    entity = _entity_of(key)
                    part.entities[entity] = (
                        int(entry.revision or 0),
                        orjson.dumps(value) if value is not None else None,
                    )
                    if value is not None:
                        state[entity] = value
            return state

        return dict(self._retry("checkpoint", load))

    async def _write_entities(self, partition: int, seq: int, state: Mapping[str, Any]) -> None:
        part = self._part(partition)

        async def one(entity: str, value: Any) -> tuple[str, int, bytes | None]:
            revision, before = part.entities.get(entity, (0, None))
            new = dump_state(value) if value is not None else None
            body = b'{"s":%d,"v":%s,"p":%s}' % (seq, new or b"null", before or b"null")
            key = _entity_key(partition, entity)
            try:
                if revision:
                    written = await self.kv.update(key, body, last=revision)
                else:
                    written = await self.kv.create(key, body)
            except nats.js.errors.KeyWrongLastSequenceError:
                raise StaleBatch(
                    f"entity state of partition {partition} was written by another consumer"
                ) from None
            return entity, written, new

        done = await asyncio.gather(*(one(e, v) for e, v in state.items()), return_exceptions=True)
        failed = None
        for item in done:
            if isinstance(item, BaseException):
                failed = failed or item
            else:
                entity, revision, value = item
                part.entities[entity] = (revision, value)
        if failed is not None:
            raise failed

    async def _commit(
        self, batch: Batch, state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]], ack: bool
    ) -> None:
        partition = batch.partition
        part = self._part(partition)
        seq = int(batch.id)
        owner = part.held.get(seq)
        if owner is None or owner[0] != batch.consumer or seq <= part.marker:
            raise StaleBatch(f"batch {batch.id} of partition {partition} was claimed by another consumer")
        await self._write_entities(partition, seq, state)
        for i, alert in enumerate(alerts):
            await self.js.publish(
                f"{self.token}.alerts.{partition}",
                orjson.dumps(alert),
                stream=f"{self.token}_alerts",
                headers={"Nats-Msg-Id": f"{partition}.{seq}.{i}"},
            )
        marker = b'{"s":%d}' % seq
        try:
            if part.marker_rev:
                part.marker_rev = await self.kv.update(f"m.{partition}", marker, last=part.marker_rev)
            else:
                part.marker_rev = await self.kv.create(f"m.{partition}", marker)
        except nats.js.errors.KeyWrongLastSequenceError:
            raise StaleBatch(
                f"batch {batch.id} of partition {partition} was committed by another consumer"
            ) from None
        part.marker = seq
        del part.held[seq]
        if ack:
            await owner[1].ack()

    def commit(self, batch: Batch, state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]) -> None:
        """Write the entities, publish the alerts, move the marker, acknowledge (see the module's
        notes); :class:`StaleBatch` when another consumer committed meanwhile."""
        try:
            self._retry("commit", lambda: self._commit(batch, state, alerts, True))
        except StaleBatch:
            part = self._part(batch.partition)
            if part.held.get(int(batch.id), ("",))[0] == batch.consumer:
                del part.held[int(batch.id)]
            part.entities.clear()
            part.marker = part.marker_rev = 0
            raise

    def save(self, partition: int, state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]) -> None:
        """Write entities and alerts outside a batch: as a commit of the marker's own batch
        (idempotent; not atomic: a crash half-way leaves some entities written)."""
        part = self._part(partition)
        if not state and not alerts:
            return
        batch = Batch(partition, str(part.marker), [], "save")

        async def write() -> None:
            await self._write_entities(partition, part.marker, state)
            for i, alert in enumerate(alerts):
                await self.js.publish(
                    f"{self.token}.alerts.{partition}",
                    orjson.dumps(alert),
                    stream=f"{self.token}_alerts",
                    headers={"Nats-Msg-Id": f"{partition}.{batch.id}.end.{i}"},
                )

        self._retry("save", write)

    # -- reports --------------------------------------------------------------------------------

    def backlog(self) -> int:
        """Batches published and not committed yet, over every partition."""

        async def count() -> int:
            info = await self.js.stream_info(self.token)
            return int(info.state.messages)

        return int(self._retry("backlog", count))

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert published so far, partition by partition."""

        async def every() -> list[dict[str, Any]]:
            info = await self.js.stream_info(f"{self.token}_alerts")
            found: list[tuple[int, dict[str, Any]]] = []
            if not info.state.messages:
                return []
            for seq in range(max(1, int(info.state.first_seq)), int(info.state.last_seq) + 1):
                try:
                    msg = await self.js.get_msg(f"{self.token}_alerts", seq)
                except nats.js.errors.NotFoundError:
                    continue
                partition = int((msg.subject or "").rsplit(".", 1)[1])
                found.append((partition, orjson.loads(msg.data or b"{}")))
            return [alert for _, alert in sorted(found, key=lambda item: item[0])]

        return list(self._retry("alerts", every))

    def destroy(self) -> None:
        """Delete the streams and the bucket (tests, benchmarks)."""

        async def drop() -> None:
            for name in (self.token, f"{self.token}_alerts"):
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await self.js.delete_stream(name)
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self.js.delete_key_value(f"{self.token}_ckpt")

        self._retry("destroy", drop)
