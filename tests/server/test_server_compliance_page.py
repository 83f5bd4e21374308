"""The compliance page: controls by family, failing families first and open, passing ones folded,
every evidence line marked, long finding lists expandable; scoped like every other page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from server_world import DATA, World, bearer, login
from sqlalchemy import select

from bastion.server.compliance import SHOWN_FINDINGS, compliance_detail
from bastion.store.ingest import ingest
from bastion.store.models import Project
from bastion.store.parse import parse_upload


def _seed(world: World, copies: int = 3) -> None:
    """The examples scan into demo, each finding ``copies`` times (distinct fingerprints)."""
    with world.store.read() as session:
        demo = session.scalars(select(Project.id).where(Project.slug == "demo")).one()
    parsed = parse_upload((DATA / "examples-scan.json").read_bytes(), "examples-scan.json")
    parsed.findings = [
        f.with_changes(fingerprint=f"{f.fingerprint}-{n}") for n in range(copies) for f in parsed.findings
    ]
    ingest(world.store, demo, parsed, "ci")


class _Families(HTMLParser):
    """(family id, open, has failing controls) of each ``details.family``, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, bool, bool]] = []
        self._pending: tuple[bool, bool] | None = None
        self._in_b = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "details" and "family" in (named.get("class") or ""):
            self._pending = ("open" in named, "has-fail" in (named.get("class") or ""))
        self._in_b = tag == "b" and self._pending is not None

    def handle_data(self, data: str) -> None:
        if self._in_b and self._pending is not None:
            self.found.append((data.strip(), *self._pending))
            self._pending = None
            self._in_b = False


def test_failing_families_first_and_open_passing_folded(client: TestClient, world: World) -> None:
    _seed(world)
    login(client, "root")
    page = client.get("/compliance")
    assert page.status_code == 200
    section = page.text.split('id="fw-nist-800-53-r5"', 1)[1].split("</section>", 1)[0]
    parser = _Families()
    parser.feed(section)
    families = parser.found
    assert families, section[:500]
    failing = [f for f in families if f[2]]
    passing = [f for f in families if not f[2]]
    assert failing and passing
    assert families[: len(failing)] == failing  # failing families come first
    assert all(is_open for _, is_open, _ in failing)
    assert not any(is_open for _, is_open, _ in passing)


def test_controls_mark_each_evidence_line_and_expand_long_lists(client: TestClient, world: World) -> None:
    _seed(world)
    with world.store.read() as session:
        detail = compliance_detail(session, None)
    controls = [c for fw in detail for fam in fw["families"] for c in fam["controls"]]
    long = [c for c in controls if c["more_count"]]
    assert long, "no control has more than SHOWN_FINDINGS findings"
    assert all(len(c["shown"]) == SHOWN_FINDINGS for c in long)
    assert all(
        len(c["shown"]) + len(c["more"]) + c["unlisted"] == SHOWN_FINDINGS + c["more_count"] for c in long
    )
    marked = [e for c in controls for e in c["evidence"] if e["status"] == "pass"]
    assert marked, "no process evidence passed"
    failing_with_passing_evidence = [
        c for c in controls if c["status"] == "fail" and any(e["status"] == "pass" for e in c["evidence"])
    ]
    login(client, "root")
    html = client.get("/compliance").text
    assert f"<summary>and {long[0]['more_count']} more</summary>" in html
    assert failing_with_passing_evidence
    cell = f"<td><b>{failing_with_passing_evidence[0]['id']}</b></td>"
    row = html.split(cell, 1)[1].split("</tr>", 1)[0]
    assert "mark-fail" in row and "mark-pass" in row  # the control fails, that evidence passes
    rows = re.findall(r'<li class="evidence">(.*?)</li>', html, flags=re.S)
    process = [r for r in rows if "scanner ran" in r or "SBOM" in r]
    assert process and all("mark-" in r for r in process)


def test_scope_and_empty_state(client: TestClient, world: World) -> None:
    login(client, "maya")
    empty = client.get("/compliance")
    assert empty.status_code == 200 and "No data yet" in empty.text
    _seed(world)
    assert "Controls by family" not in client.get("/compliance").text  # the page itself lists them
    assert 'id="fw-nist-800-53-r5"' in client.get("/compliance?project=demo").text
    assert client.get("/compliance?project=other").status_code == 403
    assert client.get("/compliance?project=nope").status_code == 404
    overview = client.get("/").text
    assert 'href="/compliance"' in overview and 'id="fw-' not in overview
    project = client.get("/projects/demo").text
    assert 'href="/compliance?project=demo"' in project


def test_tokens_need_the_read_scope(client: TestClient, world: World) -> None:
    _seed(world)
    assert client.get("/compliance", headers=bearer(world.read_token)).status_code == 200
    with world.store.write() as session:
        from bastion.store.accounts import create_token

        demo = session.scalars(select(Project).where(Project.slug == "demo")).one()
        upload_only = create_token(session, demo, "upload", "root", ("scan:upload",)).secret
    assert client.get("/compliance", headers=bearer(upload_only)).status_code == 403
