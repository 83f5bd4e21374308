"""The stream transport seam: what ingest publishes to and detectors consume from.

Events are partitioned by an entity key (a user, a host), so one entity's events stay in one
partition, in order. A consumer owns some partitions and reads them in *batches* (one stream
entry carries up to a few hundred events: the per-message cost of the broker is paid once per
batch). :meth:`Transport.commit` acknowledges a batch, writes the changed per-entity state and
publishes the batch's alerts in one atomic step, so a consumer that dies at any point either
committed the batch (it is never seen again) or did not (it is claimed again by its replacement,
and processed from the state of the last commit): no event is lost or counted twice.

Implementation: :class:`bastion.stream.redis_streams.RedisStreams` (Redis Streams, consumer
groups, XAUTOCLAIM); with no broker configured the detectors read files in-process as before. A
Kafka-API broker fits the same methods (partitions are Kafka partitions, the commit is a
transactional produce of the alerts plus the offsets, the checkpoints a compacted topic keyed by
entity); no Kafka broker installs on this machine kind, so none ships untested.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson

from bastion.errors import BastionError

__all__ = [
    "Batch",
    "GroupCommit",
    "PublishResult",
    "StaleBatch",
    "Transport",
    "decode_events",
    "dump_state",
    "encode_events",
    "partition_of",
]


class StaleBatch(BastionError):
    """A batch this consumer held was claimed by another one meanwhile: not committed here."""


def partition_of(key: str, partitions: int) -> int:
    """The partition of an entity key (CRC-32: the same in every process and language)."""
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % partitions


def encode_events(events: Sequence[Mapping[str, Any]]) -> bytes:
    """A batch's body: its events as one JSON array (one encoder call for the batch)."""
    return orjson.dumps(list(events))


def decode_events(body: bytes) -> list[Any]:
    """The events of a batch's body: a JSON array, or (as published before) JSON lines."""
    if not body:
        return []
    if body[:1] == b"[":
        events: list[Any] = orjson.loads(body)
        return events
    return [orjson.loads(line) for line in body.split(b"\n")]


def _plain(value: object) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dump_state(value: Any) -> bytes:
    """An entity's state as JSON: plain JSON values, or an object with ``to_dict()`` (a handler
    may keep its live object in the state; it is serialized once, at the commit)."""
    return orjson.dumps(value, default=_plain)


@dataclass(frozen=True)
class Batch:
    """Events of one partition delivered together."""

    partition: int
    id: str
    """The transport's id of the batch (a Redis stream entry id)."""
    events: list[dict[str, Any]]
    consumer: str
    """The consumer it was delivered to (only it may commit it)."""
    deliveries: int = 1
    """How often it was delivered (more than one: claimed from a consumer that died)."""


@dataclass
class PublishResult:
    """What a publish did."""

    accepted: int = 0
    dropped: int = 0
    """Events refused because their partition was full (back-pressure: counted, reported)."""
    batches: int = 0
    per_partition: dict[int, int] = field(default_factory=dict)


class Transport(Protocol):
    """A partitioned, bounded event stream with consumer groups and per-entity checkpoints."""

    partitions: int

    def publish(self, keyed: Sequence[tuple[str, Mapping[str, Any]]]) -> PublishResult:
        """Append ``(entity key, event)`` pairs, in order per key; full partitions drop and count."""
        ...

    def read(self, consumer: str, partitions: Sequence[int], block_ms: int) -> list[Batch]:
        """Batches of ``partitions`` not yet delivered to the group, waiting up to ``block_ms``;
        batches ``consumer`` was given before and did not commit come first."""
        ...

    def claim(self, consumer: str, partitions: Sequence[int], min_idle_ms: int) -> list[Batch]:
        """Take over uncommitted batches of ``partitions`` idle for ``min_idle_ms`` (their consumer
        died)."""
        ...

    def pending(self, partitions: Sequence[int], *, besides: str) -> int:
        """Batches of ``partitions`` delivered to other consumers and not committed (a dead
        consumer's: claim them before reading new ones, or an entity's events reorder)."""
        ...

    def commit(self, batch: Batch, state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]) -> None:
        """Atomically: acknowledge ``batch``, store the changed per-entity ``state`` (an entity
        whose value is None is removed) and publish ``alerts``."""
        ...

    def save(self, partition: int, state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]) -> None:
        """Store changed per-entity ``state`` and publish ``alerts`` outside any batch (a consumer
        closing what it still holds at the end of its run)."""
        ...

    def checkpoint(self, partition: int) -> dict[str, Any]:
        """The per-entity state of ``partition`` as last committed."""
        ...


@runtime_checkable
class GroupCommit(Protocol):
    """A transport that commits several batches of one partition as one atomic step."""

    def commit_many(
        self, batches: Sequence[Batch], state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]
    ) -> None:
        """Atomically: acknowledge every batch of ``batches`` (all of one partition, all still
        held by their consumer, else :class:`StaleBatch` and nothing applied), store ``state``
        and publish ``alerts``."""
        ...
