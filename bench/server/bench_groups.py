"""Grouping by package in-process, on a database a ``bench_server.py --keep`` run left: the store
function alone (no HTTP), so two versions of the code can be timed on the same data in the same
window, one process each.

Usage (from the repository root; URL is the database bench_server.py printed after ``kept:``):
    .venv/bin/python bench/server/bench_groups.py --url URL --repeat 9
    PYTHONPATH=<a checkout of the older commit>/src .venv/bin/python bench/server/bench_groups.py --url URL

It only reads; it never migrates, so code older than the database's schema can run on it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from sqlalchemy import select

from bastion.store.db import Store
from bastion.store.groups import group_findings
from bastion.store.models import Project
from bastion.store.queries import FindingFilter

FILTERS: dict[str, dict[str, Any]] = {
    "all": {},
    "open+confirmed": {"statuses": ["open", "confirmed"]},
    "high+critical": {"severities": ["high", "critical"]},
}


def main() -> None:
    """Time the first page of each filter ``--repeat`` times; print medians and maxima as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--project", default="big")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    store = Store.open(args.url)
    report: dict[str, Any] = {}
    try:
        with store.read() as session:
            project = session.scalar(select(Project.id).where(Project.slug == args.project))
            if project is None:
                raise SystemExit(f"{args.url}: no project {args.project!r}")
            for name, fields in FILTERS.items():
                times, groups = [], 0
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    page = group_findings(session, FindingFilter([project], **fields), "package")
                    times.append(1000 * (time.perf_counter() - started))
                    groups = page.total
                report[name] = {
                    "groups": groups,
                    "median_ms": round(statistics.median(times), 1),
                    "max_ms": round(max(times), 1),
                }
    finally:
        store.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
