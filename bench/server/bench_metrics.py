"""Benchmark of the metrics endpoints (``/api/v1/metrics/<name>``, ``/metrics``) at 100,000 findings.

Usage (from the repository root):
    .venv/bin/python bench/server/bench_metrics.py --backend postgresql
    .venv/bin/python bench/server/bench_metrics.py --backend postgresql --findings 100000 --seed 2
    .venv/bin/python bench/server/bench_metrics.py --backend sqlite
    .venv/bin/python bench/server/bench_metrics.py --keep   # then --url URL to time it again

The store is filled directly (not through uploads, which bench_server.py measures): ``--projects``
projects with a year of history each: findings first seen over 365 days, about 60 % fixed after
a skewed number of days, 35 % open or confirmed, the rest false positives or accepted; 2 % flagged
known exploited; 400 rules; one end-of-day snapshot per project and severity for every day of
the year (the trend table a year of daily uploads leaves); 50 scans a project. Each endpoint is
called ``--repeat`` times in-process (FastAPI's TestClient: routing, auth, the query, JSON) as an
admin (every project, the largest answer) and as a member of one project; the median and the
slowest call are printed, with the store function's own time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from throwaway_store import drop_backend, open_backend

from bastion.server.app import create_app
from bastion.server.settings import ServerSettings
from bastion.store.accounts import create_project, create_user, set_role
from bastion.store.db import Store
from bastion.store.metrics import METRICS
from bastion.store.models import DailyCount, FindingRecord, Scan

HERE = Path(__file__).parent
SEVERITIES = ["critical"] * 3 + ["high"] * 17 + ["medium"] * 40 + ["low"] * 30 + ["info"] * 10
RANKS = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
PASSWORD = "bench metrics password"  # bastion: ignore[sast.bandit.B105] throwaway account of a throwaway db
NOW = datetime.now(UTC).replace(microsecond=0)


def _finding_row(rng: random.Random, project_id: int, index: int) -> dict[str, Any]:
    severity = rng.choice(SEVERITIES)
    first_seen = NOW - timedelta(days=rng.uniform(0, 365))
    roll = rng.random()
    status = (
        "fixed" if roll < 0.6 else "open" if roll < 0.9 else "confirmed" if roll < 0.95 else "false_positive"
    )
    if 0.97 < roll < 0.98:
        status = "risk_accepted"
    fixed_at = None
    if status == "fixed":
        fixed_at = min(NOW, first_seen + timedelta(days=rng.expovariate(1 / 25)))
    kev = rng.random() < 0.02
    extra: dict[str, Any] = {"kev": kev}
    if kev:
        extra["kev_date_added"] = (NOW - timedelta(days=rng.uniform(0, 400))).date().isoformat()
    rule = f"{rng.choice(('sast', 'deps', 'iac', 'secrets'))}.rule-{rng.randrange(400)}"
    path = f"src/m{rng.randrange(300)}/f{index}.py"
    return {
        "project_id": project_id,
        "fingerprint": f"{project_id}-{index}-{rng.getrandbits(48):x}",
        "rule_id": rule,
        "scanner": rule.split(".")[0],
        "title": f"{rule} finding",
        "search_key": f"{rule}\x1f{path}".lower(),
        "severity": severity,
        "severity_rank": RANKS[severity],
        "confidence": "high",
        "location": path,
        "location_data": {"path": path, "start_line": rng.randrange(1, 900)},
        "message": "synthetic",
        "evidence": "",
        "fix": "",
        "help_uri": "",
        "cwe": [],
        "controls": [],
        "extra": extra,
        "status": status,
        "first_seen": first_seen,
        "last_seen": fixed_at or NOW,
        "fixed_at": fixed_at,
        "reopen_count": 0,
    }


def seed(store: Store, findings: int, projects: int, rng: random.Random) -> dict[str, int]:
    """Fill the store; returns the project ids by slug."""
    with store.write() as session:
        admin = create_user(session, "admin", PASSWORD, admin=True)
        member = create_user(session, "member", PASSWORD)
        ids: dict[str, int] = {}
        for n in range(projects):
            project = create_project(session, f"service-{n:03d}", f"Service {n}", "bench")
            ids[project.slug] = project.id
        set_role(
            session, member, session.get_one(type(project), ids["service-000"]), "viewer", admin.username
        )
    per_project = findings // projects
    rows_done = 0
    for slug, project_id in ids.items():
        rows = [_finding_row(rng, project_id, i) for i in range(per_project)]
        with store.write() as session:
            session.execute(insert(FindingRecord), rows)
            session.execute(
                insert(DailyCount),
                [
                    {
                        "project_id": project_id,
                        "day": (NOW - timedelta(days=d)).date(),
                        "severity": sev,
                        "open_count": rng.randrange(0, 400),
                    }
                    for d in range(365)
                    for sev in RANKS
                ],
            )
            session.execute(
                insert(Scan),
                [
                    {
                        "project_id": project_id,
                        "created_at": NOW - timedelta(days=7 * s),
                        "source_format": "bastion",
                        "tool": "bastion bench",
                        "scanners": ["sast", "deps", "iac", "secrets"][: 1 + (s + project_id) % 4],
                        "full": True,
                        "uploaded_by": "bench",
                        "gaps": [],
                    }
                    for s in range(50)
                ],
            )
        rows_done += len(rows)
        print(f"\r  seeded {rows_done:,} findings ({slug})", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    return ids


def _login(client: TestClient, username: str) -> None:
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf})
    if response.status_code != 303:
        raise RuntimeError(f"sign-in as {username} failed: {response.status_code}")


def _time(client: TestClient, url: str, repeat: int) -> tuple[float, float, int]:
    took = []
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        took.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.text[:200]}")
        size = len(response.content)
    return statistics.median(took), max(took), size


def main() -> None:
    """Seed, time every endpoint, print a table and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--url", help="time the database a --keep run left (no seeding; kept)")
    args = parser.parse_args()
    if args.url:
        store, url, name = Store.open(args.url), args.url, None
        store.migrate()
        args.keep = True
    else:
        store, url, name = open_backend(args.backend, "bench_metrics")
    results: dict[str, Any] = {"backend": store.engine.dialect.name, "projects": args.projects}
    try:
        if not args.url:
            started = time.perf_counter()
            rng = random.Random(args.seed)  # bastion: ignore[sast.bandit.B311] synthetic data, not security
            seed(store, args.findings, args.projects, rng)
            results["seed_s"] = round(time.perf_counter() - started, 1)
        with store.read() as session:
            results["findings"] = session.scalar(select(func.count()).select_from(FindingRecord))
        app = create_app(ServerSettings(), store)
        timings: dict[str, dict[str, Any]] = {}
        for who in ("admin", "member"):
            with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
                _login(client, who)
                client.get("/api/v1/metrics/mttr")  # warm the connection pool and the caches
                for metric in METRICS:
                    median, worst, size = _time(client, f"/api/v1/metrics/{metric}", args.repeat)
                    timings[f"{who} {metric}"] = {
                        "median_ms": round(median * 1000, 1),
                        "max_ms": round(worst * 1000, 1),
                        "bytes": size,
                    }
                median, worst, size = _time(client, "/metrics", args.repeat)
                timings[f"{who} /metrics page"] = {
                    "median_ms": round(median * 1000, 1),
                    "max_ms": round(worst * 1000, 1),
                    "bytes": size,
                }
        results["timings"] = timings
        print(f"{'endpoint':28} {'median ms':>10} {'max ms':>10} {'bytes':>9}")
        for key, value in timings.items():
            print(f"{key:28} {value['median_ms']:>10.1f} {value['max_ms']:>10.1f} {value['bytes']:>9}")
        print(json.dumps(results))
    finally:
        if args.keep:
            print(f"kept: {url or store.engine.url}", file=sys.stderr)
            store.close()
        else:
            drop_backend(store, name)


if __name__ == "__main__":
    main()
