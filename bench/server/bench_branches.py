"""Benchmark of findings per branch (schema 0014): uploads naming branches, and the findings list
filtered by branch, with 100,000 findings stored in one project.

Usage (from the repository root):
    .venv/bin/python bench/server/bench_branches.py --backend postgresql
    .venv/bin/python bench/server/bench_branches.py --backend sqlite --stored 50000

Data: bench_server.py's synthetic reports, ``--stored`` findings uploaded as 10,000-finding scans of
``main`` (partial: nothing fixed), then the first half again as scans of ``release/1.2`` (every
finding known, each gets its release row), then one of those again on ``release/1.2`` (every row
known). The list is read in-process (the query, not HTTP), ``--runs`` times per filter, unfiltered
first: what the filter costs over the plain list. Last, the store goes down to schema 0013 and up
again, timing migration 0014's backfill (one unnamed-branch row per stored finding).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import psycopg
from bench_server import make_report
from sqlalchemy import func, select
from throwaway_store import drop_backend, open_backend

from bastion.store.accounts import create_project
from bastion.store.branches import BranchRef
from bastion.store.ingest import ingest
from bastion.store.models import FindingBranch
from bastion.store.parse import parse_upload
from bastion.store.queries import COUNT_CAP, FindingFilter, list_findings

REPO = "github.com/acme/shop"
FILTERS: dict[str, dict[str, Any]] = {
    "no branch filter": {},
    "branch=main": {"branch": "main"},
    "branch=release/1.2, open there": {"branch": "release/1.2", "branch_status": "open"},
    "repository + branch=main, fixed there (none)": {
        "repository": REPO,
        "branch": "main",
        "branch_status": "fixed",
    },
    "branch=release/1.2, sorted by first seen, page 20": {
        "branch": "release/1.2",
        "sort": "first_seen",
        "page": 20,
    },
}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(backend: str, stored: int, runs: int) -> dict[str, Any]:
    """Upload, then time the list per filter; returns the numbers."""
    store, url, name = open_backend(backend, "branches")
    try:
        with store.write() as session:
            project = create_project(session, "big", "Big", "bench").id
        reports = [make_report(10_000, 100 + i, f"b{i}") for i in range(stored // 10_000)]
        timings: dict[str, Any] = {}
        started = time.perf_counter()
        for data in reports:
            ingest(store, project, parse_upload(data), "bench", full=False, ref=BranchRef(REPO, "main"))
        timings["upload_main_s_per_10k"] = (time.perf_counter() - started) / len(reports)
        half = reports[: max(1, len(reports) // 2)]
        started = time.perf_counter()
        for data in half:
            ingest(
                store, project, parse_upload(data), "bench", full=False, ref=BranchRef(REPO, "release/1.2")
            )
        timings["upload_new_branch_known_findings_s_per_10k"] = (time.perf_counter() - started) / len(half)
        started = time.perf_counter()
        ingest(store, project, parse_upload(half[0]), "bench", full=False, ref=BranchRef(REPO, "release/1.2"))
        timings["upload_same_branch_again_s_per_10k"] = time.perf_counter() - started
        if name is not None:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute("VACUUM ANALYZE")
        with store.read() as session:
            timings["branch_rows"] = session.scalar(select(func.count()).select_from(FindingBranch))
        lists: dict[str, Any] = {}
        for label, extra in FILTERS.items():
            filt = FindingFilter([project], ["open", "confirmed"], **extra)
            latencies = []
            for _ in range(runs):
                with store.read() as session:
                    t0 = time.perf_counter()
                    page = list_findings(session, filt, count_cap=COUNT_CAP)
                    latencies.append(time.perf_counter() - t0)
            lists[label] = {
                "total": page.total,
                "exact": page.exact,
                "p50_ms": round(1000 * statistics.median(latencies), 1),
                "p95_ms": round(1000 * _p95(latencies), 1),
            }
        # Last, the migration's backfill on this data: down to 0013 (the rows go), then up again.
        store.downgrade("0013")
        started = time.perf_counter()
        store.migrate()
        timings["migrate_0013_to_0014_s"] = time.perf_counter() - started
        with store.read() as session:
            timings["rows_after_migration"] = session.scalar(select(func.count()).select_from(FindingBranch))
        return {"backend": backend, "stored": stored, "runs": runs, **timings, "list": lists}
    finally:
        drop_backend(store, name)


def main() -> None:
    """Run on one back end and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--stored", type=int, default=100_000, help="findings on main (x 10,000)")
    parser.add_argument("--runs", type=int, default=60, help="list reads per filter")
    args = parser.parse_args()
    if args.stored < 10_000 or args.stored % 10_000:
        parser.error("--stored must be a positive multiple of 10,000")
    print(json.dumps(run(args.backend, args.stored, args.runs), indent=2))


if __name__ == "__main__":
    main()
