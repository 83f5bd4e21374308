"""Benchmark of the triage workflow (issue 27) at scale: streaming export, grouping, bulk triage.

A project holds ``--findings`` findings (a fifth of them dependency findings over 2,000 package
versions, the rest code findings), loaded through the ordinary ingest. Then, on the store:

* export: every finding to CSV and to JSON through the same generators the server streams
  (``iter_findings`` + ``export_chunks``); wall time, findings/s, and the peak of Python memory
  allocated while it runs (tracemalloc), to show the export does not hold the list;
* grouping: the first page of the findings grouped by package and by rule (open findings);
* bulk triage: 10,000 findings (the limit of one request) confirmed by id, then reopened.

Run from the repository root:

    .venv/bin/python bench/server/bench_triage.py --backend sqlite --findings 100000
    .venv/bin/python bench/server/bench_triage.py --backend postgresql --findings 100000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc

import psycopg
from sqlalchemy import select
from throwaway_store import drop_backend, open_backend

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.server.export import ExportFormat, export_chunks
from bastion.store.accounts import create_project
from bastion.store.coverage import Coverage, Scope
from bastion.store.db import Store
from bastion.store.export import iter_findings
from bastion.store.groups import group_findings
from bastion.store.ingest import ingest
from bastion.store.models import FindingRecord
from bastion.store.parse import ParsedScan
from bastion.store.queries import FindingFilter
from bastion.store.triage_bulk import MAX_BULK, bulk_triage, load_findings

SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
WEIGHTS = (3, 17, 40, 30, 10)
BATCH = 10_000


def make_findings(count: int, seed: int) -> list[Finding]:
    """``count`` distinct findings: one in five a vulnerable package version, the rest code."""
    rng = random.Random(seed)  # bastion: ignore[sast.bandit.B311] reproducible synthetic data, not security
    items = []
    for index in range(count):
        severity = rng.choices(SEVERITIES, WEIGHTS)[0]
        if index % 5 == 0:
            package = f"pkg{rng.randrange(2000)}"
            version = f"1.{rng.randrange(3)}.0"
            advisory = f"GHSA-bench-{index:07d}"
            location = Location(path="requirements.txt", start_line=1, purl=f"pkg:pypi/{package}@{version}")
            items.append(
                Finding(
                    rule_id=f"deps.{advisory}",
                    scanner="deps",
                    title=f"Vulnerable dependency: {package} {version} ({advisory})",
                    severity=severity,
                    location=location,
                    message=f"{package} {version} is affected by {advisory}",
                    fingerprint=make_fingerprint(f"deps.{advisory}", location, f"{package}@{version}"),
                    metadata={
                        "ecosystem": "PyPI",
                        "package": package,
                        "installed_version": version,
                        "advisory": advisory,
                        "fixed_versions": [f"1.{rng.randrange(3, 9)}.0"],
                    },
                )
            )
            continue
        rule = f"sast.rule{rng.randrange(150)}"
        location = Location(
            path=f"src/module{rng.randrange(300)}/file{index}.py", start_line=rng.randrange(1, 900)
        )
        items.append(
            Finding(
                rule_id=rule,
                scanner="sast",
                title=f"Problem {rule} found",
                severity=severity,
                location=location,
                message="=cmd|' /C calc'!A0 looks like a formula; " + "x" * rng.randrange(40, 200),
                fingerprint=make_fingerprint(rule, location, str(index)),
            )
        )
    return items


def _timed_export(store: Store, project: int, fmt: ExportFormat) -> tuple[float, int, float]:
    """Wall time and size of one export, then its peak Python memory in a second, traced run
    (tracemalloc slows Python down several times, so it does not run during the timing)."""
    start = time.perf_counter()
    size = sum(len(chunk) for chunk in export_chunks(iter_findings(store, FindingFilter([project])), fmt))
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    for _chunk in export_chunks(iter_findings(store, FindingFilter([project])), fmt):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, size, peak / 2**20


def main() -> None:
    """Load, then measure export, grouping and bulk triage; print a Markdown table row set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--findings", type=int, default=100_000)
    args = parser.parse_args()
    store, url, name = open_backend(args.backend, "bench_triage")
    try:
        with store.write() as session:
            project = create_project(session, "bench", "Bench", "bench").id
        items = make_findings(args.findings, 27)
        scope = Scope(".", (), frozenset({"sast", "deps"}), frozenset({"sast", "deps"}))
        start = time.perf_counter()
        for first in range(0, len(items), BATCH):
            parsed = ParsedScan(
                "bastion", "bench", ["sast", "deps"], items[first : first + BATCH], Coverage(scopes=(scope,))
            )
            ingest(store, project, parsed, "bench", full=False)
        load_s = time.perf_counter() - start
        if args.backend == "postgresql":
            with psycopg.connect(url, autocommit=True) as raw:
                raw.execute("VACUUM ANALYZE findings")
        print(f"backend {args.backend}, {args.findings} findings loaded in {load_s:.0f} s")
        for fmt in (ExportFormat.CSV, ExportFormat.JSON):
            elapsed, size, peak = _timed_export(store, project, fmt)
            print(
                f"| export {fmt.value} | {elapsed:.1f} s | {args.findings / elapsed:,.0f} findings/s "
                f"| {size / 2**20:.0f} MB written | peak Python memory {peak:.1f} MB |"
            )
        for by in ("package", "rule"):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                with store.read() as session:
                    page = group_findings(
                        session, FindingFilter([project], statuses=["open", "confirmed"]), by
                    )
                times.append(time.perf_counter() - start)
            median = sorted(times)[2] * 1000
            print(f"| group by {by}, first page | median {median:.0f} ms | {page.total} groups |")
        with store.read() as session:
            ids = list(session.scalars(select(FindingRecord.id).order_by(FindingRecord.id).limit(MAX_BULK)))
        for status in ("confirmed", "open"):
            start = time.perf_counter()
            with store.write() as session:
                found, _ = load_findings(session, ids)
                result = bulk_triage(session, found, status, "bench")
            elapsed = time.perf_counter() - start
            print(
                f"| bulk triage {len(result.changed)} -> {status} | {elapsed:.1f} s | one audit event each |"
            )
    finally:
        drop_backend(store, name)


if __name__ == "__main__":
    sys.exit(main())
