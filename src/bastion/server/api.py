"""The REST API under ``/api/v1``: projects, scans, findings, triage, tokens, audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.server.auth import Principal, require
from bastion.server.deps import DB, get_settings, get_store, principal
from bastion.store.accounts import create_project, create_token, revoke_token, set_role
from bastion.store.branches import (
    BranchRef,
    branch_choice,
    branch_ref,
    describe_states,
    repository_choice,
    states_of,
)
from bastion.store.db import Store
from bastion.store.ingest import IngestResult, ingest
from bastion.store.lifecycle import triage
from bastion.store.models import ApiToken, AuditEvent, FindingRecord, Project, Scan, User
from bastion.store.queries import (
    BRANCH_STATUSES,
    COUNT_CAP,
    SORTS,
    FindingFilter,
    list_findings,
    open_counts,
    patch_latency,
)
from bastion.store.stream import UploadSpool

__all__ = ["READ_SCOPE", "finding_json", "router", "visible_project_ids"]

READ_SCOPE = "findings:read"
PLACE_CHARS = 1000
"""Longest ``repository`` or ``branch`` parameter taken (cut to the stored length after
normalising: a URL's scheme and credentials go first)."""

router = APIRouter(prefix="/api/v1", tags=["api"])
Auth = Depends(principal)


class ProjectIn(BaseModel):
    """A new project."""

    slug: str = Field(max_length=100)
    name: str = Field(default="", max_length=200)


class TriageIn(BaseModel):
    """A triage decision."""

    status: str
    reason: str = Field(default="", max_length=5000)
    until: datetime | None = None


class TokenIn(BaseModel):
    """A new project token."""

    name: str = Field(max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["scan:upload", "findings:read"])
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class MemberIn(BaseModel):
    """A user's role in a project."""

    username: str
    role: str


def visible_project_ids(session: Session, who: Principal) -> list[int] | None:
    """Projects the caller may read (None: all, for admins); none for a token without read scope."""
    if who.token is not None:
        return [who.token.project_id] if READ_SCOPE in who.token.scopes else []
    if who.is_admin or who.user is None:
        return None if who.is_admin else []
    return [m.project_id for m in session.get_one(User, who.user.id).memberships]


def project_by_slug(session: Session, slug: str) -> Project:
    """The project, or 404."""
    project = session.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise HTTPException(404, "no such project")
    return project


def finding_json(finding: FindingRecord, project: Project | None = None) -> dict[str, Any]:
    """A finding as the API returns it."""
    return {
        "id": finding.id,
        "project": project.slug if project else finding.project_id,
        "fingerprint": finding.fingerprint,
        "rule_id": finding.rule_id,
        "scanner": finding.scanner,
        "title": finding.title,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "location": finding.location_data,
        "message": finding.message,
        "evidence": finding.evidence,
        "fix": finding.fix,
        "help_uri": finding.help_uri,
        "cwe": finding.cwe,
        "controls": finding.controls,
        "metadata": finding.extra,
        "status": finding.status,
        "first_seen": finding.first_seen.isoformat(),
        "last_seen": finding.last_seen.isoformat(),
        "fixed_at": finding.fixed_at.isoformat() if finding.fixed_at else None,
        "reopen_count": finding.reopen_count,
        "accepted_reason": finding.accepted_reason,
        "accepted_until": finding.accepted_until.isoformat() if finding.accepted_until else None,
    }


@router.get("/projects")
def projects(who: Principal = Auth, session: Session = DB) -> list[dict[str, Any]]:
    """Projects the caller can see."""
    visible = visible_project_ids(session, who)
    query = select(Project).order_by(Project.slug)
    if visible is not None:
        query = query.where(Project.id.in_(visible))
    return [
        {"slug": p.slug, "name": p.name, "created_at": p.created_at.isoformat()}
        for p in session.scalars(query)
    ]


@router.post("/projects", status_code=201)
def new_project(body: ProjectIn, who: Principal = Auth, session: Session = DB) -> dict[str, str]:
    """Create a project (site admins)."""
    if not who.is_admin:
        raise HTTPException(403, "admin role needed")
    try:
        project = create_project(session, body.slug, body.name, who.name)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"slug": project.slug, "name": project.name}


@router.get("/projects/{slug}")
def project_detail(
    slug: str, request: Request, who: Principal = Auth, session: Session = DB
) -> dict[str, Any]:
    """A project's open and overdue counts by severity and its patch latency."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "read")
    sla = get_settings(request).sla
    latency = patch_latency(session, [project.id])
    return {
        "slug": project.slug,
        "name": project.name,
        "sla_days": sla.days,
        **open_counts(session, [project.id], sla),
        "patch_latency": {
            "fixed": latency.count,
            "median_days": latency.median_days,
            "mean_days": latency.mean_days,
            "p90_days": latency.p90_days,
            "by_severity": latency.by_severity,
            "by_month": [{"month": m, "median_days": d, "fixed": n} for m, d, n in latency.by_month],
        },
    }


async def _upload(
    request: Request, slug: str | None, who: Principal, full: bool, ref: BranchRef
) -> dict[str, Any]:
    store = get_store(request)
    spool = UploadSpool()  # the body never sits whole in memory; it is parsed a finding at a time
    try:
        async for chunk in request.stream():
            spool.write(chunk)
        return await _ingest_spool(request, store, spool, slug, who, full, ref)
    finally:
        spool.close()


async def _ingest_spool(
    request: Request,
    store: Store,
    spool: UploadSpool,
    slug: str | None,
    who: Principal,
    full: bool,
    ref: BranchRef,
) -> dict[str, Any]:

    def work() -> IngestResult:
        with store.read() as session:
            if slug is None:
                if who.token is None:
                    raise HTTPException(400, "use /api/v1/projects/{slug}/scans when signed in as a user")
                project_id = who.token.project_id
            else:
                project_id = project_by_slug(session, slug).id
            require(who, session, project_id, "upload")
        try:
            name = request.headers.get("x-bastion-filename", "upload")[:200]
            parsed = spool.parse(name, get_settings(request).max_results)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        return ingest(store, project_id, parsed, who.name, full=full, ref=ref)

    result = await run_in_threadpool(work)
    return {
        "scan": result.scan_id,
        "repository": result.ref.repository,
        "branch": result.ref.branch,
        "findings": result.findings,
        "new": result.new,
        "reopened": result.reopened,
        "fixed": result.fixed,
        "fixed_on_branch": result.fixed_on_branch,
        "open_elsewhere": result.open_elsewhere,
        "unchanged": result.unchanged,
        "not_checked": list(result.gaps),
        "scope": list(result.scopes),
    }


RepositoryParam = Query(
    default=None, max_length=PLACE_CHARS, description="Repository scanned (github.com/acme/shop or a name)."
)
BranchParam = Query(
    default=None, max_length=PLACE_CHARS, description="Branch scanned (default: the default branch)."
)


@router.post("/scans", status_code=201)
async def upload_scan(
    request: Request,
    full: bool = True,
    repository: str | None = RepositoryParam,
    branch: str | None = BranchParam,
    who: Principal = Auth,
) -> dict[str, Any]:
    """Upload a Bastion JSON report or SARIF 2.1.0 log to the token's project, as a scan of
    ``repository`` at ``branch`` (a full scan fixes only what that branch had open)."""
    return await _upload(request, None, who, full, branch_ref(repository, branch))


@router.post("/projects/{slug}/scans", status_code=201)
async def upload_project_scan(
    request: Request,
    slug: str,
    full: bool = True,
    repository: str | None = RepositoryParam,
    branch: str | None = BranchParam,
    who: Principal = Auth,
) -> dict[str, Any]:
    """Upload a Bastion JSON report or SARIF 2.1.0 log to a project, as a scan of ``repository``
    at ``branch``."""
    return await _upload(request, slug, who, full, branch_ref(repository, branch))


@router.get("/projects/{slug}/scans")
def scans(slug: str, who: Principal = Auth, session: Session = DB) -> list[dict[str, Any]]:
    """The project's scans, newest first."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "read")
    rows = session.scalars(
        select(Scan).where(Scan.project_id == project.id).order_by(Scan.id.desc()).limit(500)
    )
    return [
        {
            "id": s.id,
            "created_at": s.created_at.isoformat(),
            "format": s.source_format,
            "tool": s.tool,
            "scanners": s.scanners,
            "full": s.full,
            "uploaded_by": s.uploaded_by,
            "repository": s.repository,
            "branch": s.branch,
            "findings": s.finding_count,
            "new": s.new_count,
            "fixed": s.fixed_count,
            "reopened": s.reopened_count,
            "not_checked": s.gaps or [],
        }
        for s in rows
    ]


@router.get("/projects/{slug}/findings")
def findings(
    slug: str,
    request: Request,
    status: list[str] = Query(default=[]),
    severity: list[str] = Query(default=[]),
    scanner: str = "",
    q: str = Query(default="", max_length=200),
    overdue: bool = False,
    sort: str = "severity",
    order: str = "desc",
    page: int = Query(default=1, ge=1),
    per_page: int = Query(default=50, ge=1, le=200),
    exact_total: bool = False,
    repository: str = Query(default="", max_length=PLACE_CHARS),
    branch: str = Query(default="", max_length=PLACE_CHARS),
    branch_status: str = "",
    who: Principal = Auth,
    session: Session = DB,
) -> dict[str, Any]:
    """A page of the project's findings: filter by status, severity, scanner, text, overdue, and
    by where they were seen: ``repository``, ``branch`` (``-`` for none named: the default branch) and
    ``branch_status`` (open or fixed there). ``total`` is exact up to 10,000 matches; beyond, it
    is 10,000 with ``total_exact`` false unless ``exact_total=true`` asks for the full (slower)
    count."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "read")
    if sort not in SORTS:
        raise HTTPException(422, f"sort: choose from {', '.join(SORTS)}")
    if branch_status and branch_status not in BRANCH_STATUSES:
        raise HTTPException(422, f"branch_status: choose from {', '.join(BRANCH_STATUSES)}")
    filt = FindingFilter(
        [project.id],
        status,
        severity,
        scanner,
        q,
        overdue,
        sort,
        order != "asc",
        page,
        per_page,
        repository=repository_choice(repository),
        branch=branch_choice(branch),
        branch_status=branch_status,
    )
    cap = None if exact_total else COUNT_CAP
    result = list_findings(session, filt, get_settings(request).sla, count_cap=cap)
    return {
        "total": result.total,
        "total_exact": result.exact,
        "page": result.page,
        "per_page": result.per_page,
        "items": [finding_json(f, project) for f in result.items],
    }


def finding_for(session: Session, finding_id: int, who: Principal, need: str) -> FindingRecord:
    """The finding, if ``who`` has the ``need`` right on its project (404 when there is none)."""
    finding = session.get(FindingRecord, finding_id)
    if finding is None:
        raise HTTPException(404, "no such finding")
    require(who, session, finding.project_id, need)
    return finding


@router.get("/findings/{finding_id}")
def finding_detail(finding_id: int, who: Principal = Auth, session: Session = DB) -> dict[str, Any]:
    """One finding with its state on each repository and branch it was seen on (open ones first)
    and its history (audit events, oldest first)."""
    finding = finding_for(session, finding_id, who, "read")
    history = session.scalars(
        select(AuditEvent).where(AuditEvent.finding_id == finding.id).order_by(AuditEvent.id)
    )
    branches = states_of(session, [finding.id])[finding.id]
    return {
        **finding_json(finding, finding.project),
        "branches": [state.to_dict() for state in branches],
        "branch_summary": describe_states(branches),
        "history": [_event_json(e) for e in history],
    }


@router.post("/findings/{finding_id}/triage")
def triage_finding(
    finding_id: int, body: TriageIn, who: Principal = Auth, session: Session = DB
) -> dict[str, Any]:
    """Set a finding's triage state; risk_accepted needs a reason and an expiry (``until``)."""
    finding = finding_for(session, finding_id, who, "triage")
    session.execute(select(Project.id).where(Project.id == finding.project_id).with_for_update()).one()
    until = body.until.replace(tzinfo=UTC) if body.until and body.until.tzinfo is None else body.until
    try:
        triage(session, finding, body.status, who.name, body.reason, until)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return finding_json(finding, finding.project)


def _event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "finding": event.finding_id,
        "from": event.from_status,
        "to": event.to_status,
        "reason": event.reason,
    }


@router.get("/projects/{slug}/audit")
def audit(
    slug: str, limit: int = Query(default=200, ge=1, le=1000), who: Principal = Auth, session: Session = DB
) -> list[dict[str, Any]]:
    """The project's audit log, newest first."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "read")
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.project_id == project.id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [_event_json(e) for e in rows]


@router.get("/projects/{slug}/tokens")
def tokens(slug: str, who: Principal = Auth, session: Session = DB) -> list[dict[str, Any]]:
    """The project's tokens (never their secrets)."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "manage")
    rows = session.scalars(select(ApiToken).where(ApiToken.project_id == project.id).order_by(ApiToken.id))
    return [_token_json(t) for t in rows]


def _token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": token.scopes,
        "created_by": token.created_by,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }


@router.post("/projects/{slug}/tokens", status_code=201)
def new_token(slug: str, body: TokenIn, who: Principal = Auth, session: Session = DB) -> dict[str, Any]:
    """Issue a token; the response is the only time its value is shown."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "manage")
    try:
        issued = create_token(session, project, body.name, who.name, tuple(body.scopes), body.expires_in_days)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return {**_token_json(issued.token), "token": issued.secret}


@router.delete("/tokens/{token_id}")
def delete_token(token_id: int, who: Principal = Auth, session: Session = DB) -> dict[str, Any]:
    """Revoke a token."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise HTTPException(404, "no such token")
    require(who, session, token.project_id, "manage")
    revoke_token(session, token, who.name)
    return _token_json(token)


@router.put("/projects/{slug}/members")
def member(slug: str, body: MemberIn, who: Principal = Auth, session: Session = DB) -> dict[str, str]:
    """Give a user a role in the project (site admins)."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "admin")
    user = session.scalar(select(User).where(User.username == body.username))
    if user is None:
        raise HTTPException(404, "no such user")
    try:
        set_role(session, user, project, body.role, who.name)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"username": user.username, "role": body.role}
