"""``bastion watch`` on the stream: log records partitioned by entity, open sessions checkpointed.

:func:`publish_records` is the ingest side: parsed log records keyed by the model's session entity
(the host, a user, a block id...; the source file when a line names none), so one entity's lines
stay in one partition, in order. :class:`WatchHandler` is the detector side: a trained
:class:`~bastion.detect.logs.pipeline.Detector` behind the consumer's
:class:`~bastion.stream.consumer.Handler` seam. The per-entity state is the entity's *open
sessions* (event ids, times, evidence): written back with the commit of every batch that touched
the entity, removed (``None``) once its sessions closed and were judged, and loaded again by a
restarted consumer, which goes on from the last acknowledged batch. The partition's watermark
(the newest time stamp seen) is kept beside them under a reserved key.

Sessions close as in one process: when their time window passed the watermark, or when more than
the sessionizer's bound are open; at the end of a run (``--idle-exit``) the consumer judges what
is still open and commits the emptied state (:meth:`WatchHandler.flush`). The time-window layer
(new errors, bursts, silences) needs the whole stream in time order: on the stream it is off, and
the consumer says so.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bastion.detect.ingest.records import Record
from bastion.detect.logs.features import Session, Sessionizer
from bastion.detect.logs.pipeline import Detector
from bastion.findings import Alert
from bastion.stream.base import PublishResult, Transport
from bastion.stream.consumer import ConsumerStats, StreamConsumer

__all__ = [
    "WATCH_PREFIX",
    "WatchHandler",
    "entity_of",
    "publish_records",
    "record_event",
    "record_of",
    "run_watch_consumer",
    "session_from_dict",
    "session_to_dict",
]

WATCH_PREFIX = "bastion:watch"
CHUNK = 5000
WATERMARK = "__watermark"
"""Reserved checkpoint entry (not an entity): the partition's newest time stamp."""


def record_event(record: Record) -> dict[str, Any]:
    """A parsed record as plain JSON values (the time as a POSIX timestamp)."""
    return {
        "m": record.message,
        "t": record.timestamp.timestamp() if record.timestamp is not None else None,
        "h": record.host,
        "p": record.program,
        "f": record.fields,
        "r": record.raw,
        "s": record.source,
        "n": record.line_no,
    }


def record_of(event: dict[str, Any]) -> Record:
    """Inverse of :func:`record_event`."""
    ts = event.get("t")
    return Record(
        str(event.get("m", "")),
        datetime.fromtimestamp(float(ts), UTC) if ts is not None else None,
        str(event.get("h", "")),
        str(event.get("p", "")),
        {str(k): str(v) for k, v in (event.get("f") or {}).items()},
        str(event.get("r", "")),
        str(event.get("s", "")),
        int(event.get("n", 0)),
    )


def entity_of(detector: Detector, record: Record) -> str:
    """The partition key of ``record``: its first session entity, else its host, else its file."""
    entities = detector.key.entities(record)
    return entities[0] if entities else (record.host or record.source.rsplit(":", 1)[0])


def publish_records(transport: Transport, detector: Detector, records: Iterable[Record]) -> PublishResult:
    """Publish ``records`` keyed by :func:`entity_of`, in chunks; accepted and dropped totals."""
    total = PublishResult()
    chunk: list[tuple[str, dict[str, Any]]] = []

    def flush() -> None:
        result = transport.publish(chunk)
        total.accepted += result.accepted
        total.dropped += result.dropped
        total.batches += result.batches
        chunk.clear()

    for record in records:
        chunk.append((entity_of(detector, record), record_event(record)))
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    return total


def _time(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _from_time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value is not None else None


def session_to_dict(session: Session) -> dict[str, Any]:
    """An open session as JSON values (event-id keys as strings)."""
    return {
        "key": session.key,
        "kind": session.kind,
        "events": session.events,
        "start": _time(session.start),
        "end": _time(session.end),
        "evidence": session.evidence,
        "texts": {str(k): v for k, v in session.texts.items()},
        "lines": {str(k): v for k, v in session.lines.items()},
        "truncated": session.truncated,
    }


def session_from_dict(data: dict[str, Any]) -> Session:
    """Inverse of :func:`session_to_dict`."""
    return Session(
        str(data["key"]),
        str(data["kind"]),
        [int(e) for e in data["events"]],
        _from_time(data.get("start")),
        _from_time(data.get("end")),
        [str(line) for line in data.get("evidence", [])],
        {int(k): str(v) for k, v in data.get("texts", {}).items()},
        {int(k): str(v) for k, v in data.get("lines", {}).items()},
        int(data.get("truncated", 0)),
    )


class WatchHandler:
    """A trained detector as a stream handler; each alert also goes to ``emit``."""

    def __init__(self, detector: Detector, emit: Callable[[Alert], None] | None = None) -> None:
        self.detector = detector
        self.emit = emit
        self.sessions = 0
        """Sessions judged."""
        self._partitions: dict[int, tuple[dict[str, Any], Sessionizer]] = {}

    def _sessionizer(self, state: dict[str, Any]) -> Sessionizer:
        """The sessionizer of ``state``'s partition, rebuilt from it when ``state`` is new (a
        consumer's first batch of the partition, or a reload after a stale batch)."""
        held = self._partitions.get(id(state))
        if held is not None and held[0] is state:
            return held[1]
        sessionizer = Sessionizer(self.detector.miner, self.detector.key, learn=False)
        slots: list[tuple[float, str, Session]] = []
        for entity, value in state.items():
            if entity == WATERMARK:
                sessionizer.watermark = float(value) if value is not None else None
            elif value:
                slots.extend((float(start), entity, session_from_dict(data)) for start, data in value)
        for start, entity, session in sorted(slots, key=lambda s: (s[0], s[1])):
            sessionizer.open[(entity, start)] = session
        self._partitions[id(state)] = (state, sessionizer)
        return sessionizer

    def _judge(self, closed: list[Session]) -> list[dict[str, Any]]:
        self.sessions += len(closed)
        alerts = list(self.detector.judge(closed))
        if self.emit is not None:
            for alert in alerts:
                self.emit(alert)
        return [alert.to_dict() for alert in alerts]

    @staticmethod
    def _write(sessionizer: Sessionizer, state: dict[str, Any], changed: set[str]) -> None:
        open_of: dict[str, list[Any]] = {entity: [] for entity in changed}
        for (entity, start), session in sessionizer.open.items():
            if entity in open_of:
                open_of[entity].append([start, session_to_dict(session)])
        for entity, slots in open_of.items():
            state[entity] = slots or None
        state[WATERMARK] = sessionizer.watermark
        changed.add(WATERMARK)

    def handle(
        self, events: list[dict[str, Any]], state: dict[str, Any]
    ) -> tuple[Iterable[str], list[dict[str, Any]]]:
        """Feed one partition's batch to its sessionizer; judge the sessions it closed."""
        sessionizer = self._sessionizer(state)
        entities = self.detector.key.entities
        changed: set[str] = set()
        closed: list[Session] = []
        before = set(sessionizer.open)
        for event in events:
            record = record_of(event)
            changed.update(entities(record))
            closed.extend(sessionizer.add(record))
        alerts = self._judge(closed)
        changed.update(entity for entity, _start in before.difference(sessionizer.open))
        self._write(sessionizer, state, changed)
        return changed, alerts

    def flush(self, state: dict[str, Any]) -> tuple[Iterable[str], list[dict[str, Any]]]:
        """Judge every session still open in ``state``'s partition; the emptied entities."""
        sessionizer = self._sessionizer(state)
        changed = {entity for entity, _start in sessionizer.open}
        alerts = self._judge(list(sessionizer.flush()))
        self._write(sessionizer, state, changed)
        return changed, alerts


@dataclass
class WatchStreamResult:
    """What a consumer run did."""

    stats: ConsumerStats
    sessions: int
    flushed: int


def run_watch_consumer(
    transport: Transport,
    detector: Detector,
    index: int,
    count: int,
    emit: Callable[[Alert], None],
    idle_exit_s: float | None,
    *,
    min_idle_ms: int = 5000,
) -> WatchStreamResult:
    """Consume partitions ``p % count == index`` until idle for ``idle_exit_s`` (or interrupted);
    then judge and commit the sessions still open. A dead consumer's batches are taken over once
    idle for ``min_idle_ms``."""
    handler = WatchHandler(detector, emit)
    name = f"{socket.gethostname()}:{os.getpid()}:{index}"
    consumer = StreamConsumer(transport, handler, name, index, count, min_idle_ms=min_idle_ms)
    stats = consumer.run(idle_exit_s=idle_exit_s)
    flushed = 0
    for partition in consumer.partitions:
        state = consumer.checkpoint_state(partition)
        changed, alerts = handler.flush(state)
        flushed += len(alerts)
        stats.alerts += len(alerts)
        transport.save(partition, {entity: state[entity] for entity in set(changed)}, alerts)
    return WatchStreamResult(stats, handler.sessions, flushed)
