"""Ingest of an imported 50,000-finding Trivy report into PostgreSQL (or SQLite): the store's
ingest as it is now and as it was at an earlier revision, in the same process.

The report is bench/imports/trivy_50k.py's (the real Trivy fixture replicated), converted with
``bastion import`` into a Bastion JSON report (what ``bastion upload --tool trivy`` sends), then
parsed and ingested into a fresh project (``bastion.store.ingest.ingest``: de-duplication,
lifecycle, audit events, trend snapshot), once with src/bastion/store/ingest.py as committed at
``--before`` (written to build/bench-server/ingest_before.py with ``git show``; before issue 27's
``COPY`` path, by default) and once with the current module. Wall and CPU seconds of each.

Usage: .venv/bin/python bench/server/bench_trivy_ingest.py [--findings 50000]
       [--url postgresql://postgres@127.0.0.1:5432/postgres] [--before REV | --before none]
A throwaway database is created on that server and dropped afterwards; ``--url sqlite`` uses
build/bench-server/trivy.db.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "bench/imports"), str(ROOT / "bench/server")]

from revisions import module_at  # noqa: E402  (bench scripts, not a package)
from trivy_50k import OUT, build_report  # noqa: E402

from bastion.cli.main import main  # noqa: E402
from bastion.store import ingest as ingest_module  # noqa: E402
from bastion.store.accounts import create_project  # noqa: E402
from bastion.store.db import Store  # noqa: E402
from bastion.store.parse import parse_upload  # noqa: E402


def _database(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database URL and the function that drops it."""
    if url == "sqlite":
        path = ROOT / "build/bench-server/trivy.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    name = f"bastion_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    return f"{url.rsplit('/', 1)[0]}/{name}", drop


def run(findings: int, url: str, before: str) -> None:
    """Print one line per ingest module: wall and CPU seconds of parse + ingest."""
    trivy = build_report(findings)
    report = OUT / "trivy-bastion.json"
    main(["import", str(trivy), "-o", str(report), "-q"])
    data = report.read_bytes()
    modules = (
        [] if before == "none" else [(f"before {before}", module_at(before, "src/bastion/store/ingest.py"))]
    )
    modules.append(("current", ingest_module))
    target, drop = _database(url)
    store = Store.open(target)
    try:
        store.migrate()
        print(f"{findings:,} Trivy findings, {len(data) / 1e6:.1f} MB Bastion JSON, {store.dialect}")
        for label, module in modules:
            with store.write() as session:
                project = create_project(session, f"p{uuid.uuid4().hex[:6]}", label, "bench").id
            wall, cpu = time.perf_counter(), time.process_time()
            parsed: Any = parse_upload(data, "trivy-bastion.json", max_results=findings + 1)
            result = module.ingest(store, project, parsed, "bench")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{label:<15} wall {wall:6.1f} s  cpu {cpu:6.1f} s  new {result.new:,}")
    finally:
        store.close()
        drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--before", default="e68823c", help="revision of the ingest to compare, or none")
    arguments = parser.parse_args()
    run(arguments.findings, arguments.url, arguments.before)
