"""The triage workflow's API: bulk triage, grouping, export, comments and saved filters.

Bulk triage takes the same rights as triaging one finding (maintainer, or a token with
``findings:triage``), writes one audit event per finding changed, and is all or nothing: one bad
id, one finding of another project or an invalid decision, and nothing changes (422 naming them).
Saved filters belong to signed-in users; a token has none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.server.api import finding_for, finding_json, project_by_slug, visible_project_ids
from bastion.server.auth import Principal, require
from bastion.server.deps import DB, get_settings, get_store, principal
from bastion.server.export import ExportFormat, export_chunks
from bastion.store.comments import MAX_COMMENT_CHARS, add_comment, list_comments
from bastion.store.export import iter_findings
from bastion.store.filters import FilterQuery, delete_filter, save_filter, visible_filters
from bastion.store.groups import GROUP_KEYS, Group, group_findings, group_members
from bastion.store.models import FindingComment, Project, SavedFilter
from bastion.store.queries import list_findings
from bastion.store.triage_bulk import MAX_BULK, bulk_triage, load_findings, matching_ids

__all__ = [
    "BAD_IDS_SHOWN",
    "api",
    "comment_json",
    "filter_page_url",
    "filter_params",
    "group_json",
    "readable_filter",
    "remove_filter",
    "run_bulk",
    "saved_filter_json",
    "store_filter",
    "stream_export",
]

api = APIRouter(prefix="/api/v1", tags=["triage"])
Auth = Depends(principal)
BAD_IDS_SHOWN = 20
"""Ids a refusal names before it says how many more."""


def filter_params(
    status: list[str] = Query(default=[]),
    severity: list[str] = Query(default=[]),
    scanner: str = Query(default="", max_length=100),
    q: str = Query(default="", max_length=200),
    overdue: bool = False,
    sort: str = "severity",
    order: str = "desc",
    repository: str = Query(default="", max_length=1000),
    branch: str = Query(default="", max_length=1000),
    branch_status: str = "",
) -> FilterQuery:
    """The findings filter from URL parameters (422 naming the bad one); ``repository`` and
    ``branch`` select where findings were seen (``-``: none named), ``branch_status`` open or fixed there."""
    try:
        return FilterQuery(
            tuple(status),
            tuple(severity),
            scanner,
            q,
            overdue,
            sort,
            order,
            repository=repository,
            branch=branch,
            branch_status=branch_status,
        )
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None


Filter = Depends(filter_params)


class BulkTriageIn(BaseModel):
    """One decision for many findings: listed by id, or everything the filter matches."""

    ids: list[int] | None = Field(default=None, max_length=MAX_BULK)
    filter: dict[str, Any] | None = None
    status: str
    reason: str = Field(default="", max_length=5000)
    until: datetime | None = None


def _name_ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:BAD_IDS_SHOWN])
    more = len(ids) - BAD_IDS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def run_bulk(
    session: Session,
    who: Principal,
    project_ids: list[int],
    ids: list[int],
    status: str,
    reason: str,
    until: datetime | None,
) -> dict[str, Any]:
    """Triage ``ids``, which must all be findings of ``project_ids`` the caller may triage."""
    if not ids:
        raise HTTPException(422, "no findings selected")
    found, missing = load_findings(session, ids)
    outside = [f.id for f in found if f.project_id not in project_ids]
    if missing or outside:
        raise HTTPException(422, f"not findings you can triage here: {_name_ids(sorted(missing + outside))}")
    for project_id in sorted({f.project_id for f in found}):
        require(who, session, project_id, "triage")
        session.execute(select(Project.id).where(Project.id == project_id).with_for_update()).one()
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    try:
        result = bulk_triage(session, found, status, who.name, reason, until)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"status": status, "changed": list(result.changed), "unchanged": list(result.unchanged)}


@api.post("/projects/{slug}/findings/triage")
def bulk_triage_route(
    slug: str, body: BulkTriageIn, request: Request, who: Principal = Auth, session: Session = DB
) -> dict[str, Any]:
    """Triage many findings of the project at once (``ids``, or every one ``filter`` matches)."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "triage")
    if (body.ids is None) == (body.filter is None):
        raise HTTPException(422, "give either ids or filter")
    ids = body.ids
    if ids is None:
        try:
            query = FilterQuery.from_dict(body.filter or {})
            ids = matching_ids(session, query.finding_filter([project.id]), get_settings(request).sla)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
    return run_bulk(session, who, [project.id], ids, body.status, body.reason, body.until)


def group_json(group: Group, by: str, items_url: str) -> dict[str, Any]:
    """One group as the API returns it."""
    data: dict[str, Any] = {
        **group.key,
        "findings": group.findings,
        "worst_severity": group.worst,
        "statuses": group.statuses,
        "items": items_url,
    }
    if by == "package":
        data.update(
            advisories=group.advisories, fixed_in=group.fixed_in, advisories_without_fix=group.unfixed
        )
    else:
        data["title"] = group.title
    return data


def _by(by: str) -> str:
    if by not in GROUP_KEYS:
        raise HTTPException(422, f"by: choose from {', '.join(GROUP_KEYS)}")
    return by


@api.get("/projects/{slug}/findings/groups")
def groups(
    slug: str,
    request: Request,
    by: str = "package",
    page: int = Query(default=1, ge=1),
    per_page: int = Query(default=50, ge=1, le=200),
    query: FilterQuery = Filter,
    who: Principal = Auth,
    session: Session = DB,
) -> dict[str, Any]:
    """The project's findings grouped by package (ecosystem, name, version) or by rule, worst first."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "read")
    result = group_findings(
        session, query.finding_filter([project.id], page, per_page), _by(by), get_settings(request).sla
    )
    base = f"/api/v1/projects/{project.slug}/findings/groups/items"
    items = []
    for group in result.groups:
        params = "&".join(f"{k}={_quote(v)}" for k, v in group.key.items())
        items.append(group_json(group, by, f"{base}?by={by}&{params}"))
    return {
        "by": by,
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "groups": items,
    }


def _quote(value: str) -> str:
    return quote(value, safe="")


@api.get("/projects/{slug}/findings/groups/items")
def group_items(
    slug: str,
    request: Request,
    by: str = "package",
    ecosystem: str = "",
    package: str = "",
    version: str = "",
    rule: str = "",
    page: int = Query(default=1, ge=1),
    per_page: int = Query(default=50, ge=1, le=200),
    query: FilterQuery = Filter,
    who: Principal = Auth,
    session: Session = DB,
) -> dict[str, Any]:
    """The findings of one group (``ecosystem``, ``package``, ``version``; or ``rule``)."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "read")
    key = {"ecosystem": ecosystem, "package": package, "version": version, "rule": rule}
    result = group_members(
        session, query.finding_filter([project.id], page, per_page), _by(by), key, get_settings(request).sla
    )
    return {
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "items": [finding_json(f, project) for f in result.items],
    }


def stream_export(
    request: Request, project_ids: list[int] | None, query: FilterQuery, fmt: ExportFormat, name: str
) -> StreamingResponse:
    """A streaming response with every finding ``query`` matches in ``project_ids``."""
    rows = iter_findings(get_store(request), query.finding_filter(project_ids), get_settings(request).sla)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    headers = {"Content-Disposition": f'attachment; filename="bastion-findings-{name}-{stamp}.{fmt.value}"'}
    return StreamingResponse(export_chunks(rows, fmt), media_type=fmt.media_type, headers=headers)


@api.get("/projects/{slug}/findings/export")
def export(
    slug: str,
    request: Request,
    format: ExportFormat = ExportFormat.CSV,
    query: FilterQuery = Filter,
    who: Principal = Auth,
) -> StreamingResponse:
    """Every finding of the project matching the filter, as CSV or JSON, streamed."""
    with get_store(request).read() as session:
        project = project_by_slug(session, slug)
        require(who, session, project.id, "read")
    return stream_export(request, [project.id], query, format, project.slug)


def comment_json(comment: FindingComment) -> dict[str, Any]:
    """A comment as the API returns it (the text as stored: escape it before showing it as HTML)."""
    return {
        "id": comment.id,
        "finding": comment.finding_id,
        "author": comment.author,
        "at": comment.created_at.isoformat(),
        "text": comment.body,
    }


class CommentIn(BaseModel):
    """A new comment."""

    text: str = Field(max_length=MAX_COMMENT_CHARS)


@api.get("/findings/{finding_id}/comments")
def comments(finding_id: int, who: Principal = Auth, session: Session = DB) -> list[dict[str, Any]]:
    """The finding's comments, oldest first (readers of its project)."""
    finding_for(session, finding_id, who, "read")
    return [comment_json(c) for c in list_comments(session, finding_id)]


@api.post("/findings/{finding_id}/comments", status_code=201)
def new_comment(
    finding_id: int, body: CommentIn, who: Principal = Auth, session: Session = DB
) -> dict[str, Any]:
    """Comment on a finding (those who may triage it); the comment is also an audit event."""
    finding = finding_for(session, finding_id, who, "triage")
    try:
        return comment_json(add_comment(session, finding, who.name, body.text))
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None


def saved_filter_json(row: SavedFilter) -> dict[str, Any]:
    """A saved filter as the API returns it, with where it applies."""
    project = row.project.slug if row.project is not None else None
    return {
        "id": row.id,
        "name": row.name,
        "owner": row.user.username,
        "project": project,
        "shared": row.shared,
        "filter": row.query,
        "page": filter_page_url(project, row.query),
        "api": f"/api/v1/filters/{row.id}/findings",
    }


def filter_page_url(project: str | None, query: dict[str, Any]) -> str:
    """The dashboard page showing a filter: the findings list, or its grouped view."""
    params = {k: v for k, v in query.items() if k != "group"}
    if project:
        params = {"project": project, **params}
    group = query.get("group")
    if group:
        return f"/findings/groups?{urlencode({'by': group, **params}, doseq=True)}"
    return f"/findings?{urlencode(params, doseq=True)}"


class SavedFilterIn(BaseModel):
    """A filter to keep under a name."""

    name: str = Field(max_length=100)
    project: str | None = None
    shared: bool = False
    filter: dict[str, Any] = Field(default_factory=dict)


def _user(who: Principal) -> int:
    if who.user is None:
        raise HTTPException(403, "saved filters belong to signed-in users, not tokens")
    return who.user.id


@api.get("/filters")
def filters(who: Principal = Auth, session: Session = DB) -> list[dict[str, Any]]:
    """The caller's saved filters and those shared with projects the caller reads."""
    user_id = _user(who)
    return [
        saved_filter_json(f) for f in visible_filters(session, user_id, visible_project_ids(session, who))
    ]


def store_filter(
    session: Session, who: Principal, name: str, slug: str | None, shared: bool, query: FilterQuery
) -> SavedFilter:
    """Save a filter for the caller: reading the project is enough, sharing it needs triage rights."""
    user_id = _user(who)
    project_id = None
    if slug:
        project = project_by_slug(session, slug)
        require(who, session, project.id, "triage" if shared else "read")
        project_id = project.id
    try:
        return save_filter(session, user_id, name, project_id, shared, query)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None


@api.post("/filters", status_code=201)
def new_filter(body: SavedFilterIn, who: Principal = Auth, session: Session = DB) -> dict[str, Any]:
    """Save a findings filter under a name (the same name again replaces it)."""
    try:
        query = FilterQuery.from_dict(body.filter)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return saved_filter_json(store_filter(session, who, body.name, body.project, body.shared, query))


def readable_filter(session: Session, who: Principal, filter_id: int) -> SavedFilter:
    """A saved filter the caller may see (404 otherwise, so others' private names stay unknown)."""
    row = session.get(SavedFilter, filter_id)
    user_id = _user(who)
    if row is None:
        raise HTTPException(404, "no such saved filter")
    if row.user_id != user_id:
        visible = visible_project_ids(session, who)
        if not row.shared or (visible is not None and row.project_id not in visible):
            raise HTTPException(404, "no such saved filter")
    return row


def remove_filter(session: Session, who: Principal, filter_id: int) -> None:
    """Delete a saved filter: its owner or a site admin."""
    row = readable_filter(session, who, filter_id)
    if row.user_id != _user(who) and not who.is_admin:
        raise HTTPException(403, "only its owner or a site admin may delete a saved filter")
    delete_filter(session, row)


@api.delete("/filters/{filter_id}", status_code=204)
def drop_filter(filter_id: int, who: Principal = Auth, session: Session = DB) -> None:
    """Delete a saved filter."""
    remove_filter(session, who, filter_id)


@api.get("/filters/{filter_id}/findings")
def apply_filter(
    filter_id: int,
    request: Request,
    page: int = Query(default=1, ge=1),
    per_page: int = Query(default=50, ge=1, le=200),
    who: Principal = Auth,
    session: Session = DB,
) -> dict[str, Any]:
    """The findings a saved filter selects, a page at a time (in its project, or every one readable)."""
    row = readable_filter(session, who, filter_id)
    try:
        query = FilterQuery.from_dict(row.query)
    except InputError as exc:  # saved by an older version that allowed what this one does not
        raise HTTPException(422, f"saved filter {row.name!r}: {exc}") from None
    visible = visible_project_ids(session, who)
    if row.project_id is not None:
        require(who, session, row.project_id, "read")
        ids: list[int] | None = [row.project_id]
    else:
        ids = visible
    result = list_findings(session, query.finding_filter(ids, page, per_page), get_settings(request).sla)
    slugs = dict(session.execute(select(Project.id, Project.slug)).all())
    items = []
    for finding in result.items:
        data = finding_json(finding)
        data["project"] = slugs.get(finding.project_id, "")
        items.append(data)
    return {
        "filter": saved_filter_json(row),
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "items": items,
    }
