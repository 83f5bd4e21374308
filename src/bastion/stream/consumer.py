"""A consumer of one group: owns partitions, resumes from checkpoints, claims a dead one's work.

Consumer ``index`` of ``count`` owns the partitions ``p`` with ``p % count == index`` (static
assignment, as Kafka's static membership): an entity's events are handled by one consumer, in
order. On start, and every ``claim_every_s``, it first takes over what a dead consumer left
uncommitted in its partitions (XAUTOCLAIM after ``min_idle_ms``); it reads new batches only when
no other consumer holds any of its partitions' batches, so a replacement never handles an
entity's newer events before its older ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from bastion.stream.base import Batch, StaleBatch, Transport

__all__ = ["ConsumerStats", "Handler", "StreamConsumer"]


class Handler(Protocol):
    """The detector side: events in, alerts out, per-entity state kept in ``state``."""

    def handle(
        self, events: list[dict[str, Any]], state: dict[str, Any]
    ) -> tuple[Iterable[str], list[dict[str, Any]]]:
        """Process ``events`` (one partition's, in order), updating ``state`` (entity -> JSON
        value) in place; the entities changed and the alerts raised."""
        ...


@dataclass
class ConsumerStats:
    """What a consumer did."""

    batches: int = 0
    events: int = 0
    alerts: int = 0
    claimed: int = 0
    """Batches delivered more than once: taken over from a dead consumer (or this one's previous
    life), whether claimed (Redis) or delivered again by the broker (JetStream)."""
    stale: int = 0
    """Batches another consumer claimed before this one committed them (not applied here)."""


class StreamConsumer:
    """Consume, detect, commit; see the module's documentation."""

    def __init__(
        self,
        transport: Transport,
        handler: Handler | None,
        name: str,
        index: int = 0,
        count: int = 1,
        *,
        min_idle_ms: int = 5000,
        claim_every_s: float = 5.0,
    ) -> None:
        if not 0 <= index < count:
            raise ValueError(f"consumer index {index} not in 0..{count - 1}")
        self.transport = transport
        self.handler = handler
        self.name = name
        self.partitions = [p for p in range(transport.partitions) if p % count == index]
        self.min_idle_ms = min_idle_ms
        self.claim_every_s = claim_every_s
        self.stats = ConsumerStats()
        self._states: dict[int, dict[str, Any]] = {}
        self._next_claim = 0.0

    def checkpoint_state(self, partition: int) -> dict[str, Any]:
        """The per-entity state of ``partition`` this consumer works on (its checkpoint, once
        loaded)."""
        return self._state(partition)

    def _state(self, partition: int) -> dict[str, Any]:
        if partition not in self._states:
            self._states[partition] = self.transport.checkpoint(partition)
        return self._states[partition]

    def _process(self, batches: list[Batch]) -> int:
        done = 0
        if self.handler is None:
            raise ValueError("this consumer has no handler: iterate over events() instead")
        for batch in self._ordered(batches):
            state = self._state(batch.partition)
            try:
                changed, alerts = self.handler.handle(batch.events, state)
                self.transport.commit(batch, {entity: state[entity] for entity in set(changed)}, alerts)
            except StaleBatch:
                self._states.pop(batch.partition, None)  # another consumer has it: reload, go on
                self.stats.stale += 1
                continue
            except BaseException:
                self._states.pop(batch.partition, None)  # half-applied: reload the checkpoint
                raise
            self.stats.batches += 1
            self.stats.events += len(batch.events)
            self.stats.alerts += len(alerts)
            done += len(batch.events)
        return done

    def _fetch(self, block_ms: int) -> tuple[list[Batch], bool]:
        """Claimed batches when any are due, else new ones; and whether new ones may be read
        (not while another consumer still holds batches of these partitions)."""
        batches, fresh = self._claim_or_read(block_ms)
        self.stats.claimed += sum(1 for batch in batches if batch.deliveries > 1)
        return batches, fresh

    def _claim_or_read(self, block_ms: int) -> tuple[list[Batch], bool]:
        if time.monotonic() >= self._next_claim:
            self._next_claim = time.monotonic() + self.claim_every_s
            claimed = self.transport.claim(self.name, self.partitions, self.min_idle_ms)
            if self.transport.pending(self.partitions, besides=self.name):
                self._next_claim = 0.0  # a dead consumer's batches are not idle long enough yet
                time.sleep(min(0.2, self.min_idle_ms / 1000))
                return claimed, False
            if claimed:
                return claimed, False
        return self.transport.read(self.name, self.partitions, block_ms), True

    @staticmethod
    def _ordered(batches: list[Batch]) -> list[Batch]:
        return sorted(batches, key=lambda b: (b.partition, tuple(int(x) for x in b.id.split("-"))))

    def poll(self, block_ms: int = 1000) -> int:
        """One round: claim what is due, else read new batches; the events processed."""
        batches, _ = self._fetch(block_ms)
        return self._process(batches)

    def events(
        self, stop: threading.Event | None = None, *, idle_exit_s: float | None = None
    ) -> Iterator[Any]:
        """The events themselves, for a detector that keeps no per-entity state here: a batch is
        committed once its last event was taken and the next one is asked for, so an event is
        never lost; a consumer killed mid-batch has that batch handled again (its alerts may be
        raised twice)."""
        stop = stop or threading.Event()
        last = time.monotonic()
        while not stop.is_set():
            batches, _ = self._fetch(200)
            if batches:
                last = time.monotonic()
            elif idle_exit_s is not None and time.monotonic() - last >= idle_exit_s:
                return
            for batch in self._ordered(batches):
                yield from batch.events
                try:
                    self.transport.commit(batch, {}, [])
                except StaleBatch:
                    self.stats.stale += 1
                    continue
                self.stats.batches += 1
                self.stats.events += len(batch.events)

    def run(self, stop: threading.Event | None = None, *, idle_exit_s: float | None = None) -> ConsumerStats:
        """Poll until ``stop`` is set, or until nothing came for ``idle_exit_s``."""
        stop = stop or threading.Event()
        last = time.monotonic()
        while not stop.is_set():
            if self.poll(block_ms=200):
                last = time.monotonic()
            elif idle_exit_s is not None and time.monotonic() - last >= idle_exit_s:
                break
        return self.stats
