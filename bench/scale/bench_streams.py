"""Sign-ins through a stream end to end: parse -> publish -> consume -> detect -> alert.

Transports (``--transport``, several measured side by side in one run): Redis Streams
(``redis``, 127.0.0.1:6379) and NATS JetStream (``nats``, 127.0.0.1:4222).

1. Parse a generated corpus (``bench/identity/generate.py``) with the identity reader and publish
   every event keyed by user (timed: parse+publish events/s).
2. Start 1, 2 or 4 consumer processes of one group (each the identity engine behind
   :class:`~bastion.stream.consumer.StreamConsumer`) and time until the backlog is empty:
   events/s in all and per consumer.
3. ``--kill``: with 2 consumers, ``kill -9`` consumer 0 when half its events are done, start its
   replacement (same index, new name) after 1 s, and time from the kill to the end (recovery).

Every batch's commit also adds its event count and a checksum (sum of CRC-32s of each event's
bytes) to a per-partition counter *in the same MULTI* as the ack: at the end the totals are
compared with what was published (none lost, none doubled). Raw consume+ack of the same batches
with no detector is measured alongside (``raw``), the peer figure of Redis Streams itself.

    .venv/bin/python bench/identity/generate.py --seed 1 --org a --out build/scale/idA
    .venv/bin/python bench/identity/generate.py --seed 2 --org b --days 750 --out build/scale/idB
    .venv/bin/python bench/scale/bench_streams.py build/scale/idB --consumers 1 2 4 --raw --kill
    .venv/bin/python bench/scale/bench_streams.py build/scale/idB --transport redis nats \
        --consumers 1 2 --raw --kill
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import signal
import time
import uuid
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import redis

from bastion.detect.identity.engine import Engine
from bastion.detect.identity.events import Skips
from bastion.detect.identity.geo import GeoDB
from bastion.detect.identity.read import read_events
from bastion.jobs.streaming import IdentityHandler, event_of, signin_of
from bastion.stream.consumer import Handler, StreamConsumer
from bastion.stream.nats_jetstream import NatsJetStream
from bastion.stream.redis_streams import RedisStreams

REDIS_URL = "redis://127.0.0.1:6379/13"
NATS_URL = "nats://127.0.0.1:4222"
PARTITIONS = 16
STATS = "__bench__"


def _sum(events: Iterable[dict[str, Any]]) -> int:
    return sum(zlib.crc32(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)) for event in events)


class Counting:
    """Wraps a handler: the batch's count and checksum join the partition's state (same commit)."""

    def __init__(self, inner: Handler | None) -> None:
        self.inner = inner

    def handle(
        self, events: list[dict[str, Any]], state: dict[str, Any]
    ) -> tuple[Iterable[str], list[dict[str, Any]]]:
        """Count, then run the inner handler (none: raw consume+ack)."""
        changed: set[str] = {STATS}
        alerts: list[dict[str, Any]] = []
        if self.inner is not None:
            inner_changed, alerts = self.inner.handle(events, state)
            changed.update(inner_changed)
        stats = state.setdefault(STATS, {"n": 0, "sum": 0})
        stats["n"] += len(events)
        stats["sum"] = (stats["sum"] + _sum(events)) % (1 << 62)
        return changed, alerts


def _transport(prefix: str) -> RedisStreams | NatsJetStream:
    """The prefix names the transport: ``redis:...`` or ``nats:...``."""
    if prefix.startswith("nats"):
        return NatsJetStream.from_url(
            NATS_URL, prefix, PARTITIONS, batch_size=500, max_batches=100_000, ack_wait_ms=1000
        )
    return RedisStreams.from_url(REDIS_URL, prefix, PARTITIONS, batch_size=500, max_batches=100_000)


def _close(transport: RedisStreams | NatsJetStream) -> None:
    if isinstance(transport, NatsJetStream):
        transport.close()


def _consume(prefix: str, corpus: str, index: int, count: int, name: str, raw: bool) -> None:
    transport = _transport(prefix)
    geo = GeoDB(origin=False)
    geo.load(Path(corpus) / "geo.csv")
    handler = Counting(None if raw else IdentityHandler(Engine(geo)))
    consumer = StreamConsumer(transport, handler, name, index, count, min_idle_ms=1000, claim_every_s=1.0)
    first = last = 0.0
    began = time.perf_counter()
    cpu_began = time.process_time()
    while True:  # StreamConsumer.run, timing the busy span: first batch read to last commit
        before = time.perf_counter()
        if consumer.poll(block_ms=200):
            first = first or before
            last = time.perf_counter()
            continue
        idle_since = last or began
        if time.perf_counter() - idle_since > (1.5 if last else 30):
            break
    timing = {"n": consumer.stats.events, "s": last - first, "cpu": time.process_time() - cpu_began}
    redis.Redis.from_url(REDIS_URL).rpush(f"{prefix}:timing", orjson.dumps(timing))
    _close(transport)


def parse(corpus: Path, limit: int) -> tuple[list[dict[str, Any]], float]:
    """The corpus's first ``limit`` sign-ins as stream events, and the parse rate (events/s)."""
    skip = {"geo.csv", "labels.jsonl", "meta.json"}
    files = sorted(p for p in corpus.iterdir() if p.is_file() and p.name not in skip)
    started = time.perf_counter()
    events = [event_of(e) for e in itertools.islice(read_events(files, Skips(), 2026), limit)]
    return events, len(events) / (time.perf_counter() - started)


def _publish(events: list[dict[str, Any]], parse_rate: float, prefix: str) -> dict[str, Any]:
    transport = _transport(prefix)
    parsed = time.perf_counter()
    published = 0
    for start in range(0, len(events), 5000):
        chunk = events[start : start + 5000]
        published += transport.publish([(e["user"], e) for e in chunk]).accepted
    done = time.perf_counter()
    _close(transport)
    return {
        "events": len(events),
        "published": published,
        "checksum": _sum(events) % (1 << 62),
        "parse_events_per_s": round(parse_rate),
        "publish_events_per_s": round(len(events) / (done - parsed)),
    }


def _totals(prefix: str) -> tuple[int, int, int]:
    transport = _transport(prefix)
    n = total = 0
    for partition in range(PARTITIONS):
        stats = transport.checkpoint(partition).get(STATS, {"n": 0, "sum": 0})
        n += stats["n"]
        total = (total + stats["sum"]) % (1 << 62)
    alerts = len(transport.alerts())
    _close(transport)
    return n, total, alerts


def _cleanup(prefix: str) -> None:
    if prefix.startswith("nats"):
        transport = _transport(prefix)
        if not isinstance(transport, NatsJetStream):
            raise TypeError(f"{prefix}: expected a NATS JetStream transport")
        transport.destroy()
        transport.close()
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def run(
    corpus: Path,
    parsed: tuple[list[dict[str, Any]], float],
    consumers: int,
    raw: bool,
    kill: bool,
    kind: str = "redis",
) -> dict[str, Any]:
    """One measurement; the published and consumed totals must match."""
    prefix = f"{kind}:bench:{uuid.uuid4().hex[:8]}"
    published = _publish(*parsed, prefix)
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    procs = [
        context.Process(target=_consume, args=(prefix, str(corpus), i, consumers, f"c{i}", raw))
        for i in range(consumers)
    ]
    for proc in procs:
        proc.start()
    recovery_s = None
    if kill:
        transport = _transport(prefix)
        owned = [p for p in range(PARTITIONS) if p % consumers == 0]
        while (
            sum(transport.checkpoint(p).get(STATS, {"n": 0})["n"] for p in owned)
            < published["events"] / consumers / 2
        ):
            time.sleep(0.05)
        _close(transport)
        os.kill(procs[0].pid or 0, signal.SIGKILL)
        killed_at = time.perf_counter()
        time.sleep(1.0)  # the replacement comes up a second later (a supervisor's restart)
        replacement = context.Process(
            target=_consume, args=(prefix, str(corpus), 0, consumers, "c0-new", raw)
        )
        replacement.start()
        procs.append(replacement)
    for proc in procs:
        proc.join()
    # the consumers exit after 1.5 s without events: that idle tail is not processing time;
    # elapsed counts the consumers' start (fork, geo data, first checkpoint reads) too
    elapsed = time.perf_counter() - started - 1.5
    if kill:
        recovery_s = round(time.perf_counter() - killed_at - 1.5, 2)
    n, checksum, alerts = _totals(prefix)
    timings = [orjson.loads(t) for t in redis.Redis.from_url(REDIS_URL).lrange(f"{prefix}:timing", 0, -1)]
    busy = [t["n"] / t["s"] for t in timings if t["s"] > 0 and t["n"] > 0]
    on_cpu = [t["n"] / t["cpu"] for t in timings if t.get("cpu", 0) > 0 and t["n"] > 0]
    _cleanup(prefix)
    return {
        "transport": kind,
        "consumers": consumers,
        "detector": "none (raw consume+ack)" if raw else "identity engine",
        **published,
        "consumed": n,
        "checksum_ok": checksum == published["checksum"],
        "alerts": alerts,
        "events_per_s": round(n / elapsed),
        "events_per_s_per_consumer_busy": [round(b) for b in busy],
        "events_per_cpu_s_per_consumer": [round(c) for c in on_cpu],
        "load": round(os.getloadavg()[0], 1),
        "kill_recovery_s": recovery_s,
    }


def in_process(corpus: Path, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The same detector on the same (already parsed) events in this process, no stream: the
    baseline the stream's overhead is measured against."""
    geo = GeoDB(origin=False)
    geo.load(corpus / "geo.csv")
    engine = Engine(geo)
    signins = [signin_of(event) for event in events]
    started = time.perf_counter()
    alerts = sum(1 for _ in engine.run(signins))
    elapsed = time.perf_counter() - started
    return {"consumers": 0, "detector": "identity engine in-process (no stream)", "events": len(events),
            "alerts": alerts, "events_per_s": round(len(events) / elapsed)}  # fmt: skip


def main() -> None:
    """Print one JSON line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--consumers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--kill", action="store_true")
    parser.add_argument("--raw", action="store_true", help="Also measure consume+ack without a detector.")
    parser.add_argument("--limit", type=int, default=300_000, help="Sign-ins taken from the corpus.")
    parser.add_argument("--transport", nargs="+", choices=["redis", "nats"], default=["redis"])
    args = parser.parse_args()
    parsed = parse(args.corpus, args.limit)
    print(json.dumps(in_process(args.corpus, parsed[0])), flush=True)
    for count in args.consumers:
        for kind in args.transport:
            if args.raw:
                print(json.dumps(run(args.corpus, parsed, count, True, False, kind)), flush=True)
            print(json.dumps(run(args.corpus, parsed, count, False, False, kind)), flush=True)
    if args.kill:
        for kind in args.transport:
            print(json.dumps(run(args.corpus, parsed, 2, False, True, kind)), flush=True)


if __name__ == "__main__":
    main()
