"""Sigma on the stream: log events partitioned by host, matched by consumers of one group.

``bastion sigma run LOGS --stream URL`` publishes the events it reads (keyed by host, or by the
file when an event names no host, so one host's events stay in order); ``bastion sigma run
--stream URL --consumer I/N`` feeds the events of its partitions to the ordinary engine. Rule
matches need no state; a correlation's counters live in the consumer (one host's events all reach
the same consumer) and start empty after a restart: they are not checkpointed.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from bastion.detect.sigma.event import Event
from bastion.stream.base import PublishResult, Transport
from bastion.stream.consumer import ConsumerStats, StreamConsumer

__all__ = ["SIGMA_PREFIX", "consume_events", "event_of", "publish_events", "sigma_event_of"]

SIGMA_PREFIX = "bastion:logs"
CHUNK = 5000


def event_of(event: Event) -> dict[str, Any]:
    """A Sigma event as plain JSON values."""
    return {
        "raw": event.raw,
        "tags": [list(tag) for tag in event.tags],
        "ts": event.timestamp.timestamp() if event.timestamp is not None else None,
        "host": event.host,
        "source": event.source,
        "original": event.original,
    }


def sigma_event_of(data: dict[str, Any]) -> Event:
    """Inverse of :func:`event_of`."""
    ts = data.get("ts")
    return Event(
        data["raw"],
        tags=tuple((t[0], t[1], t[2]) for t in data.get("tags", ())),
        timestamp=datetime.fromtimestamp(float(ts), UTC) if ts is not None else None,
        host=str(data.get("host", "")),
        source=str(data.get("source", "")),
        original=data.get("original"),
    )


def _key(event: Event) -> str:
    return event.host or event.source.rsplit(":", 1)[0]


def publish_events(transport: Transport, events: Iterable[Event]) -> PublishResult:
    """Publish events keyed by host, in chunks; totals of accepted and dropped events."""
    total = PublishResult()
    chunk: list[tuple[str, dict[str, Any]]] = []
    for event in events:
        chunk.append((_key(event), event_of(event)))
        if len(chunk) >= CHUNK:
            result = transport.publish(chunk)
            total.accepted, total.dropped = total.accepted + result.accepted, total.dropped + result.dropped
            chunk = []
    if chunk:
        result = transport.publish(chunk)
        total.accepted, total.dropped = total.accepted + result.accepted, total.dropped + result.dropped
    return total


def consume_events(
    transport: Transport, index: int, count: int, idle_exit_s: float | None, stats: list[ConsumerStats]
) -> Iterator[Event]:
    """The events of consumer ``index`` of ``count``, each batch committed once all its events
    were taken (``stats`` receives the consumer's counters)."""
    consumer = StreamConsumer(transport, None, f"{socket.gethostname()}:{os.getpid()}:{index}", index, count)
    stats.append(consumer.stats)
    for data in consumer.events(idle_exit_s=idle_exit_s):
        yield sigma_event_of(data)
