"""One identity consumer on a corpus through Redis Streams, timed (and optionally profiled):
events per second of wall time and of the consumer's own CPU time (the load-independent figure).

Used on the tuning corpus (``idA``) only; ``bench_streams.py`` reports on the held-out one.
Run with ``PYTHONPATH=<before>/src`` for the code before a change.

    .venv/bin/python bench/scale/profile_stream.py build/scale/idA [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
import uuid
from pathlib import Path

import bench_streams as streams

from bastion.detect.identity.engine import Engine
from bastion.detect.identity.geo import GeoDB
from bastion.jobs.streaming import IdentityHandler
from bastion.stream.consumer import StreamConsumer


def main() -> None:
    """Publish the corpus, consume it in this process, print the rates (and the profile)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=300_000)
    parser.add_argument("--profile", action="store_true", help="Print the 25 costliest functions.")
    args = parser.parse_args()
    parsed = streams.parse(args.corpus, args.limit)
    prefix = f"redis:bench:{uuid.uuid4().hex[:8]}"
    published = streams._publish(*parsed, prefix)
    geo = GeoDB(origin=False)
    geo.load(args.corpus / "geo.csv")
    handler = streams.Counting(IdentityHandler(Engine(geo)))
    consumer = StreamConsumer(streams._transport(prefix), handler, "c0", min_idle_ms=1000, claim_every_s=1.0)
    profile = cProfile.Profile() if args.profile else None
    began, cpu_began = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    while consumer.poll(block_ms=50):
        continue
    if profile is not None:
        profile.disable()
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    n, checksum, alerts = streams._totals(prefix)
    streams._cleanup(prefix)
    events = consumer.stats.events
    ok = n == published["events"] and checksum == published["checksum"]
    rates = {"events_per_s": round(events / wall), "events_per_cpu_s": round(events / cpu)}
    print(json.dumps({"events": events, **rates, "none_lost_or_doubled": ok, "alerts": alerts}))
    if profile is not None:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
