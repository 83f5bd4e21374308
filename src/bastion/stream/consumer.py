"""A consumer of one group: owns partitions, resumes from checkpoints, claims a dead one's work.

Consumer ``index`` of ``count`` owns the partitions ``p`` with ``p % count == index`` (static
assignment, as Kafka's static membership): an entity's events are handled by one consumer, in
order. On start, and every ``claim_every_s``, it first takes over what a dead consumer left
uncommitted in its partitions (XAUTOCLAIM after ``min_idle_ms``); it reads new batches only when
no other consumer holds any of its partitions' batches, so a replacement never handles an
entity's newer events before its older ones.

The batches one read returns are handled partition by partition, and on a transport with group
commits (:class:`~bastion.stream.base.GroupCommit`: Redis Streams) each partition's run of batches
is committed in one atomic step, its changed state written once: with a backlog, one commit per
partition per read instead of one per batch. The guarantee is the batch's: committed together or
not at all, so a replacement resumes from the last commit with no event lost or counted twice.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from bastion.stream.base import Batch, GroupCommit, StaleBatch, Transport

__all__ = ["ConsumerStats", "Handler", "StreamConsumer"]


class Handler(Protocol):
    """The detector side: events in, alerts out, per-entity state kept in ``state``."""

    def handle(
        self, events: list[dict[str, Any]], state: dict[str, Any]
    ) -> tuple[Iterable[str], list[dict[str, Any]]]:
        """Process ``events`` (one partition's, in order), updating ``state`` (entity -> JSON
        value, or an object with ``to_dict()`` serialized at the commit) in place; the entities
        changed and the alerts raised."""
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
        if self.handler is None:
            raise ValueError("this consumer has no handler: iterate over events() instead")
        done = 0
        group = self.transport if isinstance(self.transport, GroupCommit) else None
        for _partition, run in itertools.groupby(self._ordered(batches), key=lambda b: b.partition):
            same = list(run)
            for part in [same] if group is not None else [[batch] for batch in same]:
                done += self._apply(self.handler, part, group)
        return done

    def _apply(self, handler: Handler, batches: list[Batch], group: GroupCommit | None) -> int:
        """Handle a run of one partition's batches, then commit them in one step (a transport
        without group commits gets runs of one batch): the state the run changed is written
        once, not once a batch. A consumer that dies before the commit leaves every batch of the
        run pending: its replacement handles them again from the last checkpoint."""
        partition = batches[0].partition
        state = self._state(partition)
        changed: set[str] = set()
        alerts: list[dict[str, Any]] = []
        try:
            for batch in batches:
                touched, raised = handler.handle(batch.events, state)
                changed.update(touched)
                alerts.extend(raised)
            values = {entity: state[entity] for entity in changed}
            if group is not None and len(batches) > 1:
                group.commit_many(batches, values, alerts)
            else:
                self.transport.commit(batches[0], values, alerts)
        except StaleBatch:
            self._states.pop(partition, None)  # another consumer has them: reload, go on
            self.stats.stale += len(batches)
            return 0
        except BaseException:
            self._states.pop(partition, None)  # half-applied: reload the checkpoint
            raise
        events = sum(len(batch.events) for batch in batches)
        self.stats.batches += len(batches)
        self.stats.events += events
        self.stats.alerts += len(alerts)
        return events

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
