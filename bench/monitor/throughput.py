"""Throughput: raw line in, alert out (header parse + template matching + sessions + scoring).

The stream: every hdfs-100k block session rendered to real HDFS lines (see hdfs_replay.py),
replayed in rounds with new block ids each round, --lines lines in all. The model is trained
first on the rendered normal blocks of the train split. Memory is reported at checkpoints.
Usage: .venv/bin/python bench/monitor/throughput.py [--lines 1000000] [--model ranges] [--format raw|auto]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from hdfs_replay import event_examples, read_sessions, render

from bastion.detect.ingest.records import get_format, read_records
from bastion.detect.logs.features import SessionKey
from bastion.detect.logs.pipeline import train


def rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Train, then stream and report lines/s, alerts and peak memory at checkpoints."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--model", default="ranges")
    parser.add_argument(
        "--format", default="raw", help="raw (the whole line is the message) or auto (headers, time stamps)"
    )
    args = parser.parse_args()
    examples = event_examples()
    sessions = read_sessions()
    fmt = get_format("raw") if args.format == "raw" else None
    normal = [(b, ev) for b, bad, split, ev in sessions if split == "train" and not bad]
    lines = (("train", n, text) for n, text in enumerate(render(normal, examples), 1))
    detector, summary = train(read_records(lines, fmt), args.model, SessionKey("block"))
    print(
        f"trained {args.model}: {summary.sessions} sessions, {summary.templates} templates, "
        f"{summary.lines} lines"
    )

    def stream() -> Iterator[tuple[str, int, str]]:
        n = 0
        round_no = 0
        while True:
            round_no += 1
            batch = [(f"{b}{round_no}", ev) for b, _, _, ev in sessions]
            for text in render(batch, examples, seed=round_no):
                n += 1
                if n > args.lines:
                    return
                if n % (args.lines // 4) == 0:
                    print(f"  at {n:>9,} lines: peak RSS {rss_mb():.0f} MB")
                yield "replay", n, text

    alerts = windows = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for alert in detector.detect(read_records(stream(), fmt)):
        alerts += 1
        windows += alert.entity_kind == "window"
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    seen = args.lines
    print(f"{seen:,} lines: {seen / cpu:,.0f} lines/s of CPU time ({cpu:.1f} s CPU, {elapsed:.1f} s wall, "
          f"{seen / elapsed:,.0f} lines/s wall; one process, one core); {alerts:,} alerts "
          f"({windows:,} of them time windows); "
          f"peak RSS {rss_mb():.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
