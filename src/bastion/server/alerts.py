"""Alerts on the server: the upload API for detectors, the alerts and identity pages.

``api`` (prefix ``/api/v1``): ``POST /alerts`` takes Bastion Alert JSON (one object, a list, or
``{"alerts": [...]}``) from ``identity``, ``sigma``, ``watch`` and ``respond`` with a project token
holding ``scan:upload`` (or ``POST /projects/{slug}/alerts`` for a maintainer), stores each alert
once per project (by fingerprint), scrubbed of secrets; ``GET /alerts`` lists with filters,
``POST /alerts/{id}/status`` acknowledges, closes or reopens (triage role; in the audit log).
``pages``: ``/alerts`` (filter by detector, entity, severity, status), ``/alerts/{id}`` (the
explanation, evidence and history, with acknowledge/close), ``/identity`` and ``/identity/{user}``
(one person's alerts and their reasons).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.server.api import project_by_slug, visible_project_ids
from bastion.server.auth import Principal, require
from bastion.server.deps import DB, get_store, principal
from bastion.server.web import reader, render
from bastion.store.alerts import (
    ALERT_STATUSES,
    AlertFilter,
    AlertRecord,
    alert_history,
    change_status,
    identities,
    identity_summary,
    list_alerts,
    parse_alerts,
    severity_counts,
    store_alerts,
)
from bastion.store.models import Project

__all__ = ["ALERT_BODY_LIMIT", "alert_json", "api", "pages"]

ALERT_BODY_LIMIT = 8 * 1024 * 1024
"""Bytes one alerts upload may send (the app's upload limit applies too)."""
SEVERITIES = ("critical", "high", "medium", "low", "info")
PAGE_SIZE = 50

api = APIRouter(prefix="/api/v1", tags=["alerts"])
pages = APIRouter(include_in_schema=False)
Auth = Depends(principal)
Reader = Depends(reader)


class StatusIn(BaseModel):
    """A status change of one alert."""

    status: str
    reason: str = Field(default="", max_length=5000)


def alert_json(record: AlertRecord, slug: str | None = None) -> dict[str, Any]:
    """An alert as the API returns it: the Alert fields plus its id, project, status and names."""
    return {
        "id": record.id,
        "project": slug if slug is not None else record.project_id,
        "fingerprint": record.fingerprint,
        **record.to_alert().to_dict(),
        "source": record.source,
        "status": record.status,
        "status_at": record.status_at.isoformat() if record.status_at else None,
        "status_by": record.status_by,
        "received_at": record.received_at.isoformat(),
        "users": record.users,
        "ips": record.ips,
    }


def _slugs(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Project.id, Project.slug).where(Project.id.in_(ids)))
    return {int(project_id): str(slug) for project_id, slug in rows}


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > ALERT_BODY_LIMIT:
        raise HTTPException(413, f"alerts upload larger than {ALERT_BODY_LIMIT} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > ALERT_BODY_LIMIT:
            raise HTTPException(413, f"alerts upload larger than {ALERT_BODY_LIMIT} bytes")
    return bytes(body)


async def _upload(request: Request, slug: str | None, who: Principal) -> dict[str, Any]:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "send alerts as application/json")
    body = await _read_body(request)
    name = request.headers.get("x-bastion-filename", "alerts")[:200]
    store = get_store(request)

    def work() -> dict[str, Any]:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise HTTPException(422, f"{name}: not JSON ({str(exc)[:120]})") from None
        try:
            parsed = parse_alerts(document, name)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        with store.write() as session:
            if slug is None:
                if who.token is None:
                    raise HTTPException(400, "use /api/v1/projects/{slug}/alerts when signed in as a user")
                project_id = who.token.project_id
            else:
                project_id = project_by_slug(session, slug).id
            require(who, session, project_id, "upload")
            session.execute(select(Project.id).where(Project.id == project_id).with_for_update()).one()
            result = store_alerts(session, project_id, parsed, who.name)
        return {
            "received": result.received,
            "new": result.new,
            "duplicates": result.duplicates,
            "ids": result.ids,
        }

    return await run_in_threadpool(work)


@api.post("/alerts", status_code=201)
async def upload_alerts(request: Request, who: Principal = Auth) -> dict[str, Any]:
    """Store alerts for the token's project (scope ``scan:upload``); a repeat is a duplicate."""
    return await _upload(request, None, who)


@api.post("/projects/{slug}/alerts", status_code=201)
async def upload_project_alerts(slug: str, request: Request, who: Principal = Auth) -> dict[str, Any]:
    """Store alerts for the project ``slug`` (maintainers, or that project's token)."""
    return await _upload(request, slug, who)


def _filter(
    session: Session,
    who: Principal,
    project: str,
    detector: str,
    entity: str,
    severity: list[str] | None,
    status: list[str] | None,
    page: int,
    limit: int = PAGE_SIZE,
    *,
    received: bool = False,
    after_id: int = 0,
) -> AlertFilter:
    ids = visible_project_ids(session, who)
    if project:
        chosen = project_by_slug(session, project)
        require(who, session, chosen.id, "read")
        ids = [chosen.id]
    return AlertFilter(
        ids,
        detector=detector.strip()[:100],
        entity=entity.strip()[:500],
        severities=tuple(s for s in severity or () if s in SEVERITIES),
        statuses=tuple(s for s in status or () if s in ALERT_STATUSES),
        limit=limit,
        offset=(max(page, 1) - 1) * limit,
        received=received,
        after_id=max(after_id, 0),
    )


def _alert(session: Session, who: Principal, alert_id: int, need: str) -> AlertRecord:
    record = session.get(AlertRecord, alert_id)
    if record is None:
        raise HTTPException(404, "no such alert")
    require(who, session, record.project_id, need)
    return record


@api.get("/alerts", dependencies=[Reader])
def alerts_api(
    project: str = "",
    detector: str = "",
    entity: str = "",
    severity: list[str] | None = Query(default=None),
    status: list[str] | None = Query(default=None),
    page: int = 1,
    limit: int = Query(default=PAGE_SIZE, ge=1, le=500),
    after_id: int = 0,
    sort: str = Query(default="received", pattern="^(received|time)$"),
    who: Principal = Auth,
    session: Session = DB,
) -> dict[str, Any]:
    """Alerts of the projects the caller may read, with filters: newest received first (by id, so a
    poller paging back meets what it saw before; ``after_id`` skips it), or ``sort=time``."""
    args = (session, who, project, detector, entity, severity, status, page, limit)
    result = list_alerts(session, _filter(*args, received=sort == "received", after_id=after_id))
    slugs = _slugs(session, {r.project_id for r in result.alerts})
    return {"total": result.total, "alerts": [alert_json(r, slugs.get(r.project_id)) for r in result.alerts]}


@api.get("/alerts/{alert_id}", dependencies=[Reader])
def alert_api(alert_id: int, who: Principal = Auth, session: Session = DB) -> dict[str, Any]:
    """One alert with its status history."""
    record = _alert(session, who, alert_id, "read")
    data = alert_json(record, _slugs(session, {record.project_id}).get(record.project_id))
    data["history"] = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "from": e.from_status,
            "to": e.to_status,
            "reason": e.reason,
        }
        for e in alert_history(session, record)
    ]
    return data


@api.post("/alerts/{alert_id}/status")
def alert_status_api(
    alert_id: int, body: StatusIn, who: Principal = Auth, session: Session = DB
) -> dict[str, Any]:
    """Acknowledge, close or reopen an alert (triage role or scope)."""
    record = _alert(session, who, alert_id, "triage")
    try:
        changed = change_status(session, record, body.status, who.name, body.reason)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": record.id, "status": record.status, "changed": changed}


@pages.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    project: str = "",
    detector: str = "",
    entity: str = "",
    severity: list[str] | None = Query(default=None),
    status: list[str] | None = Query(default=None),
    page: int = 1,
    who: Principal = Reader,
    session: Session = DB,
) -> Response:
    """Alerts with filters (open and acknowledged by default), newest first."""
    status = status if status is not None else ["open", "acknowledged"]
    filt = _filter(session, who, project, detector, entity, severity, status, page)
    result = list_alerts(session, filt)
    visible = visible_project_ids(session, who)
    query = select(Project).order_by(Project.slug)
    if visible is not None:
        query = query.where(Project.id.in_(visible or [-1]))
    projects = list(session.scalars(query))
    params = {
        "project": project,
        "detector": filt.detector,
        "entity": filt.entity,
        "severity": list(filt.severities),
        "status": list(filt.statuses),
    }
    context = {
        "who": who,
        "result": result,
        "projects": projects,
        "slugs": {p.id: p.slug for p in projects},
        "filters": params,
        "statuses": ALERT_STATUSES,
        "severities": SEVERITIES,
        "page": max(page, 1),
        "pages": max(1, -(-result.total // PAGE_SIZE)),
        "base_query": urlencode({k: v for k, v in params.items() if v}, doseq=True),
        "counts": severity_counts(result.alerts),
    }
    return render(request, "alerts/list.html", context)


@pages.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: int, who: Principal = Reader, session: Session = DB) -> Response:
    """One alert: why it is abnormal, its evidence, the people and addresses, status and history."""
    record = _alert(session, who, alert_id, "read")
    context = {
        "who": who,
        "a": record,
        "project": session.get(Project, record.project_id),
        "history": alert_history(session, record),
        "statuses": ALERT_STATUSES,
        "can_triage": who.user is not None
        and who.role(session, record.project_id) in ("maintainer", "admin"),
        "metadata": {k: v for k, v in record.extra.items() if k not in ("users", "ips")},
    }
    return render(request, "alerts/alert.html", context)


@pages.post("/alerts/{alert_id}/status")
def alert_status_page(
    alert_id: int,
    status: str = Form(),
    reason: str = Form(default="", max_length=5000),
    who: Principal = Auth,
    session: Session = DB,
) -> Response:
    """Acknowledge, close or reopen from the alert page."""
    record = _alert(session, who, alert_id, "triage")
    try:
        change_status(session, record, status, who.name, reason)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/alerts/{record.id}", status_code=303)


@pages.get("/identity", response_class=HTMLResponse)
def identities_page(request: Request, who: Principal = Reader, session: Session = DB) -> Response:
    """The identities alerts name, most alerted first."""
    rows = identities(session, visible_project_ids(session, who))
    return render(request, "alerts/identities.html", {"who": who, "rows": rows})


@pages.get("/identity/{user:path}", response_class=HTMLResponse)
def identity_page(request: Request, user: str, who: Principal = Reader, session: Session = DB) -> Response:
    """One identity: its sign-in alerts on a timeline (newest first), by kind, with their reasons."""
    summary = identity_summary(session, user[:500], visible_project_ids(session, who))
    slugs = _slugs(session, {r.project_id for r in summary.alerts})
    return render(request, "alerts/identity.html", {"who": who, "s": summary, "slugs": slugs})
