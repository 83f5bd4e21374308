"""Integrations in the server: sync a project's findings with its trackers, receive tracker
webhooks, send notifications (``/api/v1/projects/{slug}/integrations/...``).

The integrations file is named by ``BASTION_INTEGRATIONS`` (an embedding application or a test
may set ``app.state.integrations`` instead); the KEV catalog (CISA's JSON) by ``BASTION_KEV_FILE``.
Syncing and notifying need the triage right in the project; a webhook needs it too (a project
token with ``findings:triage``) *and* the tracker's signature.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from bastion.errors import InputError
from bastion.integrations.config import (
    ChannelConfig,
    IntegrationsConfig,
    TrackerConfig,
    load_config,
    secret_from_env,
)
from bastion.integrations.notify import Channel, dispatch, open_channel, pending_events
from bastion.integrations.sync import apply_issue_state, sync_tracker
from bastion.integrations.trackers import open_tracker
from bastion.integrations.webhook import parse_event, verify
from bastion.server.auth import Principal, require
from bastion.server.deps import get_settings, get_store, principal
from bastion.server.web import render
from bastion.store.integrations import IssueLink, SentNotice
from bastion.store.models import Project
from bastion.structured import read_json

__all__ = ["CONFIG_ENV", "KEV_ENV", "api", "pages"]

CONFIG_ENV = "BASTION_INTEGRATIONS"
KEV_ENV = "BASTION_KEV_FILE"
api = APIRouter(prefix="/api/v1/projects/{slug}", tags=["integrations"])
pages = APIRouter(tags=["integrations"])
Auth = Depends(principal)


def _config(request: Request) -> IntegrationsConfig:
    chosen = getattr(request.app.state, "integrations", None)
    if isinstance(chosen, IntegrationsConfig):
        return chosen
    path = os.environ.get(CONFIG_ENV, "").strip()
    if not path:
        raise HTTPException(409, f"no integrations configured (set {CONFIG_ENV} to the integrations file)")
    try:
        return load_config(Path(path))
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None


def _project_id(request: Request, slug: str, who: Principal, need: str = "triage") -> int:
    with get_store(request).read() as session:
        project_id = session.scalar(select(Project.id).where(Project.slug == slug))
        if project_id is None:
            raise HTTPException(404, "no such project")
        require(who, session, project_id, need)
        return project_id


def _tracker(config: IntegrationsConfig, name: str) -> TrackerConfig:
    tracker = config.tracker(name)
    if tracker is None:
        raise HTTPException(404, f"no tracker named {name!r}")
    return tracker


@api.post("/integrations/sync")
def sync(slug: str, request: Request, tracker: str | None = None, who: Principal = Auth) -> dict[str, Any]:
    """Open issues for new findings and bring closed/reopened issues back, per tracker."""
    project_id = _project_id(request, slug, who)
    config = _config(request)
    chosen = [_tracker(config, tracker)] if tracker else list(config.trackers)
    reports: list[dict[str, object]] = []
    for item in chosen:
        try:
            client = open_tracker(item, secret_from_env(item.token_env, f"tracker {item.name}"))
        except InputError as exc:
            reports.append({"tracker": item.name, "errors": [str(exc)]})
            continue
        reports.append(sync_tracker(get_store(request), project_id, item, client).to_dict())
    return {"project": slug, "trackers": reports}


@api.post("/integrations/{tracker}/webhook")
async def webhook(slug: str, tracker: str, request: Request, who: Principal = Auth) -> dict[str, Any]:
    """A tracker's issue event: verified, then the finding follows the issue's state."""
    project_id = _project_id(request, slug, who)
    item = _tracker(_config(request), tracker)
    if item.webhook_secret_env is None:
        raise HTTPException(409, f"tracker {item.name} has no webhook_secret_env")
    try:
        secret = secret_from_env(item.webhook_secret_env, f"tracker {item.name}")
    except InputError as exc:
        raise HTTPException(409, str(exc)) from None
    body = await request.body()
    try:
        verify(item, secret, request.headers, body)
        event = parse_event(item, body)
    except InputError as exc:
        raise HTTPException(401 if "signature" in type(exc).__name__.lower() else 422, str(exc)) from None
    if event is None:
        return {"ignored": True}
    with get_store(request).write() as session:
        link = session.scalar(
            select(IssueLink).where(IssueLink.tracker == item.name, IssueLink.external_key == event.key)
        )
        if link is None or link.project_id != project_id:
            return {"ignored": True, "issue": event.key}
        moved = apply_issue_state(session, item.name, event.key, event.closed, f"tracker:{item.name}")
    return {"issue": event.key, "finding": link.finding_id, "moved": moved}


def _kev() -> set[str]:
    path = os.environ.get(KEV_ENV, "").strip()
    if not path:
        return set()
    try:
        data = read_json(Path(path), what="KEV catalog")
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    items = data.get("vulnerabilities", []) if isinstance(data, dict) else []
    return {v["cveID"] for v in items if isinstance(v, dict) and isinstance(v.get("cveID"), str)}


@api.post("/notifications/run")
def notify(slug: str, request: Request, who: Principal = Auth) -> dict[str, Any]:
    """Send what is new (criticals, SLA breaches, KEV) to every channel, each at most once."""
    project_id = _project_id(request, slug, who)
    config = _config(request)
    channels: list[tuple[ChannelConfig, Channel]] = []
    problems = []
    for item in config.channels:
        try:
            channels.append((item, open_channel(item)))
        except InputError as exc:
            problems.append(str(exc))
    store = get_store(request)
    events = pending_events(store, project_id, get_settings(request).sla, _kev())
    report = dispatch(store, project_id, channels, events)
    report.failed[:0] = problems
    return {"project": slug, "events": len(events), **report.to_dict()}


@api.get("/integrations")
def overview(slug: str, request: Request, who: Principal = Auth) -> dict[str, Any]:
    """The project's linked issues and sent notifications."""
    project_id = _project_id(request, slug, who)
    with get_store(request).read() as session:
        links = session.scalars(
            select(IssueLink).where(IssueLink.project_id == project_id).order_by(IssueLink.id)
        )
        issues = [
            {"finding": link.finding_id, "tracker": link.tracker, "key": link.external_key, "url": link.url,
             "state": link.state}
            for link in links
        ]  # fmt: skip
        notices = session.scalars(
            select(SentNotice).where(SentNotice.project_id == project_id).order_by(SentNotice.id)
        )
        sent = [{"channel": n.channel, "event": n.event_key, "attempts": n.attempts} for n in notices]
    return {"project": slug, "issues": issues, "notifications": sent}


@pages.get("/projects/{slug}/integrations", response_class=HTMLResponse)
def integrations_page(slug: str, request: Request, who: Principal = Auth) -> Response:
    """The project's trackers (never their credentials), linked issues and notifications sent."""
    project_id = _project_id(request, slug, who, "read")
    trackers: tuple[TrackerConfig, ...] = ()
    problem = None
    try:
        trackers = _config(request).trackers
    except HTTPException as exc:
        problem = str(exc.detail)
    with get_store(request).read() as session:
        project = session.get_one(Project, project_id)
        issues = list(
            session.scalars(
                select(IssueLink).where(IssueLink.project_id == project_id).order_by(IssueLink.id)
            )
        )
        notices = list(
            session.scalars(
                select(SentNotice).where(SentNotice.project_id == project_id).order_by(SentNotice.id.desc())
            )
        )
        session.expunge_all()
    context = {
        "who": who,
        "project": project,
        "trackers": trackers,
        "problem": problem,
        "issues": issues,
        "notices": notices[:200],
    }
    return render(request, "integrations/index.html", context)
