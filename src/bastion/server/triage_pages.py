"""Dashboard pages of the triage workflow: bulk triage from the findings list, the list grouped by
package or rule, export links, saved filters and comments on the finding page.

Registered before :mod:`bastion.server.web`'s router, so ``/findings/groups`` and friends are not
read as ``/findings/{finding_id}``. Forms are CSRF-checked like every other dashboard form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.server.api import finding_for, project_by_slug, visible_project_ids
from bastion.server.auth import Principal, require
from bastion.server.deps import DB, get_settings, get_store, principal
from bastion.server.export import ExportFormat
from bastion.server.triage import (
    remove_filter,
    run_bulk,
    saved_filter_json,
    store_filter,
    stream_export,
)
from bastion.server.web import form_expiry, reader, render
from bastion.store.comments import add_comment, list_comments
from bastion.store.filters import PARAMETERS, SEVERITIES, FilterQuery, visible_filters
from bastion.store.groups import GROUP_KEYS, group_findings, group_members
from bastion.store.models import STATUSES, FindingRecord, Project
from bastion.store.queries import BRANCH_STATUSES
from bastion.store.triage_bulk import matching_ids

__all__ = ["DEFAULT_STATUSES", "pages"]

pages = APIRouter(include_in_schema=False)
Auth = Depends(principal)
Reader = Depends(reader)
DEFAULT_STATUSES = ("open", "confirmed")
"""What the findings list shows when no status is chosen (as :mod:`bastion.server.web` does)."""
PER_PAGE = 50


def _query(
    status: list[str] | None,
    severity: list[str] | None,
    q: str,
    overdue: bool,
    place: tuple[str, str, str] = ("", "", ""),
) -> FilterQuery:
    """The list's filter as the findings page reads it: unknown values are dropped, not refused.
    ``place`` is (repository, branch, branch_status), as the page names them."""
    statuses = [s for s in (status if status is not None else DEFAULT_STATUSES) if s in STATUSES]
    severities = [s for s in severity or [] if s in SEVERITIES]
    repository, branch, branch_status = place
    return FilterQuery(
        tuple(statuses),
        tuple(severities),
        q=q[:200],
        overdue=overdue,
        repository=repository[:1000],
        branch=branch[:1000],
        branch_status=branch_status if branch_status in BRANCH_STATUSES else "",
    )


def _scope(session: Session, who: Principal, project: str) -> tuple[list[Project], list[int] | None]:
    visible = visible_project_ids(session, who)
    query = select(Project).order_by(Project.slug)
    if visible is not None:
        query = query.where(Project.id.in_(visible))
    projects = list(session.scalars(query))
    if not project:
        return projects, visible
    chosen = project_by_slug(session, project)
    require(who, session, chosen.id, "read")
    return projects, [chosen.id]


def _list_context(
    request: Request, session: Session, who: Principal, project: str, query: FilterQuery
) -> dict[str, Any]:
    projects, _ = _scope(session, who, project)
    params = {
        "project": project,
        "status": list(query.statuses),
        "severity": list(query.severities),
        "q": query.q,
        "repository": query.repository,
        "branch": query.branch,
        "branch_status": query.branch_status,
    }
    params["overdue"] = "true" if query.overdue else ""
    return {
        "who": who,
        "projects": projects,
        "slugs": {p.id: p.slug for p in projects},
        "filters": {
            "project": project,
            "status": list(query.statuses),
            "severity": list(query.severities),
            "q": query.q,
            "overdue": query.overdue,
            "sort": query.sort,
            "order": query.order,
            "repository": query.repository,
            "branch": query.branch,
            "branch_status": query.branch_status,
        },
        "base_query": urlencode({k: v for k, v in params.items() if v}, doseq=True),
        "sla": get_settings(request).sla,
        "now": datetime.now(UTC),
        "can_triage": {p.id for p in projects if who.role(session, p.id) in ("maintainer", "admin")},
    }


def _by(by: str) -> str:
    if by not in GROUP_KEYS:
        raise HTTPException(422, f"by: choose from {', '.join(GROUP_KEYS)}")
    return by


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@pages.get("/findings/groups", response_class=HTMLResponse)
def groups_page(
    request: Request,
    by: str = "package",
    project: str = "",
    status: list[str] | None = Query(default=None),
    severity: list[str] | None = Query(default=None),
    q: str = "",
    overdue: bool = False,
    page: int = 1,
    repository: str = "",
    branch: str = "",
    branch_status: str = "",
    who: Principal = Reader,
    session: Session = DB,
) -> Response:
    """The findings list grouped: one row per package version (or rule), expandable to its findings."""
    query = _query(status, severity, q, overdue, (repository, branch, branch_status))
    context = _list_context(request, session, who, project, query)
    _, ids = _scope(session, who, project)
    result = group_findings(
        session, query.finding_filter(ids, max(page, 1), PER_PAGE), _by(by), context["sla"]
    )
    context.update(groups=result, by=by)
    return render(request, "_findings_groups.html" if _htmx(request) else "findings.html", context)


@pages.get("/findings/groups/items", response_class=HTMLResponse)
def group_items_page(
    request: Request,
    by: str = "package",
    ecosystem: str = "",
    package: str = "",
    version: str = "",
    rule: str = "",
    project: str = "",
    status: list[str] | None = Query(default=None),
    severity: list[str] | None = Query(default=None),
    q: str = "",
    overdue: bool = False,
    page: int = 1,
    repository: str = "",
    branch: str = "",
    branch_status: str = "",
    who: Principal = Reader,
    session: Session = DB,
) -> Response:
    """One group's findings: rows to expand in place (htmx), or a page of their own."""
    query = _query(status, severity, q, overdue, (repository, branch, branch_status))
    context = _list_context(request, session, who, project, query)
    _, ids = _scope(session, who, project)
    key = {"ecosystem": ecosystem, "package": package, "version": version, "rule": rule}
    filt = query.finding_filter(ids, max(page, 1), 200)
    members = group_members(session, filt, _by(by), key, context["sla"])
    label = rule if by == "rule" else " ".join(v for v in (package, version) if v)
    context.update(items=members, by=by, key=key, label=label)
    return render(request, "_group_items.html" if _htmx(request) else "findings_group.html", context)


@pages.get("/findings/export")
def export_page(
    request: Request,
    format: ExportFormat = ExportFormat.CSV,
    project: str = "",
    status: list[str] | None = Query(default=None),
    severity: list[str] | None = Query(default=None),
    q: str = "",
    overdue: bool = False,
    repository: str = "",
    branch: str = "",
    branch_status: str = "",
    who: Principal = Reader,
) -> StreamingResponse:
    """Download the list as filtered (every page, not only the one shown) as CSV or JSON."""
    with get_store(request).read() as session:
        _, ids = _scope(session, who, project)
    query = _query(status, severity, q, overdue, (repository, branch, branch_status))
    return stream_export(request, ids, query, format, project or "all")


def _may(session: Session, who: Principal, project_id: int, need: str) -> bool:
    try:
        require(who, session, project_id, need)
    except HTTPException:
        return False
    return True


def _safe_next(target: str) -> str:
    """Only a path of the findings list is a place to go back to (never another site)."""
    return target if target.startswith("/findings") and not target.startswith("//") else "/findings"


@pages.post("/findings/triage")
def bulk_page(
    request: Request,
    status: str = Form(max_length=20),
    ids: list[int] = Form(default=[]),
    scope: str = Form(default="selected", max_length=10),
    reason: str = Form(default="", max_length=5000),
    until: str = Form(default="", max_length=30),
    next: str = Form(default="/findings", max_length=2000),
    f_project: str = Form(default="", max_length=100),
    f_status: list[str] = Form(default=[]),
    f_severity: list[str] = Form(default=[]),
    f_q: str = Form(default="", max_length=200),
    f_overdue: str = Form(default="", max_length=10),
    f_repository: str = Form(default="", max_length=1000),
    f_branch: str = Form(default="", max_length=1000),
    f_branch_status: str = Form(default="", max_length=10),
    who: Principal = Auth,
    session: Session = DB,
) -> Response:
    """Triage the findings ticked in the list, or every one its filter matches (``scope=filter``)."""
    expiry = form_expiry(until)
    projects, allowed = _scope(session, who, f_project)
    allowed_ids = allowed if allowed is not None else [p.id for p in projects]
    if scope == "filter":
        # "Every finding matching the filter" means those the caller may triage: over all
        # projects, one where the caller only reads is left out rather than refusing the lot.
        triageable = [p for p in allowed_ids if _may(session, who, p, "triage")]
        place = (f_repository, f_branch, f_branch_status)
        query = _query(f_status or None, f_severity, f_q, f_overdue == "true", place)
        try:
            ids = matching_ids(session, query.finding_filter(triageable), get_settings(request).sla)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
    result = run_bulk(session, who, allowed_ids, ids, status, reason, expiry)
    back = _safe_next(next)
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}triaged={len(result['changed'])}", status_code=303)


@pages.get("/findings/filters", response_class=HTMLResponse)
def filters_page(request: Request, who: Principal = Reader, session: Session = DB) -> Response:
    """The saved filters the caller can apply: a panel of the findings page, or a page."""
    rows = []
    if who.user is not None:
        visible = visible_filters(session, who.user.id, visible_project_ids(session, who))
        rows = [{**saved_filter_json(f), "mine": f.user_id == who.user.id} for f in visible]
    context = {"who": who, "saved": rows}
    return render(request, "_saved_filters.html" if _htmx(request) else "saved_filters.html", context)


@pages.post("/findings/filters")
def filters_save(
    name: str = Form(max_length=100),
    query: str = Form(default="", max_length=4000),
    shared: bool = Form(default=False),
    who: Principal = Auth,
    session: Session = DB,
) -> Response:
    """Save the findings page's current filter under a name."""
    params = parse_qs(query, keep_blank_values=False)
    project = (params.pop("project", [""]) or [""])[0]
    if "by" in params:
        params["group"] = params.pop("by")
    data: dict[str, Any] = {}
    for key, values in params.items():
        if key not in PARAMETERS:
            continue
        data[key] = values if key in ("status", "severity") else values[0]
    try:
        filt = FilterQuery.from_dict(data)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    row = store_filter(session, who, name, project or None, shared, filt)
    return RedirectResponse(saved_filter_json(row)["page"], status_code=303)


@pages.post("/findings/filters/{filter_id}/delete")
def filters_delete(filter_id: int, who: Principal = Auth, session: Session = DB) -> Response:
    """Delete a saved filter (its owner, or a site admin)."""
    remove_filter(session, who, filter_id)
    return RedirectResponse("/findings", status_code=303)


def _comments_context(session: Session, who: Principal, finding: FindingRecord) -> dict[str, Any]:
    return {
        "who": who,
        "f": finding,
        "comments": list_comments(session, finding.id),
        "can_comment": who.role(session, finding.project_id) in ("maintainer", "admin"),
    }


@pages.get("/findings/{finding_id}/comments", response_class=HTMLResponse)
def comments_page(
    request: Request, finding_id: int, who: Principal = Reader, session: Session = DB
) -> Response:
    """A finding's comments (the finding page loads them into itself) and the form to add one."""
    finding = finding_for(session, finding_id, who, "read")
    context = _comments_context(session, who, finding)
    return render(request, "_comments.html" if _htmx(request) else "comments.html", context)


@pages.post("/findings/{finding_id}/comments", response_class=HTMLResponse)
def comments_add(
    request: Request,
    finding_id: int,
    text: str = Form(max_length=10_000),
    who: Principal = Auth,
    session: Session = DB,
) -> Response:
    """Add a comment (members who may triage the finding)."""
    finding = finding_for(session, finding_id, who, "triage")
    try:
        add_comment(session, finding, who.name, text)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    if _htmx(request):
        return render(request, "_comments.html", _comments_context(session, who, finding))
    return RedirectResponse(f"/findings/{finding.id}#comments", status_code=303)
