"""Benchmark of ``bastion serve``: ingest of a 10,000-finding scan, and the findings list
with 100,000 findings stored, under a bounded loopback load generator (httpx threads).

Usage (from the repository root):
    .venv/bin/python bench/server/bench_server.py --backend sqlite
    .venv/bin/python bench/server/bench_server.py --backend postgresql
    .venv/bin/python bench/server/bench_server.py --backend postgresql --stored 1000000 --list-only \
        --replicate --keep                       # a million findings, the database kept
    .venv/bin/python bench/server/bench_server.py --list-only --reuse URL   # measured again on it
    .venv/bin/python bench/server/bench_server.py --list-only --reuse URL --groups  # + grouping by package
    .venv/bin/python bench/server/bench_server.py --backend postgresql --stored 1000000 --list-only \
        --replicate --branch-rows --keep --branches   # + branch rows, the list filtered by branch

The scan is synthetic but shaped like real reports (Bastion JSON, Finding.to_dict): five
scanners, a realistic severity mix, paths across a deep tree, messages and evidence of
typical length; each ``deps`` finding names a vulnerable package version (2,000 packages,
three versions each) as the dependency scanner does, so grouping by package has groups to make.
The server runs in its own process (uvicorn), the load generator here.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess  # bastion: ignore[sast.bandit.B404] starts the server under test, fixed argv
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import func, select
from throwaway_store import drop_backend, open_backend

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.store.accounts import create_project, create_token, create_user
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.models import FindingRecord, Project
from bastion.store.parse import parse_upload

HERE = Path(__file__).parent
SCANNERS = ("sast", "secrets", "deps", "iac", "dast")
SEVERITIES = [Severity.CRITICAL] * 3 + [Severity.HIGH] * 17 + [Severity.MEDIUM] * 40 + [Severity.LOW] * 30
SEVERITIES += [Severity.INFO] * 10


def make_report(count: int, seed: int, tag: str) -> bytes:
    """A Bastion JSON report of ``count`` distinct findings."""
    rng = random.Random(seed)  # bastion: ignore[sast.bandit.B311] reproducible synthetic data, not security
    findings = []
    for index in range(count):
        scanner = SCANNERS[index % len(SCANNERS)]
        rule = f"{scanner}.rule-{rng.randrange(400)}"
        path = f"src/module{rng.randrange(300)}/sub{rng.randrange(20)}/file{index}.py"
        location = Location(path=path, start_line=rng.randrange(1, 2000))
        content = f"{tag}-{index}-{rng.random()}"
        metadata: dict[str, Any] = {}
        if scanner == "deps":
            package, version = f"pkg{rng.randrange(2000)}", f"1.{rng.randrange(3)}.0"
            metadata = {
                "ecosystem": "PyPI",
                "package": package,
                "installed_version": version,
                "advisory": f"GHSA-{tag}-{index:07d}",
                "fixed_versions": [f"1.{rng.randrange(3, 9)}.0"],
            }
        findings.append(
            Finding(
                rule_id=rule,
                scanner=scanner,
                title=f"{scanner} problem number {rng.randrange(400)} in generated code",
                severity=rng.choice(SEVERITIES),
                location=location,
                message="A value from the request reaches a sensitive call without validation; " * 2,
                fingerprint=make_fingerprint(rule, location, content),
                evidence=f"call(user_input_{index})",
                cwe=(rng.choice((79, 89, 502, 798, 327)),),
                fix="Validate the value against an allow-list before use.",
                metadata=metadata,
            ).to_dict()
        )
    document = {"schema_version": 1, "tool": {"name": "bastion", "version": "bench"},
                "scanners": list(SCANNERS), "findings": findings}  # fmt: skip
    return json.dumps(document).encode()


def bench_ingest(backend: str) -> dict[str, float]:
    """Seconds to parse + ingest a 10,000-finding scan into an empty project, then again (all seen)."""
    store, _url, name = open_backend(backend)
    try:
        with store.write() as session:
            project = create_project(session, "ingest", "Ingest", "bench").id
        data = make_report(10_000, 1, "ingest")
        started = time.perf_counter()
        first = ingest(store, project, parse_upload(data, "bench.json"), "bench")
        cold = time.perf_counter() - started
        started = time.perf_counter()
        second = ingest(store, project, parse_upload(data, "bench.json"), "bench")
        warm = time.perf_counter() - started
        if first.new != 10_000 or second.unchanged != 10_000:
            raise RuntimeError(f"ingest miscounted: {first} then {second}")
        return {"first_s": cold, "repeat_s": warm, "mb": len(data) / 1e6}
    finally:
        drop_backend(store, name)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _replicate(url: str, project_id: int, copies: int) -> None:
    """Copy the project's findings ``copies - 1`` times in SQL (new fingerprints and ids, first
    seen spread over a year): a million stored rows in minutes instead of a long ingest."""
    with psycopg.connect(url, autocommit=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'findings' "
                "AND column_name NOT IN ('id', 'fingerprint', 'first_seen') ORDER BY ordinal_position"
            )
        ]
        columns = sql.SQL(", ").join(sql.Identifier(n) for n in names)
        connection.execute(
            sql.SQL(
                "INSERT INTO findings (fingerprint, first_seen, {columns}) "
                "SELECT fingerprint || ':' || k, "
                "first_seen - make_interval(days => (k * 37 + id) %% 365), {columns} "
                "FROM findings CROSS JOIN generate_series(1, %s) AS k WHERE project_id = %s"
            ).format(columns=columns),
            (copies - 1, project_id),
        )


BRANCH_REPO = "github.com/acme/shop"
RELEASES = ("release/1.1", "release/1.2", "release/2.0")
_BRANCH_ROWS = """
INSERT INTO finding_branches
    (finding_id, project_id, repository, branch, status, first_seen, last_seen, fixed_at, last_scan_id)
SELECT f.id, f.project_id, %(repo)s, b.branch, b.status, f.first_seen, f.last_seen,
       CASE WHEN b.status = 'fixed' THEN f.last_seen END, f.last_scan_id
FROM findings AS f CROSS JOIN LATERAL (
    SELECT 'main' AS branch, CASE WHEN f.id %% 10 = 0 THEN 'fixed' ELSE 'open' END AS status
    UNION ALL
    SELECT r.branch, CASE WHEN (f.id / 7 + r.n) %% 5 < 2 THEN 'fixed' ELSE 'open' END
    FROM (VALUES (1, %(r1)s), (2, %(r2)s), (3, %(r3)s)) AS r (n, branch)
    WHERE (f.id * 37) %% 100 < 15 AND (r.n < 3 OR (f.id * 37) %% 100 < 5)
) AS b
WHERE f.project_id = %(project)s
"""
"""Every finding on ``main`` (a tenth fixed there); 15 % also on release/1.1 and release/1.2, 5 %
on release/2.0 too, each open on 60 % of its release rows and fixed on 40 %."""


def _branch_rows(url: str, project_id: int) -> dict[str, int]:
    """Replace the project's branch rows by :data:`_BRANCH_ROWS`'s, in SQL, and fix the findings that
    no branch has open (as a scan would); returns the rows per branch."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DELETE FROM finding_branches WHERE project_id = %s", (project_id,))
        params = {
            "repo": BRANCH_REPO,
            "project": project_id,
            **{f"r{i + 1}": b for i, b in enumerate(RELEASES)},
        }
        connection.execute(_BRANCH_ROWS, params)
        connection.execute(
            "UPDATE findings SET status = 'fixed', fixed_at = last_seen WHERE project_id = %s "
            "AND NOT EXISTS (SELECT 1 FROM finding_branches AS b WHERE b.finding_id = findings.id "
            "AND b.status = 'open')",
            (project_id,),
        )
        connection.execute("VACUUM ANALYZE finding_branches")
        rows = connection.execute(
            "SELECT branch, count(*) FROM finding_branches WHERE project_id = %s GROUP BY branch",
            (project_id,),
        ).fetchall()
    return {str(branch): int(count) for branch, count in rows}


def bench_list(
    backend: str,
    requests: int,
    concurrency: int,
    limit_s: float,
    stored: int = 100_000,
    replicate: bool = False,
    keep: bool = False,
    reuse: str = "",
    groups: bool = False,
    branch_rows: bool = False,
    branches: bool = False,
) -> dict[str, Any]:
    """Latency of the findings list (API and dashboard) with ``stored`` findings in one project
    (``reuse``: the URL of a database a ``--keep`` run left, measured again without loading)."""
    if reuse:
        store, url, name = Store.open(reuse), reuse, None
        store.migrate()
        keep = True
    else:
        store, url, name = open_backend(backend)
    server = None
    login_secret = secrets.token_urlsafe(16)
    user = f"bench-{uuid.uuid4().hex[:6]}"
    try:
        with store.write() as session:
            found = session.scalars(select(Project).where(Project.slug == "big")).first()
            project = found or create_project(session, "big", "Big", "bench")
            token = create_token(session, project, user, "bench", ("findings:read",)).secret
            create_user(session, user, login_secret, admin=True)
            project_id = project.id
        started = time.perf_counter()
        through_ingest = 0 if reuse else stored if not replicate else min(stored, 100_000)
        for batch in range(through_ingest // 10_000):
            ingest(
                store,
                project_id,
                parse_upload(make_report(10_000, 100 + batch, f"b{batch}")),
                "bench",
                full=False,
            )
        if replicate and not reuse and stored > through_ingest:
            if name is None:
                raise SystemExit("--replicate needs --backend postgresql")
            _replicate(url, project_id, stored // through_ingest)
        load_s = time.perf_counter() - started
        if branch_rows and not url.startswith("postgresql"):
            raise SystemExit("--branch-rows needs PostgreSQL")
        rows_per_branch = _branch_rows(url, project_id) if branch_rows else {}
        if name is not None or url.startswith("postgresql"):
            # What autovacuum does after a bulk load; without it PostgreSQL plans blind.
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute("VACUUM ANALYZE findings")
        port = 18000 + os.getpid() % 1000
        env = {**os.environ, "BASTION_DATABASE_URL": url}
        server = subprocess.Popen(  # bastion: ignore[sast.bandit.B603] our own interpreter and module
            [sys.executable, "-m", "uvicorn", "--factory", "bastion.server.app:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        # Generous: on a loaded machine importing the app alone can take half a minute.
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the server did not answer on {base}") from None
                time.sleep(0.2)
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        cookies = _login(base, user, login_secret)
        paths = [
            "/api/v1/projects/big/findings",
            "/api/v1/projects/big/findings?severity=high&severity=critical",
            "/api/v1/projects/big/findings?sort=first_seen&order=asc&page=40",
            "/api/v1/projects/big/findings?q=module42/",
            "/api/v1/projects/big/findings?status=open&sort=title&page=3",
            "/api/v1/projects/big/findings?overdue=true",
        ]
        html = ["/findings?project=big", "/findings?project=big&severity=medium&sort=first_seen&page=7"]
        grouped = "/api/v1/projects/big/findings/groups?by=package"
        group_api = [
            grouped,
            f"{grouped}&status=open&status=confirmed",
            f"{grouped}&severity=high&severity=critical",
            f"{grouped}&page=20",
            "/api/v1/projects/big/findings/groups/items?by=package&ecosystem=PyPI&package=pkg7&version=1.0.0",
        ]
        listed = "/api/v1/projects/big/findings"
        branch_api = [
            f"{listed}?branch=main",
            f"{listed}?branch=main&branch_status=open&status=open&status=confirmed",
            f"{listed}?branch=release/1.2&branch_status=open",
            f"{listed}?branch=release/2.0&branch_status=fixed&severity=high&severity=critical",
            f"{listed}?repository={BRANCH_REPO}&branch=main&branch_status=fixed&sort=first_seen&page=5",
            f"{listed}?branch=release/1.1&sort=first_seen&order=asc&page=20",
            f"{listed}?branch_status=open&sort=title&page=3",
        ]
        group_page = "/findings/groups?project=big&by=package"
        group_html = [group_page, f"{group_page}&page=5"]
        mixes = [("api", paths, False), ("dashboard", html, True)]
        if groups:
            mixes += [("groups_api", group_api, False), ("groups_dashboard", group_html, True)]
        if branches:
            mixes += [("branches_api", branch_api, False)]
        for path in [p for _, mix, _ in mixes for p in mix]:  # warm-up, and a check that every query answers
            response = client.get(path, cookies=cookies if path in html + group_html else None)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
        with store.read() as session:
            stored = session.scalar(select(func.count(FindingRecord.id))) or 0
        results: dict[str, Any] = {"stored": stored, "load_s": load_s}
        if rows_per_branch:
            results["branch_rows"] = rows_per_branch
        for label, mix, use_cookie in mixes:
            latencies: list[float] = []
            stop = time.monotonic() + limit_s

            by_path: dict[str, list[float]] = {path: [] for path in mix}

            def one(
                i: int,
                mix: list[str] = mix,
                use_cookie: bool = use_cookie,
                stop: float = stop,
                by_path: dict[str, list[float]] = by_path,
            ) -> float | None:
                if time.monotonic() > stop:
                    return None
                path = mix[i % len(mix)]
                t0 = time.perf_counter()
                response = client.get(path, cookies=cookies if use_cookie else None)
                elapsed = time.perf_counter() - t0
                by_path[path].append(elapsed)
                return elapsed if response.status_code == 200 else -1.0

            with ThreadPoolExecutor(concurrency) as pool:
                outcome = list(pool.map(one, range(requests)))
            latencies = [x for x in outcome if x is not None and x >= 0]
            errors = sum(1 for x in outcome if x is not None and x < 0)
            results[f"{label}_p95_by_path_ms"] = {
                path: round(1000 * _percentile(values, 0.95), 1) for path, values in by_path.items() if values
            }
            results[label] = {
                "requests": len(latencies),
                "errors": errors,
                "p50_ms": 1000 * statistics.median(latencies),
                "p95_ms": 1000 * _percentile(latencies, 0.95),
                "p99_ms": 1000 * _percentile(latencies, 0.99),
                "max_ms": 1000 * max(latencies),
            }
        client.close()
        return results
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if keep:
            print(f"kept: {url}", file=sys.stderr)
            store.close()
        else:
            drop_backend(store, name)


def _login(base: str, user: str, login_secret: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"username": user, "password": login_secret, "csrf_token": csrf}
        client.post("/login", data=form)
        return client.cookies


def main() -> None:
    """Run both benchmarks on one back end and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=600, help="requests per mix (bounded)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--limit-s", type=float, default=60.0, help="time bound per mix")
    parser.add_argument("--stored", type=int, default=100_000, help="findings stored for the list (x 10,000)")
    parser.add_argument("--list-only", action="store_true", help="skip the 10,000-finding ingest benchmark")
    parser.add_argument(
        "--replicate", action="store_true", help="PostgreSQL: ingest 100,000, copy them in SQL up to --stored"
    )
    parser.add_argument("--keep", action="store_true", help="keep the list database (its URL goes to stderr)")
    parser.add_argument("--reuse", default="", help="measure the list on a database a --keep run left (URL)")
    parser.add_argument("--groups", action="store_true", help="also measure grouping by package (API, page)")
    parser.add_argument(
        "--branch-rows", action="store_true", help="PostgreSQL: replace the branch rows by main + releases"
    )
    parser.add_argument("--branches", action="store_true", help="also measure the list filtered by branch")
    args = parser.parse_args()
    if args.stored < 10_000 or args.stored % 10_000:
        parser.error("--stored must be a positive multiple of 10,000")
    report: dict[str, Any] = {"backend": args.backend, "concurrency": args.concurrency}
    if not args.list_only:
        report["ingest_10k"] = bench_ingest(args.backend)
    report["list"] = bench_list(
        args.backend,
        args.requests,
        args.concurrency,
        args.limit_s,
        args.stored,
        args.replicate,
        args.keep,
        args.reuse,
        args.groups,
        args.branch_rows,
        args.branches,
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
