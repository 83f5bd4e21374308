"""The findings list filtered by branch, previous and current query code alternating in one
process, on a database a ``bench_server.py --branch-rows --keep`` run left.

Usage (from the repository root):
    .venv/bin/python bench/server/bench_server.py --backend postgresql --stored 1000000 --list-only \
        --replicate --branch-rows --keep --branches          # prints "kept: URL" on stderr
    .venv/bin/python bench/server/bench_branch_list.py --url URL --before 1789ba1 --rounds 4 --runs 15

The previous code is src/bastion/store/queries.py as committed at ``--before`` (``git show`` writes
it to build/bench-server/queries_before.py), imported beside the current module. Each round reads
every filter ``--runs`` times with one module, then with the other (the order swaps every round),
as the API does: 50 a page, count capped at 10,000, the filters of bench_server.py's branch mix
(no triage-state filter unless one is named). With ``--schema``, the previous code runs on schema
0015 (the store goes down before its turn: migration 0016's indexes dropped) and the current code
on 0016 (migrated again, then ``VACUUM ANALYZE`` of both tables, as autovacuum would). Both must
return the same page and total for every filter, or the run fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
from bench_server import BRANCH_REPO
from revisions import module_at

from bastion.store import queries
from bastion.store.db import Store

ROOT = Path(__file__).resolve().parents[2]
FILTERS: dict[str, dict[str, Any]] = {
    "branch=main": {"branch": "main"},
    "branch=main, open there, open + confirmed": {
        "branch": "main",
        "branch_status": "open",
        "statuses": ["open", "confirmed"],
    },
    "branch=release/1.2, open there": {"branch": "release/1.2", "branch_status": "open"},
    "branch=release/2.0, fixed there, high+critical": {
        "branch": "release/2.0",
        "branch_status": "fixed",
        "severities": ["high", "critical"],
    },
    "repository + branch=main, fixed there, by first seen, page 5": {
        "repository": BRANCH_REPO,
        "branch": "main",
        "branch_status": "fixed",
        "sort": "first_seen",
        "page": 5,
    },
    "branch=release/1.1, first seen ascending, page 20": {
        "branch": "release/1.1",
        "sort": "first_seen",
        "descending": False,
        "page": 20,
    },
    "open on any branch, by title, page 3": {"branch_status": "open", "sort": "title", "page": 3},
    "no branch filter (control)": {},
}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _read(store: Store, module: ModuleType, project: int, extra: dict[str, Any]) -> tuple[float, Any]:
    filt = module.FindingFilter([project], **extra)
    with store.read() as session:
        started = time.perf_counter()
        page = module.list_findings(session, filt, count_cap=module.COUNT_CAP)
        elapsed = time.perf_counter() - started
        return elapsed, (page.total, page.exact, [f.id for f in page.items])


def _schema(store: Store, url: str, current: bool) -> float:
    """Put the store at the schema of the code about to run; returns the seconds it took."""
    started = time.perf_counter()
    if not current:
        store.downgrade("0015")
        return time.perf_counter() - started
    store.migrate()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE findings")
        connection.execute("VACUUM ANALYZE finding_branches")
    return time.perf_counter() - started


def run(url: str, before: str, rounds: int, runs: int, project: int, schema: bool) -> dict[str, Any]:
    """Alternate the two modules over every filter; returns p50/p95 per filter and module."""
    store = Store.open(url)
    modules = {f"before {before}": module_at(before, "src/bastion/store/queries.py"), "current": queries}
    switches: list[float] = []
    times: dict[str, dict[str, list[float]]] = {label: {name: [] for name in modules} for label in FILTERS}
    answers: dict[str, Any] = {}
    try:
        for round_no in range(rounds):
            order = list(modules) if round_no % 2 == 0 else list(reversed(modules))
            for name in order:
                if schema:
                    switches.append(round(_schema(store, url, modules[name] is queries), 1))
                for label, extra in FILTERS.items():
                    for _ in range(runs):
                        elapsed, answer = _read(store, modules[name], project, extra)
                        times[label][name].append(elapsed)
                        if answers.setdefault(label, answer) != answer:
                            raise SystemExit(f"{label}: {name} answered differently")
    finally:
        if schema:
            _schema(store, url, True)
        store.close()
    per_filter: dict[str, Any] = {
        label: {
            "total": answers[label][0],
            "exact": answers[label][1],
            **{
                name: {
                    "p50_ms": round(1000 * statistics.median(values), 1),
                    "p95_ms": round(1000 * _p95(values), 1),
                    "n": len(values),
                }
                for name, values in per_module.items()
            },
        }
        for label, per_module in times.items()
    }
    return {"schema_switch_s": switches, **per_filter}


def main() -> None:
    """Parse the arguments, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a database a bench_server.py --keep run left")
    parser.add_argument("--before", default="1789ba1", help="revision of queries.py to compare")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--runs", type=int, default=15, help="reads per filter, module and round")
    parser.add_argument("--project", type=int, default=1, help="the project's id")
    parser.add_argument("--schema", action="store_true", help="previous code on 0015, current on 0016")
    args = parser.parse_args()
    result = run(args.url, args.before, args.rounds, args.runs, args.project, args.schema)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
