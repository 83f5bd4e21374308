"""Benchmark of ``bastion serve``: ingest of a 10,000-finding scan, and the findings list
with 100,000 findings stored, under a bounded loopback load generator (httpx threads).

Usage (from the repository root):
    .venv/bin/python bench/server/bench_server.py --backend sqlite
    .venv/bin/python bench/server/bench_server.py --backend postgresql

The scan is synthetic but shaped like real reports (Bastion JSON, Finding.to_dict): five
scanners, a realistic severity mix, paths across a deep tree, messages and evidence of
typical length. The server runs in its own process (uvicorn), the load generator here.
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

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.store.accounts import create_project, create_token, create_user
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.parse import parse_upload

HERE = Path(__file__).parent
WORK = HERE / "work"
SCANNERS = ("sast", "secrets", "deps", "iac", "dast")
SEVERITIES = [Severity.CRITICAL] * 3 + [Severity.HIGH] * 17 + [Severity.MEDIUM] * 40 + [Severity.LOW] * 30
SEVERITIES += [Severity.INFO] * 10
PG_ADMIN = os.environ.get("BASTION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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
            ).to_dict()
        )
    document = {"schema_version": 1, "tool": {"name": "bastion", "version": "bench"},
                "scanners": list(SCANNERS), "findings": findings}  # fmt: skip
    return json.dumps(document).encode()


def open_backend(backend: str) -> tuple[Store, str, str | None]:
    """A fresh, migrated store; returns it, its URL and the throwaway PostgreSQL db name."""
    WORK.mkdir(exist_ok=True)
    if backend == "sqlite":
        path = WORK / f"bench-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        name = None
    else:
        name = f"bastion_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    store = Store.open(url)
    store.migrate()
    return store, url, name


def drop_backend(store: Store, url: str, name: str | None) -> None:
    """Remove the benchmark database."""
    store.close()
    if name is None:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def bench_ingest(backend: str) -> dict[str, float]:
    """Seconds to parse + ingest a 10,000-finding scan into an empty project, then again (all seen)."""
    store, url, name = open_backend(backend)
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
        drop_backend(store, url, name)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_list(backend: str, requests: int, concurrency: int, limit_s: float) -> dict[str, Any]:
    """Latency of the findings list (API and dashboard) with 100,000 findings stored."""
    store, url, name = open_backend(backend)
    server = None
    login_secret = secrets.token_urlsafe(16)
    try:
        with store.write() as session:
            project = create_project(session, "big", "Big", "bench")
            token = create_token(session, project, "bench", "bench", ("findings:read",)).secret
            create_user(session, "bench", login_secret, admin=True)
            project_id = project.id
        started = time.perf_counter()
        for batch in range(10):
            ingest(
                store,
                project_id,
                parse_upload(make_report(10_000, 100 + batch, f"b{batch}")),
                "bench",
                full=False,
            )
        load_s = time.perf_counter() - started
        if name is not None:
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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        cookies = _login(base, login_secret)
        paths = [
            "/api/v1/projects/big/findings",
            "/api/v1/projects/big/findings?severity=high&severity=critical",
            "/api/v1/projects/big/findings?sort=first_seen&order=asc&page=40",
            "/api/v1/projects/big/findings?q=module42/",
            "/api/v1/projects/big/findings?status=open&sort=title&page=3",
            "/api/v1/projects/big/findings?overdue=true",
        ]
        html = ["/findings?project=big", "/findings?project=big&severity=medium&sort=first_seen&page=7"]
        for path in paths + html:  # warm-up, and a check that every query answers
            response = client.get(path, cookies=cookies if path in html else None)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
        results: dict[str, Any] = {"load_100k_s": load_s}
        for label, mix, use_cookie in (("api", paths, False), ("dashboard", html, True)):
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
        drop_backend(store, url, name)


def _login(base: str, login_secret: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"username": "bench", "password": login_secret, "csrf_token": csrf}
        client.post("/login", data=form)
        return client.cookies


def main() -> None:
    """Run both benchmarks on one back end and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=600, help="requests per mix (bounded)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--limit-s", type=float, default=60.0, help="time bound per mix")
    args = parser.parse_args()
    report = {
        "backend": args.backend,
        "ingest_10k": bench_ingest(args.backend),
        "list_100k": bench_list(args.backend, args.requests, args.concurrency, args.limit_s),
        "concurrency": args.concurrency,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
