"""The /respond pages: pending approvals (approve / deny) and actions in force (undo / keep), role
checked and written to both audit logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from respond_dashboard_world import RespondWorld, seed
from server_world import World, bearer, build_world, login
from sqlalchemy import select
from store_backends import open_store

from bastion.respond.ledger import Ledger, Status
from bastion.store.models import AuditEvent


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    store = open_store("sqlite", tmp_path, None)
    yield build_world(store)
    store.close()


@pytest.fixture
def seeded(tmp_path: Path, world: World) -> RespondWorld:
    respond = seed(tmp_path)
    world.app.state.respond_ledger = str(respond.ledger)
    world.app.state.respond_playbooks = str(respond.playbooks)
    return respond


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def _status(respond: RespondWorld, action_id: str) -> Status:
    ledger = Ledger(respond.ledger)
    try:
        record = ledger.get(action_id)
        assert record is not None
        return record.status
    finally:
        ledger.close()


def _events(world: World) -> list[tuple[str, str, str]]:
    with world.store.read() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action.like("respond.%")))
        return [(e.actor, e.action, e.reason) for e in rows]


def test_viewer_sees_both_lists_without_buttons_and_cannot_act(
    client: TestClient, seeded: RespondWorld, world: World
) -> None:
    assert client.get("/respond").status_code == 303  # signed out: to the login page
    csrf = login(client, "vic")
    page = client.get("/respond")
    assert page.status_code == 200
    assert f'id="action-{seeded.pending}"' in page.text and f'id="action-{seeded.applied}"' in page.text
    assert "Approve</button>" not in page.text and "Only a site administrator" in page.text
    assert 'href="/respond" class="active"' in page.text
    denied = client.post(f"/respond/actions/{seeded.pending}/approve", data={"csrf_token": csrf})
    assert denied.status_code == 403
    assert _status(seeded, seeded.pending) is Status.PENDING and _events(world) == []


def test_admin_approves_then_undoes_and_both_audit_logs_say_so(
    client: TestClient, seeded: RespondWorld, world: World
) -> None:
    csrf = login(client, "root")
    page = client.get("/respond")
    assert "Approve</button>" in page.text and "Undo now</button>" in page.text
    assert client.post(f"/respond/actions/{seeded.pending}/approve").status_code == 403  # no CSRF token
    done = client.post(f"/respond/actions/{seeded.pending}/approve", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == f"/respond#action-{seeded.pending}"
    assert _status(seeded, seeded.pending) is Status.APPLIED
    assert len(list(seeded.changes.iterdir())) == 4  # both drifts now have their change proposal
    again = client.post(f"/respond/actions/{seeded.pending}/approve", data={"csrf_token": csrf})
    assert again.status_code == 409 and "not pending approval" in again.text
    assert (
        client.post(f"/respond/actions/{seeded.applied}/confirm", data={"csrf_token": csrf}).status_code
        == 303
    )
    assert "kept (no automatic undo)" in client.get("/respond").text
    assert (
        client.post(f"/respond/actions/{seeded.pending}/undo", data={"csrf_token": csrf}).status_code == 303
    )
    assert _status(seeded, seeded.pending) is Status.UNDONE
    assert len(list(seeded.changes.iterdir())) == 2
    assert [(a, v) for a, v, _ in _events(world)] == [
        ("root", "respond.approve"), ("root", "respond.confirm"), ("root", "respond.undo"),
    ]  # fmt: skip
    ledger = Ledger(seeded.ledger)
    events = [(e.event, e.actor) for e in ledger.entries(seeded.pending)]
    assert ("approved", "root") in events and ("undone", "root") in events and ledger.verify() is None
    ledger.close()
    state = client.get("/api/v1/respond").json()
    assert [r["id"] for r in state["in_force"]] == [seeded.applied] and state["pending"] == []
    assert state["audit"][0]["event"] == "undone" and state["audit_intact"] is True


def test_requester_cannot_approve_but_may_deny(client: TestClient, tmp_path: Path, world: World) -> None:
    respond = seed(tmp_path, requester="root")
    world.app.state.respond_ledger = str(respond.ledger)
    world.app.state.respond_playbooks = str(respond.playbooks)
    csrf = login(client, "root")
    refused = client.post(f"/respond/actions/{respond.pending}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "cannot approve it; another person must" in refused.text
    assert _status(respond, respond.pending) is Status.PENDING
    denied = client.post(
        f"/respond/actions/{respond.pending}/deny", data={"csrf_token": csrf, "reason": "benign"}
    )
    assert denied.status_code == 303 and _status(respond, respond.pending) is Status.REFUSED
    assert _events(world)[-1][1:] == ("respond.deny", f"{respond.pending} revert-drift/iac-revert "
                                      "aws_s3_bucket.logs: refused (denied by root: benign)")  # fmt: skip


def test_tokens_read_but_never_decide_and_missing_setup_is_said(
    client: TestClient, tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASTION_RESPOND_LEDGER", raising=False)
    monkeypatch.delenv("BASTION_RESPOND_PLAYBOOKS", raising=False)
    headers = bearer(world.read_token)
    assert client.get("/api/v1/respond", headers=headers).status_code == 404
    login(client, "vic")
    assert "No respond ledger here" in client.get("/respond").text
    client.cookies.clear()
    respond = seed(tmp_path)
    monkeypatch.setenv("BASTION_RESPOND_LEDGER", str(respond.ledger))
    state = client.get("/api/v1/respond", headers=headers).json()
    assert [r["id"] for r in state["pending"]] == [respond.pending]
    assert state["in_force"][0]["ttl_left_s"] > 7000 and state["kill_switch"] is False
    post = client.post(f"/respond/actions/{respond.pending}/approve", headers=bearer(world.demo_token))
    assert post.status_code == 403 and _status(respond, respond.pending) is Status.PENDING
    # an administrator without the playbooks configured is told what to set; nothing is applied
    csrf = login(client, "root")
    answer = client.post(f"/respond/actions/{respond.pending}/approve", data={"csrf_token": csrf})
    assert answer.status_code == 409 and "BASTION_RESPOND_PLAYBOOKS" in answer.text
    assert _status(respond, respond.pending) is Status.PENDING
    assert client.post("/respond/actions/nosuchid/undo", data={"csrf_token": csrf}).status_code == 409
