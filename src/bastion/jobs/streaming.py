"""Sign-in detection on the stream: events partitioned by user, baselines checkpointed per user.

:func:`publish_signins` is the ingest side (parsed :class:`SignIn` events, keyed by user);
:class:`IdentityHandler` is the detector side, the identity :class:`Engine` behind the stream
consumer's :class:`~bastion.stream.consumer.Handler` seam. A user's baseline (``Profile``) is the
per-entity state: loaded from the partition's checkpoint when a consumer (or its replacement)
first sees the partition, written back for the users a batch changed, in the batch's commit.

Partitioning by user keeps each user's sign-ins in order on one consumer; the short windows of the
cross-user detections (password spray from one address) see the users of their own partitions
only, and are not checkpointed (a restarted consumer starts them empty).
"""

from __future__ import annotations

import operator
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from bastion.detect.identity.baseline import Profile
from bastion.detect.identity.engine import Engine
from bastion.detect.identity.events import SignIn
from bastion.errors import UsageError
from bastion.findings import Alert
from bastion.stream.base import PublishResult, Transport
from bastion.stream.connect import open_transport
from bastion.stream.consumer import StreamConsumer

__all__ = [
    "IdentityHandler",
    "StreamSpec",
    "event_of",
    "parse_consumer",
    "publish_signins",
    "run_identity_stream",
    "signin_of",
]

_FIELDS = tuple(f.name for f in fields(SignIn) if f.name != "time")
_VALUES = operator.itemgetter(*_FIELDS)
"""SignIn's fields after its first, ``time`` (tests/stream's round trip fails if that changes)."""
PUBLISH_CHUNK = 5000
RESERVED = "__"
"""Checkpoint entries whose key starts so are not baselines (counters kept beside them)."""


def event_of(signin: SignIn) -> dict[str, Any]:
    """A sign-in as plain JSON values (the time as a POSIX timestamp)."""
    event = {name: getattr(signin, name) for name in _FIELDS}
    event["time"] = signin.time.timestamp()
    return event


def signin_of(event: dict[str, Any]) -> SignIn:
    """Inverse of :func:`event_of` (an event missing fields gets their defaults)."""
    when = datetime.fromtimestamp(float(event["time"]), UTC)
    try:
        return SignIn(when, *_VALUES(event))  # one C call for the fields: a fifth of the consumer's time
    except KeyError:
        return SignIn(time=when, **{name: event[name] for name in _FIELDS if name in event})


def publish_signins(transport: Transport, signins: Iterable[SignIn]) -> PublishResult:
    """Publish sign-ins keyed by user, in chunks; totals of accepted and dropped events."""
    total = PublishResult()
    chunk: list[tuple[str, dict[str, Any]]] = []

    def flush() -> None:
        result = transport.publish(chunk)
        total.accepted += result.accepted
        total.dropped += result.dropped
        total.batches += result.batches
        chunk.clear()

    for signin in signins:
        chunk.append((signin.user, event_of(signin)))
        if len(chunk) >= PUBLISH_CHUNK:
            flush()
    if chunk:
        flush()
    return total


class IdentityHandler:
    """The identity engine as a stream handler; alerts as :meth:`Alert.to_dict` values, each
    also passed to ``emit`` (the command's writer) once its batch is handled."""

    def __init__(self, engine: Engine, emit: Callable[[Alert], None] | None = None) -> None:
        self.engine = engine
        self.emit = emit
        self._loaded: dict[int, dict[str, Any]] = {}
        """States loaded, by id (held: a new state must not reuse a loaded one's id)."""

    def _load(self, state: dict[str, Any]) -> None:
        key = id(state)
        if key in self._loaded:
            return
        self._loaded[key] = state
        profiles = self.engine.state.profiles
        for user, data in state.items():  # the checkpoint wins over what was not committed
            if not user.startswith(RESERVED):
                profiles[user] = data if isinstance(data, Profile) else Profile.from_dict(data)

    def handle(
        self, events: list[dict[str, Any]], state: dict[str, Any]
    ) -> tuple[Iterable[str], list[dict[str, Any]]]:
        """Run the engine on one partition's batch; changed users' baselines go into ``state``."""
        self._load(state)
        consume = self.engine.consume
        alerts: list[dict[str, Any]] = []
        changed: set[str] = set()
        for event in events:
            signin = signin_of(event)
            raised = consume(signin)
            if signin.success:
                changed.add(signin.user)
            if raised:
                alerts.extend(alert.to_dict() for alert in raised)
                if self.emit is not None:
                    for alert in raised:
                        self.emit(alert)
        profiles = self.engine.state.profiles
        changed &= profiles.keys()
        for user in changed:  # the live baseline: serialized once, when its run of batches commits
            state[user] = profiles[user]
        return changed, alerts


@dataclass(frozen=True)
class StreamSpec:
    """``--stream URL [--consumer I/N]`` of a detector command."""

    url: str
    consumer: tuple[int, int] | None = None
    """This process's index and the group's size; None: publish the logs instead."""
    prefix: str = "bastion:signins"
    partitions: int = 16
    idle_exit_s: float | None = None


def parse_consumer(text: str) -> tuple[int, int]:
    """``"0/2"`` -> ``(0, 2)``; :class:`UsageError` otherwise."""
    index, sep, count = text.partition("/")
    if not sep or not index.isdigit() or not count.isdigit() or not 0 <= int(index) < int(count):
        raise UsageError(f"--consumer {text!r}: give INDEX/COUNT with 0 <= INDEX < COUNT (0/2)")
    return int(index), int(count)


def run_identity_stream(
    spec: StreamSpec, engine: Engine, signins: Iterable[SignIn] | None, emit: Callable[[Alert], None]
) -> str:
    """Publish ``signins`` to the stream, or (``spec.consumer``) consume and detect until
    interrupted or idle; one line saying what was done. ``spec.url`` is ``redis://`` (Redis
    Streams) or ``nats://`` (NATS JetStream). :class:`StreamUnavailable` when the broker cannot
    be reached."""
    transport = open_transport(spec.url, spec.prefix, spec.partitions)
    if spec.consumer is None:
        if signins is None:
            raise UsageError("--stream without --consumer publishes LOGS: give the log files")
        result = publish_signins(transport, signins)
        return f"published {result.accepted} sign-in events ({result.dropped} dropped: partitions full)"
    index, count = spec.consumer
    name = f"{socket.gethostname()}:{os.getpid()}:{index}"
    consumer = StreamConsumer(transport, IdentityHandler(engine, emit), name, index, count)
    stats = consumer.run(idle_exit_s=spec.idle_exit_s)
    return (
        f"consumer {index}/{count}: {stats.events} events in {stats.batches} batches, {stats.alerts} alerts, "
        f"{stats.claimed} batches taken over from a dead consumer"
    )
