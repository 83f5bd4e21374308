"""The dashboard: server-rendered pages (Jinja2) enhanced with htmx, all assets vendored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.server.api import READ_SCOPE, project_by_slug, visible_project_ids
from bastion.server.auth import Principal, require
from bastion.server.charts import bar_chart, trend_chart
from bastion.server.compliance import compliance_scores
from bastion.server.deps import DB, get_settings, get_store, principal
from bastion.store.accounts import (
    SCOPES,
    create_project,
    create_token,
    revoke_token,
    set_role,
)
from bastion.store.branches import (
    UNNAMED_CHOICE,
    branch_choice,
    describe_states,
    places,
    repository_choice,
    states_of,
)
from bastion.store.ingest import ingest
from bastion.store.lifecycle import triage
from bastion.store.models import (
    ROLES,
    STATUSES,
    ApiToken,
    AuditEvent,
    FindingRecord,
    Membership,
    Project,
    Scan,
    User,
)
from bastion.store.queries import (
    BRANCH_STATUSES,
    COUNT_CAP,
    SORTS,
    FindingFilter,
    list_findings,
    open_counts,
    patch_latency,
    trend,
)
from bastion.store.stream import UploadSpool

__all__ = ["error_page", "render", "router"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
Auth = Depends(principal)


async def reader(who: Principal = Auth) -> Principal:
    """The caller of a page that shows findings: a token needs the read scope, as in the API."""
    if who.token is not None and READ_SCOPE not in who.token.scopes:
        raise HTTPException(403, "this token lacks the scope needed to read")
    return who


Reader = Depends(reader)
SEVERITIES = ("critical", "high", "medium", "low", "info")
STATUS_LABELS = {
    "open": "Open",
    "confirmed": "Confirmed",
    "false_positive": "False positive",
    "risk_accepted": "Risk accepted",
    "fixed": "Fixed",
}
ACTION_LABELS = {
    "finding.opened": "first seen",
    "finding.fixed": "marked fixed: absent from a full scan",
    "finding.reopened": "reopened: seen again",
    "finding.triaged": "triaged",
    "finding.acceptance_expired": "risk acceptance expired, reopened",
}

templates.env.globals["STATUS_LABELS"] = STATUS_LABELS
templates.env.globals["ACTION_LABELS"] = ACTION_LABELS
templates.env.globals["SEVERITIES"] = SEVERITIES
templates.env.globals["ROLES"] = ROLES
templates.env.globals["SCOPES"] = SCOPES


def _safe_url(url: str) -> str:
    """Only http(s) links reach an href; anything else (``javascript:``...) is dropped."""
    return url if url.lower().startswith(("https://", "http://")) else ""


templates.env.filters["safe_url"] = _safe_url


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a template of the dashboard."""
    return templates.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    """An error as a small page (used by the app's HTTP error handler)."""
    return render(request, "error.html", {"status": status, "detail": detail, "who": None}, status)


def _projects(session: Session, who: Principal) -> list[Project]:
    visible = visible_project_ids(session, who)
    query = select(Project).order_by(Project.slug)
    if visible is not None:
        query = query.where(Project.id.in_(visible))
    return list(session.scalars(query))


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, who: Principal = Reader, session: Session = DB) -> Response:
    """Open findings by severity over time, overdue counts, patch latency."""
    visible = visible_project_ids(session, who)
    sla = get_settings(request).sla
    counts = open_counts(session, visible, sla)
    latency = patch_latency(session, visible)
    series = trend(session, visible, 30)
    context = {
        "who": who,
        "counts": counts,
        "latency": latency,
        "sla": sla,
        "trend_svg": trend_chart(series, "Open findings by severity, last 30 days"),
        "latency_svg": bar_chart(
            [(m, d) for m, d, _ in latency.by_month[-12:]], "Median days to fix, by month fixed", "d"
        ),
        "projects": _project_rows(session, who, sla),
        "compliance": compliance_scores(session, visible),
    }
    return render(request, "overview.html", context)


def _project_rows(session: Session, who: Principal, sla: Any) -> list[dict[str, Any]]:
    rows = []
    for project in _projects(session, who):
        counts = open_counts(session, [project.id], sla)
        last = session.scalar(select(func.max(Scan.created_at)).where(Scan.project_id == project.id))
        rows.append(
            {
                "project": project,
                "open": counts["open"],
                "open_total": sum(counts["open"].values()),
                "overdue": sum(counts["overdue"].values()),
                "last_scan": last,
            }
        )
    return rows


@router.get("/projects", response_class=HTMLResponse)
def projects_page(request: Request, who: Principal = Reader, session: Session = DB) -> Response:
    """Every visible project with its open and overdue counts."""
    rows = _project_rows(session, who, get_settings(request).sla)
    return render(request, "projects.html", {"who": who, "projects": rows})


@router.post("/projects")
def projects_create(
    slug: str = Form(max_length=100),
    name: str = Form(default="", max_length=200),
    who: Principal = Auth,
    session: Session = DB,
) -> Response:
    """Create a project (site admins)."""
    if not who.is_admin:
        raise HTTPException(403, "admin role needed")
    try:
        project = create_project(session, slug.strip(), name, who.name)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/projects/{project.slug}", status_code=303)


@router.get("/projects/{slug}", response_class=HTMLResponse)
def project_page(request: Request, slug: str, who: Principal = Reader, session: Session = DB) -> Response:
    """One project: counts, trend, scans, tokens and an upload form."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "read")
    sla = get_settings(request).sla
    role = who.role(session, project.id)
    context = {
        "who": who,
        "project": project,
        "role": role,
        "counts": open_counts(session, [project.id], sla),
        "latency": patch_latency(session, [project.id]),
        "trend_svg": trend_chart(
            trend(session, [project.id], 30), f"Open findings in {project.name}, last 30 days"
        ),
        "scans": list(
            session.scalars(
                select(Scan).where(Scan.project_id == project.id).order_by(Scan.id.desc()).limit(10)
            )
        ),
        "tokens": list(
            session.scalars(select(ApiToken).where(ApiToken.project_id == project.id).order_by(ApiToken.id))
        )
        if role in ("maintainer", "admin")
        else [],
        "now": datetime.now(UTC),
        "compliance": compliance_scores(session, [project.id]),
        "members": list(
            session.execute(
                select(User.username, Membership.role)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.project_id == project.id)
                .order_by(User.username)
            ).all()
        )
        if role in ("maintainer", "admin")
        else [],
    }
    return render(request, "project.html", context)


@router.post("/projects/{slug}/members")
def project_member(
    slug: str,
    username: str = Form(max_length=150),
    role: str = Form(max_length=20),
    who: Principal = Auth,
    session: Session = DB,
) -> Response:
    """Give a user a role in the project (site admins)."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "admin")
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise HTTPException(404, f"no user {username!r}")
    try:
        set_role(session, user, project, role, who.name)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/projects/{project.slug}", status_code=303)


@router.post("/projects/{slug}/tokens", response_class=HTMLResponse)
def project_token(
    request: Request,
    slug: str,
    name: str = Form(max_length=100),
    scopes: list[str] = Form(default=["scan:upload", "findings:read"]),
    expires_in_days: int = Form(default=90, ge=0, le=3650),
    who: Principal = Auth,
    session: Session = DB,
) -> Response:
    """Issue a project token (scopes, expiry in days, 0 for never) and show it once."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "manage")
    try:
        issued = create_token(session, project, name, who.name, tuple(scopes), expires_in_days or None)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return render(request, "token.html", {"who": who, "project": project, "issued": issued})


@router.post("/tokens/{token_id}/revoke")
def token_revoke(token_id: int, who: Principal = Auth, session: Session = DB) -> Response:
    """Revoke a token."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise HTTPException(404, "no such token")
    require(who, session, token.project_id, "manage")
    revoke_token(session, token, who.name)
    return RedirectResponse(f"/projects/{token.project.slug}", status_code=303)


@router.post("/projects/{slug}/upload")
async def project_upload(
    request: Request, slug: str, file: UploadFile, full: bool = Form(default=False), who: Principal = Auth
) -> Response:
    """Upload a Bastion JSON report or SARIF log from the browser."""
    store = get_store(request)

    def work() -> str:
        with store.read() as session:
            project = project_by_slug(session, slug)
            require(who, session, project.id, "upload")
        spool = UploadSpool()
        try:
            spool.copy_from(file.file)  # already spooled by the form parser; read a chunk at a time
            parsed = spool.parse((file.filename or "upload")[:200], get_settings(request).max_results)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        finally:
            spool.close()
        result = ingest(store, project.id, parsed, who.name, full=full)
        return f"/scans?project={project.slug}&uploaded={result.scan_id}"

    return RedirectResponse(await run_in_threadpool(work), status_code=303)


@router.get("/findings", response_class=HTMLResponse)
def findings_page(
    request: Request,
    project: str = "",
    status: list[str] | None = Query(default=None),
    severity: list[str] | None = Query(default=None),
    q: str = "",
    overdue: bool = False,
    sort: str = "severity",
    order: str = "desc",
    page: int = 1,
    repository: str = Query(default="", max_length=1000),
    branch: str = Query(default="", max_length=1000),
    branch_status: str = "",
    who: Principal = Reader,
    session: Session = DB,
) -> Response:
    """Findings with filters (where seen included: repository, branch, open or fixed there), sort
    and pagination; htmx swaps only the results."""
    visible = visible_project_ids(session, who)
    projects = _projects(session, who)
    ids = visible
    if project:
        chosen = project_by_slug(session, project)
        require(who, session, chosen.id, "read")
        ids = [chosen.id]
    statuses = [s for s in (status if status is not None else ["open", "confirmed"]) if s in STATUSES]
    severities = [s for s in severity or [] if s in SEVERITIES]
    sort = sort if sort in SORTS else "severity"
    branch_status = branch_status if branch_status in BRANCH_STATUSES else ""
    filt = FindingFilter(
        ids,
        statuses,
        severities,
        "",
        q[:200],
        overdue,
        sort,
        order != "asc",
        max(page, 1),
        50,
        repository=repository_choice(repository),
        branch=branch_choice(branch),
        branch_status=branch_status,
    )
    sla = get_settings(request).sla
    result = list_findings(session, filt, sla, count_cap=COUNT_CAP)
    params = {
        "project": project,
        "status": statuses,
        "severity": severities,
        "q": q,
        "overdue": overdue or "",
        "repository": repository,
        "branch": branch,
        "branch_status": branch_status,
    }
    partial = request.headers.get("hx-request") == "true"
    seen_at = [] if partial else places(session, ids)  # the filter's choices: the full page only
    context = {
        "who": who,
        "page": result,
        "projects": projects,
        "slugs": {p.id: p.slug for p in projects},
        "filters": {
            "project": project,
            "status": statuses,
            "severity": severities,
            "q": q,
            "overdue": overdue,
            "sort": sort,
            "order": order,
            "repository": repository,
            "branch": branch,
            "branch_status": branch_status,
        },
        "repositories": sorted({p.repository for p in seen_at}),
        "branches": sorted({p.branch for p in seen_at}),
        "unnamed_choice": UNNAMED_CHOICE,
        "base_query": urlencode({k: v for k, v in params.items() if v}, doseq=True),
        "sla": sla,
        "now": datetime.now(UTC),
        "can_triage": {p.id for p in projects if who.role(session, p.id) in ("maintainer", "admin")},
    }
    name = "_findings_table.html" if partial else "findings.html"
    return render(request, name, context)


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def finding_page(
    request: Request, finding_id: int, who: Principal = Reader, session: Session = DB
) -> Response:
    """One finding: what, where, SLA, triage form and full history."""
    finding = session.get(FindingRecord, finding_id)
    if finding is None:
        raise HTTPException(404, "no such finding")
    require(who, session, finding.project_id, "read")
    history = list(
        session.scalars(select(AuditEvent).where(AuditEvent.finding_id == finding.id).order_by(AuditEvent.id))
    )
    sla = get_settings(request).sla
    branches = states_of(session, [finding.id])[finding.id]
    context = {
        "who": who,
        "f": finding,
        "branches": branches,
        "branch_summary": describe_states(branches),
        "history": history,
        "due": sla.due(finding.severity, finding.first_seen),
        "now": datetime.now(UTC),
        "can_triage": who.role(session, finding.project_id) in ("maintainer", "admin"),
    }
    return render(request, "finding.html", context)


def form_expiry(until: str) -> datetime | None:
    """A form's ``until`` date (YYYY-MM-DD) as a UTC time; empty is none, anything else a 422."""
    if not until:
        return None
    try:
        return datetime.fromisoformat(until).replace(tzinfo=UTC)
    except ValueError:
        raise HTTPException(422, f"until: {until!r} is not a date (YYYY-MM-DD)") from None


@router.post("/findings/{finding_id}/triage", response_class=HTMLResponse)
def finding_triage(
    request: Request,
    finding_id: int,
    status: str = Form(),
    reason: str = Form(default="", max_length=5000),
    until: str = Form(default=""),
    who: Principal = Auth,
    session: Session = DB,
) -> Response:
    """Triage from the detail page (redirect) or the list (htmx: the row comes back)."""
    finding = session.get(FindingRecord, finding_id)
    if finding is None:
        raise HTTPException(404, "no such finding")
    require(who, session, finding.project_id, "triage")
    session.execute(select(Project.id).where(Project.id == finding.project_id).with_for_update()).one()
    expiry = form_expiry(until)
    try:
        triage(session, finding, status, who.name, reason, expiry)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    if request.headers.get("hx-request") == "true" and request.headers.get("hx-target", "").startswith(
        "row-"
    ):
        sla = get_settings(request).sla
        context = {
            "who": who,
            "f": finding,
            "slugs": {finding.project_id: finding.project.slug},
            "sla": sla,
            "now": datetime.now(UTC),
            "can_triage": {finding.project_id},
        }
        return render(request, "_finding_row.html", context)
    return RedirectResponse(f"/findings/{finding.id}", status_code=303)


@router.get("/scans", response_class=HTMLResponse)
def scans_page(
    request: Request,
    project: str = "",
    uploaded: int | None = None,
    who: Principal = Reader,
    session: Session = DB,
) -> Response:
    """Recent scans of the visible projects."""
    visible = visible_project_ids(session, who)
    query = select(Scan).order_by(Scan.id.desc()).limit(200)
    if project:
        chosen = project_by_slug(session, project)
        require(who, session, chosen.id, "read")
        query = query.where(Scan.project_id == chosen.id)
    elif visible is not None:
        query = query.where(Scan.project_id.in_(visible))
    context = {
        "who": who,
        "scans": list(session.scalars(query)),
        "project": project,
        "uploaded": uploaded,
        "projects": _projects(session, who),
    }
    return render(request, "scans.html", context)
