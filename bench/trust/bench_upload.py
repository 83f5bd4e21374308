"""Memory and time of reading an upload: whole-document (json.loads) vs incremental (ijson).

    .venv/bin/python bench/trust/bench_upload.py --results 50000,190000 --cap 200000
    .venv/bin/python bench/trust/bench_upload.py --results 250000 --cap 100000

Each measurement runs in a fresh process (peak RSS is per process): it writes a generated SARIF
log of N results to a temporary file, then reads it either the old way (the bytes whole, then
``json.loads`` and :func:`parse_document`) or the new way (:class:`UploadSpool` fed 64 KB chunks,
then :meth:`UploadSpool.parse`). A run over the cap reports how soon the refusal came.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _sarif(path: Path, count: int) -> int:
    item = (
        '{{"ruleId":"rule{0}","level":"warning","message":{{"text":"possible problem number {0}"}},'
        '"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/module{1}/file{0}.py"}},'
        '"region":{{"startLine":{2}}}}}}}]}}'
    )
    with path.open("w") as handle:
        handle.write('{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"bulk"}},"results":[')
        for i in range(count):  # item by item: this (parent) process stays small, and children
            handle.write(("," if i else "") + item.format(i, i % 97, i % 500 + 1))  # inherit its peak
        handle.write("]}]}")
    return path.stat().st_size


def _child(mode: str, path: str, cap: int) -> None:
    from bastion.errors import InputError
    from bastion.store.parse import parse_document
    from bastion.store.stream import UploadSpool

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = "ok"
    try:
        if mode == "whole":
            data = Path(path).read_bytes()
            parsed = parse_document(json.loads(data), "bench", cap)
        else:
            spool = UploadSpool()
            with open(path, "rb") as handle:
                while block := handle.read(65536):
                    spool.write(block)
            parsed = spool.parse("bench", cap)
            spool.close()
        outcome = f"{len(parsed.findings)} findings"
    except InputError as exc:
        outcome = f"refused: {str(exc)[:60]}"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak / 1024,
                "growth_mb": (peak - base) / 1024,
                "outcome": outcome,
            }
        )
    )


def main() -> int:
    """Print one markdown row per (size, mode)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", default="50000,200000")
    parser.add_argument("--cap", type=int, default=200_000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    print("| results | body | mode | time | peak RSS | RSS growth | outcome |")
    print("|---:|---:|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as temp:
        for count in (int(x) for x in args.results.split(",")):
            path = Path(temp) / f"{count}.sarif"
            size = _sarif(path, count)
            for mode in ("whole", "stream"):
                done = subprocess.run(
                    [sys.executable, __file__, "--child", mode, str(path), str(args.cap)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                row = json.loads(done.stdout)
                print(
                    f"| {count:,} | {size / 1e6:.1f} MB | {mode} | {row['seconds']:.2f} s "
                    f"| {row['peak_mb']:.0f} MB "
                    f"| {row['growth_mb']:.0f} MB | {row['outcome']} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
