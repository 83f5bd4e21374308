"""Readiness test helpers: a Bastion server seeded with realistic history, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from server_world import World, build_world, serve_in_thread
from store_backends import open_store

from bastion.store.ingest import ingest
from bastion.store.models import Project
from bastion.store.parse import parse_document

__all__ = ["NOW", "World", "seed_history", "seeded", "seeded_live"]

NOW = datetime.now(UTC).replace(microsecond=0)


def finding(rule: str, scanner: str, severity: str, title: str, fingerprint: str) -> dict[str, Any]:
    """One finding as Bastion's JSON report holds it."""
    return {
        "rule_id": rule,
        "scanner": scanner,
        "title": title,
        "severity": severity,
        "confidence": "high",
        "location": {"path": "app/requirements.txt", "start_line": 3, "end_line": 3},
        "message": title,
        "evidence": "",
        "fingerprint": fingerprint,
        "cwe": [],
        "controls": [],
        "fix": "",
        "help_uri": "",
        "metadata": {},
    }


KEV = finding(
    "deps.GHSA-kev1", "deps", "critical", "Vulnerable dependency: lib 1.0 (CVE-1, known exploited)", "k1"
)
KEV_LATE = finding(
    "deps.GHSA-kev2", "deps", "high", "Vulnerable dependency: old 2.0 (CVE-2, known exploited)", "k2"
)
SECRET = finding("secrets.aws-access-key", "secrets", "high", "AWS access key", "s1")
MEDIUM = finding("sast.bandit.B602", "sast", "medium", "subprocess with shell=True", "m1")
CRITICAL = finding("deps.GHSA-crit", "deps", "critical", "Vulnerable dependency: web 3.0 (CVE-3)", "c1")


def report(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``bastion scan --format json`` report whose scope says secrets, deps and sast ran."""
    return {
        "schema_version": 1,
        "tool": {"name": "bastion", "version": "0.1.0"},
        "target": ".",
        "scope": {
            "root": ".",
            "excludes": [],
            "history": "all",
            "scanners": {n: {"status": "complete"} for n in ("secrets", "deps", "sast")},
        },
        "summary": {"total": len(findings)},
        "findings": findings,
        "skipped": [],
        "failures": [],
        "notices": [],
    }


def seed_history(world: World) -> None:
    """Three scans of ``demo``: 60 days ago (two KEV, a secret, a medium), 50 days ago (the first
    KEV fixed in 10 days), 5 days ago (the secret fixed, the second KEV still open after 60 days, a
    new critical)."""
    with world.store.read() as session:
        demo = session.query(Project).filter_by(slug="demo").one().id
    history = (
        (60, [KEV, KEV_LATE, SECRET, MEDIUM]),
        (50, [KEV_LATE, SECRET, MEDIUM]),
        (5, [KEV_LATE, MEDIUM, CRITICAL]),
    )
    for days, findings in history:
        parsed = parse_document(report(findings), "scan.json")
        ingest(world.store, demo, parsed, "ci", now=NOW - timedelta(days=days))


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[World]:
    """The server world with the demo project's history, on each back end."""
    store = open_store(request.param, tmp_path, postgres_url)
    world = build_world(store)
    seed_history(world)
    yield world
    store.close()


@pytest.fixture
def seeded_live(tmp_path: Path) -> Iterator[tuple[str, World]]:
    """The seeded world served by uvicorn on 127.0.0.1 (SQLite)."""
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store)
    seed_history(world)
    for live in serve_in_thread(world):
        yield live.url, world
    store.close()
