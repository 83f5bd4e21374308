"""The readiness dashboard page and ``/api/v1/ready``: the same assessment, with the caller's rights."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from fastapi.testclient import TestClient
from server_world import World, bearer, login
from sqlalchemy import select

from bastion.server.compliance import compliance_scores
from bastion.server.ready import direct
from bastion.store.models import Project


def test_api_with_a_project_token(seeded: World) -> None:
    with TestClient(seeded.app, base_url="http://testserver") as client:
        data = client.get("/api/v1/ready?project=demo", headers=bearer(seeded.demo_token)).json()
    assert data["scope"] == "demo" and data["verdict"] == "not ready"
    kinds = {k["kind"]: k for k in data["kinds"]}
    assert kinds["scan.secrets"]["state"] == "counted"
    assert kinds["scan.secrets"]["evidence"][0]["origin"] == "/api/v1/projects/demo/scans"
    assert kinds["patch.kev"]["score"] == 0.5
    sources = {s["name"]: s for s in data["sources"]}
    assert sources["phish"]["why"] == "HTTP 403 for /api/v1/phish/campaigns"  # a token is no person
    assert sources["questionnaire"]["state"] == "missing"
    # every source a project token may read was read (an endpoint's new parameter broke none)
    assert {n: s["why"] for n, s in sources.items() if n in ("scans", "findings", "compliance")} == {
        "scans": "",
        "findings": "",
        "compliance": "",
    }


def test_endpoints_called_in_process_get_their_declared_defaults() -> None:
    def endpoint(slug: str, limit: int = Query(default=50), branch: str = Query(default="")) -> Any:
        return slug, limit, branch

    assert direct(endpoint, slug="demo") == ("demo", 50, "")
    assert direct(endpoint, slug="demo", limit=5) == ("demo", 5, "")


def test_compliance_posture_per_project_is_the_project_pages_score(seeded: World) -> None:
    with TestClient(seeded.app, base_url="http://testserver", headers=bearer(seeded.demo_token)) as client:
        posture = client.get("/api/v1/ready/compliance").json()["projects"]
        data = client.get("/api/v1/ready?project=demo").json()
    assert [row["project"] for row in posture] == ["demo"]  # the token's project only
    with seeded.store.read() as session:
        demo = session.scalars(select(Project).where(Project.slug == "demo")).one()
        assert posture[0]["frameworks"] == compliance_scores(session, [demo.id])
    scores = {f["framework"]: f["score"] for f in posture[0]["frameworks"]}
    kinds = {k["kind"]: k for k in data["kinds"]}
    comply = kinds["comply.posture"]
    # the mean of the frameworks' pass shares, as old as the newest scan (5 days)
    assert comply["score"] == round(sum(scores.values()) / len(scores) / 100, 3)
    assert comply["reason"].startswith(
        f"demo: compliance posture {sum(scores.values()) / len(scores):.0f}% passed"
    )
    assert round(comply["age_days"]) == 5
    assert kinds["sbom.produced"]["reason"] == (
        "not evidenced: a Bastion server keeps no SBOM: bastion ready --from DIR reads the files "
        "bastion sbom wrote"
    )


def test_page_for_an_admin_per_project_and_organisation(seeded: World) -> None:
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "root")
        page = client.get("/ready")
        assert page.status_code == 200
        assert "Are we ready to respond to a cyberattack?" in page.text
        assert "organisation: not ready" in page.text
        assert 'href="/ready?project=demo"' in page.text and 'href="/ready?project=other"' in page.text
        assert '<strong aria-current="page">Organisation</strong>' in page.text
        assert "no phishing campaign has delivered mail yet" in page.text  # signed in: read, and empty
        assert 'href="/ready" class="active">Readiness' in page.text.replace("\n", "")
        project = client.get("/ready?project=other")
        assert "other: not ready" in project.text and "Three weakest points" in project.text
        assert (
            '<strong aria-current="page">other</strong>' in project.text and 'href="/ready">' in project.text
        )


def test_viewer_sees_only_their_projects(seeded: World) -> None:
    with TestClient(seeded.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "vic")
        page = client.get("/ready")
        assert 'href="/ready?project=demo"' in page.text
        assert 'href="/ready?project=other"' not in page.text


def test_empty_server_page_gives_first_steps(world: World) -> None:
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "root")
        page = client.get("/ready")
    assert "organisation: not ready" in page.text and "no evidence yet" in page.text
    assert "First steps" in page.text and "bastion scan . --scanners secrets --upload URL" in page.text


def test_signed_out_is_refused(world: World) -> None:
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as client:
        assert client.get("/api/v1/ready").status_code == 401
        assert client.get("/ready").status_code in (302, 303, 401)
