"""Automatic response in the server: ``/respond`` (pending approvals, actions in force, the audit
trail) and ``/api/v1/respond`` (the same state as JSON).

The state is the respond ledger that ``bastion respond run`` writes (``app.state.respond_ledger``,
else ``$BASTION_RESPOND_LEDGER``); approving re-checks every safeguard and applies the action, so
the server also needs the playbooks (``app.state.respond_playbooks`` / ``$BASTION_RESPOND_PLAYBOOKS``)
and the safeguards file (``app.state.respond_safeguards`` / ``$BASTION_RESPOND_SAFEGUARDS``).
Anyone signed in may look; approve, deny, undo and keep (confirm) need a site administrator signed
in as a person (not a token), and the approver must not be the requester. Each press goes into the
ledger's hash-chained audit log and the server's audit log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bastion.errors import InputError
from bastion.respond.actions.libnft import load_libnftables
from bastion.respond.actions.registry import ActionContext
from bastion.respond.engine import Outcome, Responder
from bastion.respond.ledger import ActionRecord, Ledger, Status
from bastion.respond.playbook import load_playbooks, load_safeguards
from bastion.server.auth import Principal
from bastion.server.deps import get_store, principal
from bastion.server.web import reader, render
from bastion.store.models import AuditEvent

__all__ = ["LEDGER_ENV", "PLAYBOOKS_ENV", "SAFEGUARDS_ENV", "api", "pages"]

LEDGER_ENV = "BASTION_RESPOND_LEDGER"
PLAYBOOKS_ENV = "BASTION_RESPOND_PLAYBOOKS"
SAFEGUARDS_ENV = "BASTION_RESPOND_SAFEGUARDS"
AUDIT_ROWS = 50
"""Audit entries the page shows (newest first)."""

api = APIRouter(prefix="/api/v1/respond", tags=["respond"])
pages = APIRouter(include_in_schema=False)
Reader = Depends(reader)
Auth = Depends(principal)


def _configured(request: Request, attribute: str, env: str) -> Path | None:
    value = getattr(request.app.state, attribute, None) or os.environ.get(env, "").strip()
    return Path(value) if value else None


@contextmanager
def _responder(request: Request, *, need_playbooks: bool = False) -> Iterator[Responder]:
    """A responder over the configured ledger (404 when none is), closed after the request."""
    path = _configured(request, "respond_ledger", LEDGER_ENV)
    if path is None or not path.is_file():
        raise HTTPException(404, f"no respond ledger configured (set {LEDGER_ENV})")
    books_dir = _configured(request, "respond_playbooks", PLAYBOOKS_ENV)
    try:
        if need_playbooks and books_dir is None:
            raise InputError(f"approving applies the action: set {PLAYBOOKS_ENV} to the playbooks directory")
        books = load_playbooks(books_dir) if need_playbooks and books_dir is not None else []
        guards = load_safeguards(_configured(request, "respond_safeguards", SAFEGUARDS_ENV))
        ledger = Ledger(path)
    except InputError as exc:
        raise HTTPException(409, str(exc)) from None
    store = get_store(request)
    ctx = ActionContext(store=lambda: store, env=dict(os.environ), nft_library=load_libnftables())
    try:
        yield Responder(books, guards, ledger, ctx, requested_by="bastion-server")
    finally:
        ledger.close()


def _row(r: ActionRecord, now: datetime) -> dict[str, Any]:
    left = (r.undo_at - now).total_seconds() if r.undo_at and not r.confirmed else None
    expires = r.approval_expires_at
    return {
        "id": r.id,
        "playbook": r.playbook,
        "action": r.action,
        "target": r.target,
        "status": r.status.value,
        "requested_by": r.requested_by,
        "created_at": r.created_at.isoformat(),
        "applied_at": r.applied_at.isoformat() if r.applied_at else None,
        "undo_at": r.undo_at.isoformat() if r.undo_at else None,
        "ttl_left_s": max(0, int(left)) if left is not None else None,
        "approval_expires_at": expires.isoformat() if expires else None,
        "confirmed": r.confirmed,
        "detector": str(r.alert.get("detector", "")),
        "severity": str(r.alert.get("severity", "")),
        "explanation": str(r.alert.get("explanation", "")),
    }


def _state(responder: Responder) -> dict[str, Any]:
    now = datetime.now(UTC)
    ledger = responder.ledger
    entries = ledger.entries()[-AUDIT_ROWS:]
    return {
        "kill_switch": responder.kill_switch,
        "breaker": responder.breaker or None,
        "pending": [_row(r, now) for r in ledger.with_status(Status.PENDING)],
        "in_force": [_row(r, now) for r in ledger.with_status(Status.APPLIED)],
        "unresolved": [_row(r, now) for r in ledger.with_status(Status.INTENT, Status.UNKNOWN)],
        "audit_intact": ledger.verify() is None,
        "audit": [
            {"seq": e.seq, "at": e.at, "event": e.event, "action_id": e.action_id, "actor": e.actor,
             "reason": str(e.detail.get("reason", ""))}
            for e in reversed(entries)
        ],
    }  # fmt: skip


@api.get("", dependencies=[Reader])
def respond_api(request: Request) -> dict[str, Any]:
    """Kill switch, breaker, pending approvals, actions in force with their TTLs, the recent audit."""
    with _responder(request) as responder:
        return _state(responder)


@pages.get("/respond", response_class=HTMLResponse)
def respond_page(request: Request, who: Principal = Reader) -> Response:
    """Pending approvals (approve / deny) and actions in force (undo / keep), with their TTLs."""
    configured = _configured(request, "respond_ledger", LEDGER_ENV)
    if configured is None or not configured.is_file():
        return render(
            request, "respond/index.html", {"who": who, "state": None, "can_act": False, "env": LEDGER_ENV}
        )
    with _responder(request) as responder:
        state = _state(responder)
    can_act = who.user is not None and who.is_admin
    return render(request, "respond/index.html", {"who": who, "state": state, "can_act": can_act})


def _server_audit(request: Request, who: Principal, verb: str, outcome: Outcome) -> None:
    with get_store(request).write() as session:
        session.add(
            AuditEvent(
                actor=who.name,
                action=f"respond.{verb}",
                reason=f"{outcome.action_id} {outcome.playbook}/{outcome.action} {outcome.target}:"
                f" {outcome.status.value} ({outcome.reason})"[:2000],
            )
        )


def _act(request: Request, who: Principal, action_id: str, verb: str, reason: str = "") -> Response:
    if who.user is None or not who.is_admin:
        raise HTTPException(403, "a site administrator signed in as a person must decide on responses")
    with _responder(request, need_playbooks=verb == "approve") as responder:
        try:
            if verb == "approve":
                outcome = responder.approve(action_id, who.name)
            elif verb == "deny":
                outcome = responder.deny(action_id, who.name, reason.strip()[:500])
            elif verb == "undo":
                outcome = responder.undo(action_id, who.name)
            else:
                outcome = responder.confirm(action_id, who.name)
        except InputError as exc:
            raise HTTPException(409, str(exc)) from None
    _server_audit(request, who, verb, outcome)
    return RedirectResponse(f"/respond#action-{outcome.action_id}", status_code=303)


@pages.post("/respond/actions/{action_id}/approve")
def approve_page(request: Request, action_id: str, who: Principal = Auth) -> Response:
    """Approve a pending action as the signed-in administrator; it is applied through the gate."""
    return _act(request, who, action_id, "approve")


@pages.post("/respond/actions/{action_id}/deny")
def deny_page(
    request: Request, action_id: str, reason: str = Form(default="", max_length=500), who: Principal = Auth
) -> Response:
    """Refuse a pending action."""
    return _act(request, who, action_id, "deny", reason)


@pages.post("/respond/actions/{action_id}/undo")
def undo_page(request: Request, action_id: str, who: Principal = Auth) -> Response:
    """Undo an action in force now."""
    return _act(request, who, action_id, "undo")


@pages.post("/respond/actions/{action_id}/confirm")
def confirm_page(request: Request, action_id: str, who: Principal = Auth) -> Response:
    """Keep an action in force past its TTL (no automatic undo)."""
    return _act(request, who, action_id, "confirm")
