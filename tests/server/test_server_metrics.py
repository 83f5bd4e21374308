"""The metrics page, its CSVs and its JSON: numbers, scope of each caller, empty states; both back ends."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_world import World, bearer, build_world, login
from sqlalchemy import select
from store_backends import open_store

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.server.metrics import csv_text
from bastion.store.accounts import create_token
from bastion.store.coverage import Coverage, Scope
from bastion.store.ingest import ingest
from bastion.store.metrics import METRICS, Metric
from bastion.store.models import Project, utcnow
from bastion.store.parse import ParsedScan


def _finding(rule: str, path: str, severity: Severity, title: str = "", **metadata: object) -> Finding:
    location = Location(path=path, start_line=1)
    return Finding(
        rule_id=f"sast.{rule}",
        scanner="sast",
        title=title or f"{rule} title",
        severity=severity,
        location=location,
        message=rule,
        fingerprint=make_fingerprint(f"sast.{rule}", location, path),
        metadata=dict(metadata),
    )


def _scan(*findings: Finding) -> ParsedScan:
    scope = Scope(".", (), frozenset({"sast"}), frozenset({"sast"}))
    return ParsedScan("bastion", "bastion test", ["sast"], list(findings), Coverage(scopes=(scope,)))


def _seed(world: World) -> None:
    """demo: a critical fixed after 4 days, a KEV-listed high open 20 days, a formula-like title;
    other: a high of the same rule as demo's open one, open 3 days."""
    store = world.store
    with store.read() as session:
        ids = dict(session.execute(select(Project.slug, Project.id)).all())
    now = utcnow()
    fixed = _finding("sqli", "db.py", Severity.CRITICAL)
    kev = _finding(
        "log4j",
        "pom.xml",
        Severity.HIGH,
        kev=True,
        kev_date_added=(now - timedelta(days=30)).date().isoformat(),
    )
    formula = _finding("xss", "views.py", Severity.MEDIUM, title='=HYPERLINK("http://evil")')
    ingest(store, ids["demo"], _scan(fixed, kev, formula), "ci", now=now - timedelta(days=20))
    ingest(store, ids["demo"], _scan(kev, formula), "ci", now=now - timedelta(days=16))
    ingest(
        store,
        ids["other"],
        _scan(_finding("log4j", "lib.jar", Severity.HIGH)),
        "ci",
        now=now - timedelta(days=3),
    )


@dataclass
class Seeded:
    """A test client over a seeded world."""

    client: TestClient
    world: World


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[Seeded]:
    """A client over a seeded world on each back end."""
    store = open_store(request.param, tmp_path, postgres_url)
    world = build_world(store)
    _seed(world)
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        yield Seeded(client, world)
    store.close()


def _rows(client: TestClient, name: str, **params: str) -> list[dict[str, object]]:
    response = client.get(f"/api/v1/metrics/{name}", params=params)
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert isinstance(rows, list)
    return rows


def test_admin_sees_every_project(seeded: Seeded) -> None:
    login(seeded.client, "root")
    assert seeded.client.get("/api/v1/metrics").json() == {"metrics": list(METRICS)}
    mttr = seeded.client.get("/api/v1/metrics/mttr").json()
    assert mttr["rows"] == [
        {"group": "severity", "key": "critical", "fixed": 1, "mean_days": 4.0},
        {"group": "project", "key": "demo", "fixed": 1, "mean_days": 4.0},
    ]
    assert mttr["empty"] is False and mttr["project"] is None
    rules = _rows(seeded.client, "rules")
    assert rules[0]["rule_id"] == "sast.log4j" and rules[0]["projects"] == 2
    assert {r["project"] for r in _rows(seeded.client, "burndown")} == {"demo", "other"}
    (kev,) = _rows(seeded.client, "kev")
    assert (
        kev["project"] == "demo"
        and kev["status"] == "open"
        and 19.9 < float(str(kev["exposed_days"])) <= 20.1
    )
    assert {r["project"] for r in _rows(seeded.client, "coverage")} == {"demo", "other"}
    age = {r["age_days"]: r for r in _rows(seeded.client, "age")}
    assert age["0-7"]["high"] == 1 and age["8-30"]["high"] == 1 and age["8-30"]["medium"] == 1
    sla = seeded.client.get("/api/v1/metrics/sla", params={"period": "week"}).json()
    assert sla["columns"][0] == "week" and len(sla["rows"]) == 26
    assert sla["summary"]["due"] == 1 and sla["summary"]["percent_met"] == 100.0  # the critical, in 4 days


def test_member_sees_only_their_projects(seeded: Seeded) -> None:
    login(seeded.client, "maya")
    assert {r["project"] for r in _rows(seeded.client, "burndown")} == {"demo"}
    assert _rows(seeded.client, "rules")[0]["projects"] == 1
    assert seeded.client.get("/api/v1/metrics/rules", params={"project": "other"}).status_code == 403
    assert seeded.client.get("/metrics/rules.csv", params={"project": "other"}).status_code == 403
    assert seeded.client.get("/metrics", params={"project": "other"}).status_code == 403
    assert seeded.client.get("/api/v1/metrics/rules", params={"project": "nope"}).status_code == 404
    page = seeded.client.get("/metrics")
    assert page.status_code == 200
    assert 'value="demo"' in page.text and 'value="other"' not in page.text


def test_project_token_reads_its_project_only(seeded: Seeded) -> None:
    world = seeded.world
    mine = seeded.client.get("/api/v1/metrics/burndown", headers=bearer(world.read_token)).json()
    assert {r["project"] for r in mine["rows"]} == {"demo"}
    assert (
        seeded.client.get(
            "/api/v1/metrics/age", params={"project": "other"}, headers=bearer(world.read_token)
        ).status_code
        == 403
    )


def test_csv_behind_each_chart_neutralises_formulas(seeded: Seeded) -> None:
    login(seeded.client, "root")
    page = seeded.client.get("/metrics")
    links = re.findall(r'href="(/metrics/[a-z]+\.csv[^"]*)"', page.text)
    assert [link.split("/")[2].split(".")[0] for link in links] == list(METRICS)
    for link in links:
        response = seeded.client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
    rules = list(csv.reader(io.StringIO(seeded.client.get("/metrics/rules.csv").text)))
    assert rules[0] == ["rule_id", "projects", "open_findings", "title"]
    xss = next(r for r in rules if r[0] == "sast.xss")
    assert xss[3].startswith("'=HYPERLINK")
    scoped = seeded.client.get("/metrics/burndown.csv", params={"project": "demo", "days": "7"})
    assert 'filename="bastion-burndown-demo.csv"' in scoped.headers["content-disposition"]
    assert len(list(csv.reader(io.StringIO(scoped.text)))) == 1 + 7


def test_page_draws_every_metric(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bastion.server.metrics.TABLE_ROWS", 5)
    login(seeded.client, "root")
    page = seeded.client.get("/metrics", params={"project": "demo", "period": "week", "days": "14"})
    assert page.status_code == 200
    for name in METRICS:
        assert f'id="metric-{name}"' in page.text
    assert page.text.count('<svg class="chart') >= 5
    assert "Metrics · Demo app" in page.text
    assert 'href="/metrics" class="active"' in page.text
    assert "/metrics/burndown.csv?project=demo&amp;days=14" in page.text
    assert "/metrics/sla.csv?project=demo&amp;period=week" in page.text
    assert "The first 5 of 14 rows; the CSV has them all." in page.text  # burn-down: 14 days


def test_bad_input_is_one_line(seeded: Seeded) -> None:
    login(seeded.client, "root")
    unknown = seeded.client.get("/api/v1/metrics/velocity")
    assert unknown.status_code == 404 and "choose from mttr" in unknown.json()["detail"]
    assert seeded.client.get("/api/v1/metrics/sla", params={"period": "year"}).status_code == 422
    assert seeded.client.get("/api/v1/metrics/burndown", params={"days": "2"}).status_code == 422
    assert seeded.client.get("/metrics/velocity.csv").status_code == 404


def test_empty_store_says_no_data_yet(tmp_path: Path) -> None:
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store)
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "root")
        page = client.get("/metrics")
        assert page.status_code == 200
        assert page.text.count("No data yet.") == len(METRICS)
        assert '<svg class="chart' not in page.text
        for name in METRICS:
            assert client.get(f"/api/v1/metrics/{name}").json()["empty"] is True
    store.close()


def test_signed_out_and_unscoped_callers_are_refused(seeded: Seeded) -> None:
    assert seeded.client.get("/metrics").status_code == 303
    assert seeded.client.get("/api/v1/metrics/mttr").status_code == 401
    world = seeded.world
    with world.store.write() as session:
        demo = session.scalars(select(Project).where(Project.slug == "demo")).one()
        upload_only = create_token(session, demo, "upload", "root", ("scan:upload",)).secret
    assert seeded.client.get("/api/v1/metrics/mttr", headers=bearer(upload_only)).status_code == 403


def test_csv_text_quotes_and_blanks() -> None:
    metric = Metric("x", "X", ("a", "b", "c"), [("-1 + 2", None, 'say "hi", then go')])
    assert csv_text(metric) == 'a,b,c\r\n\'-1 + 2,,"say ""hi"", then go"\r\n'
