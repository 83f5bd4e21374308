"""A scan job's state writes alone, in one process: ``start`` (running), ``finish`` (done with one
finding) and the re-read of the record the worker did before (``job``), on SQLite and PostgreSQL.

Medians in milliseconds over ``--jobs`` jobs; without a worker, a broker or a scan, so much less
noisy than ``bench_overhead.py``. Run it with ``PYTHONPATH=<before>/src`` for the code before a
change (``job`` is then timed as the worker ran it after ``finish``).

    .venv/bin/python bench/scale/bench_board.py --jobs 150
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from pathlib import Path

from bench_jobs import ROOT
from bench_overhead import _database

from bastion.jobs import board
from bastion.store.db import Store


def _finding(index: int) -> dict[str, object]:
    return {"fingerprint": f"fp{index}", "rule_id": "secrets.aws-access-key-id", "severity": "high",
            "location": {"path": "config.py", "start_line": 1}}  # fmt: skip


def measure(backend: str, jobs: int) -> dict[str, object]:
    """Median milliseconds of each write over ``jobs`` jobs on ``backend``."""
    with _database(backend, "board") as url:
        store = Store.open(url)
        store.migrate()
        ids = [uuid.uuid4().hex for _ in range(jobs)]
        board.enqueued_many(store, [(job_id, "repo") for job_id in ids])
        times: dict[str, list[float]] = {"start": [], "finish": [], "job (re-read)": []}
        for job_id in ids:
            began = time.perf_counter()
            board.start(store, job_id, "repo", "worker", 5)
            started = time.perf_counter()
            board.finish(store, job_id, [_finding(1)], ["note"])
            finished = time.perf_counter()
            times["start"].append(started - began)
            times["finish"].append(finished - started)
        for job_id in ids[: jobs // 3]:  # what the worker read back after each job before
            began = time.perf_counter()
            board.job(store, job_id)
            times["job (re-read)"].append(time.perf_counter() - began)
        store.close()
    medians = {name: round(1000 * statistics.median(values), 2) for name, values in times.items()}
    return {"backend": backend, "board": str(Path(board.__file__).parent.parent.parent),
            **medians, "load": round(os.getloadavg()[0], 1)}  # fmt: skip


def main() -> None:
    """Print one JSON line per back end."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=150)
    parser.add_argument(
        "--backend", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    ROOT.mkdir(parents=True, exist_ok=True)
    for backend in args.backend:
        print(json.dumps(measure(backend, args.jobs)), flush=True)


if __name__ == "__main__":
    main()
