"""Readiness in the server: the ``/ready`` page and ``/api/v1/ready``.

The assessment reads the same API the ``bastion ready --server`` command reads, in process and
with the caller's own rights: each API path is answered by its endpoint function with the
caller's principal and session, so a viewer sees the readiness of the projects they may read and
a source they may not read is shown as missing.

The process questionnaire is kept here too (:mod:`bastion.store.ready_answers`, history kept, the
latest answer per question and scope counts until it expires): ``POST /api/v1/ready/answers``
takes one answer as JSON from a project token with ``scan:upload`` (for its own project), a
maintainer of the project named in ``project``, or an admin (who alone answers for the
organisation, with no ``project``); readers are refused. A token's caller names who answered in
``by``; a signed-in user answers as themselves. ``GET /api/v1/ready/answers`` lists the answers
the caller may read (organisation-wide ones, and those of their projects), and the assessment
reads them through it. The ``/ready`` page has a form for the same (CSRF-checked).

Each assessment the page or ``/api/v1/ready`` computes is kept (:mod:`bastion.store.ready_history`:
one row per scope, audience and UTC day, updated by a second assessment that day) and compared
with the latest kept on an earlier day for the same scope and audience: the same kind of caller
reading the same projects, so two viewers who read different projects never see each other's
history. ``GET /api/v1/ready/history`` lists what is kept for the caller's audience.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from fastapi import APIRouter, Depends, Form, HTTPException, Request, params
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.errors import BastionError
from bastion.ready.collect import POSTURE_PATH, Fetch, SourceError, collect_server
from bastion.ready.mapping import load_mapping
from bastion.ready.questionnaire import ANSWERS, ANSWERS_PATH, NOTE_LIMIT, check_answer, server_answers
from bastion.ready.render import DIMENSION_MEANING
from bastion.ready.score import Assessment, assess, short_day
from bastion.server import alerts, api, catalog, drills, phish
from bastion.server.auth import Principal, require
from bastion.server.compliance import compliance_scores
from bastion.server.deps import DB, get_store, principal
from bastion.server.web import render as render_page
from bastion.store.models import Project, Scan
from bastion.store.ready_answers import ReadyAnswer, add_answer, list_answers
from bastion.store.ready_history import (
    ORGANISATION,
    RETENTION_DAYS,
    Audience,
    Snapshot,
    audience_of,
    history,
    previous_snapshot,
    record_snapshot,
)

__all__ = ["api_router", "direct", "in_process_fetch", "pages"]

api_router = APIRouter(prefix="/api/v1", tags=["ready"])
pages = APIRouter(tags=["ready"])
Reader = Depends(principal)
_SLUG = r"([^/]+)"
Handler = Callable[[re.Match[str], dict[str, list[str]]], Any]
ANSWER_BODY_LIMIT = 16 * 1024
"""Bytes one answer may send: a question id, a value, a name and a note."""
_FIELDS = ("question", "answer", "by", "note", "project")
PAST_SHOWN = 7
"""Kept assessments the page lists under the trend (the API lists them all)."""
POSTURE_PROJECTS = 200
"""Projects whose compliance posture one readiness assessment computes at most (the most recently
scanned first)."""


def direct(endpoint: Callable[..., Any], **given: Any) -> Any:
    """Call an API endpoint function as a plain function: every parameter ``given`` leaves out
    takes the default its ``Query(...)`` declares, so an optional parameter added to the endpoint
    later never arrives as a ``Query`` object (the findings list's ``repository`` once did)."""
    values = dict(given)
    for name, parameter in inspect.signature(endpoint).parameters.items():
        if name not in values and isinstance(parameter.default, params.Param):
            values[name] = parameter.default.default
    return endpoint(**values)


def in_process_fetch(request: Request, who: Principal, session: Session) -> Fetch:
    """A :data:`Fetch` answering API paths through their endpoint functions, as ``who``."""

    def one(query: dict[str, list[str]], key: str, default: str = "") -> str:
        return query.get(key, [default])[0]

    def findings(m: re.Match[str], q: dict[str, list[str]]) -> Any:
        return direct(
            api.findings, slug=unquote(m[1]), request=request, status=q.get("status", []),
            scanner=one(q, "scanner"), q=one(q, "q"), per_page=int(one(q, "per_page", "50")),
            who=who, session=session,
        )  # fmt: skip

    def alert_list(_: re.Match[str], q: dict[str, list[str]]) -> Any:
        limit = int(one(q, "limit", "500"))
        return direct(alerts.alerts_api, limit=limit, who=who, session=session)

    def campaigns(_: re.Match[str], __: dict[str, list[str]]) -> Any:
        phish.signed_in(who)
        return phish.campaigns_api(session)

    def campaign(m: re.Match[str], _: dict[str, list[str]]) -> Any:
        phish.signed_in(who)
        return phish.campaign_api(int(m[1]), session)

    routes: list[tuple[re.Pattern[str], Handler]] = [
        (re.compile(r"/api/v1/projects"), lambda _, __: api.projects(who, session)),
        (
            re.compile(rf"/api/v1/projects/{_SLUG}"),
            lambda m, _: api.project_detail(unquote(m[1]), request, who, session),
        ),
        (re.compile(rf"/api/v1/projects/{_SLUG}/scans"), lambda m, _: api.scans(unquote(m[1]), who, session)),
        (re.compile(rf"/api/v1/projects/{_SLUG}/findings"), findings),
        (re.compile(r"/api/v1/alerts"), alert_list),
        (re.compile(r"/api/drills"), lambda _, __: drills.list_drills(request)),
        (re.compile(rf"/api/drills/{_SLUG}"), lambda m, _: drills.get_drill(request, unquote(m[1]))),
        (re.compile(r"/api/v1/phish/campaigns"), campaigns),
        (re.compile(r"/api/v1/phish/campaigns/(\d+)"), campaign),
        (re.compile(r"/api/catalog"), lambda _, __: catalog.list_catalog(request)),
        (re.compile(r"/api/catalog/audit"), lambda _, __: catalog.audit_log(request)),
        (re.compile(re.escape(ANSWERS_PATH)), lambda _, __: answers_api(who, session)),
        (re.compile(re.escape(POSTURE_PATH)), lambda _, __: compliance_api(who, session)),
    ]

    def fetch(path: str) -> Any:
        route, _, raw = path.partition("?")
        query = parse_qs(raw)
        for pattern, handler in routes:
            match = pattern.fullmatch(route)
            if match is not None:
                try:
                    return handler(match, query)
                except HTTPException as exc:
                    raise SourceError(f"HTTP {exc.status_code} for {route}") from None
                except BastionError as exc:
                    raise SourceError(f"{route}: {exc}") from None
        raise SourceError(f"{route}: not an API path the assessment reads")

    return fetch


def audience(session: Session, who: Principal) -> Audience:
    """Who ``who`` is for the kept assessments: their kind of credential and the projects they
    may read (an administrator's "all" resolved to today's project ids)."""
    visible = api.visible_project_ids(session, who)
    ids = list(session.scalars(select(Project.id))) if visible is None else visible
    kind = "token" if who.token is not None else "admin" if who.is_admin else "user"
    return audience_of(kind, ids)


def _scope(session: Session, project: str, viewers: Audience) -> str | None:
    """The kept scope of an assessment; None for a project the viewer may not read (no history
    is kept for a name anyone may type)."""
    if not project:
        return ORGANISATION
    found = session.scalar(select(Project.id).where(Project.slug == project))
    return f"project:{found}" if found is not None and found in viewers.project_ids else None


def _assess(
    request: Request, who: Principal, session: Session, project: str
) -> tuple[Assessment, list[Snapshot]]:
    """The assessment for ``who``, with its trend; kept, and returned with the kept history of
    its scope and audience (newest first, today's included)."""
    now = datetime.now(UTC)
    fetch = in_process_fetch(request, who, session)
    mapping = load_mapping()
    evidence = collect_server(fetch, "", now)
    evidence.merge(server_answers(fetch, mapping, ""))
    viewers = audience(session, who)
    scope = _scope(session, project, viewers)
    earlier = None if scope is None else previous_snapshot(session, scope, viewers, now.date())
    result = assess(
        evidence,
        mapping,
        now,
        scope=project or "organisation",
        previous=None if earlier is None else earlier.to_dict(),
    )
    count = len(viewers.project_ids)
    projects = f"{count} project{'' if count == 1 else 's'}"
    if scope is None:
        result.trend = {"previous": None, "note": f"{project}: not a project you may read: no trend kept"}
        return result, []
    if earlier is None:
        result.trend["note"] = (
            f"No earlier assessment kept for viewers who read the same {projects} as you: "
            "the server keeps today's and shows the trend from tomorrow."
        )
    else:
        result.trend["basis"] = (
            f"Compared with the assessment kept on {short_day(result.trend['previous'])} for viewers who "
            f"read the same {projects} as you (kept {RETENTION_DAYS} days)."
        )
    snapshot = Snapshot(
        now, result.verdict, result.overall, {d.value: v for d, v in result.dimensions.items()}
    )
    # Its own short write transaction: the request's read session may not upgrade to a writer on
    # SQLite once another writer committed since it began.
    with get_store(request).write() as writer:
        record_snapshot(writer, scope, viewers, snapshot)
        kept = history(writer, scope, viewers)
    return result, kept


def answer_json(row: ReadyAnswer, slug: str) -> dict[str, Any]:
    """An answer as the API returns it (the fields of a questionnaire file's answer, and more)."""
    return {
        "id": row.id,
        "question": row.question,
        "answer": row.answer,
        "by": row.answered_by,
        "at": row.answered_at.isoformat(timespec="seconds"),
        "note": row.note,
        "project": slug,
        "recorded_by": row.recorded_by,
    }


@api_router.get("/ready/answers")
def answers_api(who: Principal = Reader, session: Session = DB) -> dict[str, Any]:
    """Questionnaire answers the caller may read, newest first (history included)."""
    visible = api.visible_project_ids(session, who)
    return {"answers": [answer_json(row, slug) for row, slug in list_answers(session, visible)]}


@api_router.get("/ready/compliance")
def compliance_api(who: Principal = Reader, session: Session = DB) -> dict[str, Any]:
    """Compliance posture per framework of each scanned project the caller may read (the score the
    project page shows), with the time of its newest scan: the posture's age."""
    visible = api.visible_project_ids(session, who)
    newest = func.max(Scan.created_at)
    query = (
        select(Project.id, Project.slug, newest)
        .join(Scan, Scan.project_id == Project.id)
        .group_by(Project.id, Project.slug)
        .order_by(newest.desc(), Project.slug)
        .limit(POSTURE_PROJECTS)
    )
    if visible is not None:
        query = query.where(Project.id.in_(visible or [-1]))
    rows = [
        {
            "project": slug,
            "scanned_at": scanned.isoformat(timespec="seconds"),
            "frameworks": compliance_scores(session, [project_id]),
        }
        for project_id, slug, scanned in session.execute(query)
    ]
    return {"projects": rows}


def _record(session: Session, who: Principal, fields: dict[str, str]) -> dict[str, Any]:
    """Check and store one answer as ``who``; one-line HTTP errors (403 for a reader)."""
    slug = fields.get("project", "").strip()
    project: Project | None = None
    if slug:
        project = session.scalar(select(Project).where(Project.slug == slug))
        if project is None:
            raise HTTPException(404, f"project {slug!r}: no such project")
        require(who, session, project.id, "upload")
    elif who.token is not None:
        project = session.get(Project, who.token.project_id)
        require(who, session, who.token.project_id, "upload")
    elif not who.is_admin:
        raise HTTPException(403, "answering for the organisation needs an admin; name a project you maintain")
    # A person answers as themselves; a token's caller names who answered.
    by = who.user.username if who.user is not None else fields.get("by", "").strip()
    note = fields.get("note", "")
    try:
        check_answer(load_mapping(), fields.get("question", ""), fields.get("answer", ""), by, note, flag="")
    except BastionError as exc:
        raise HTTPException(422, str(exc)) from None
    row = add_answer(
        session,
        project.id if project is not None else None,
        fields["question"],
        fields["answer"],
        by,
        who.name,
        note,
    )
    return answer_json(row, project.slug if project is not None else "")


def _fields(body: bytes) -> dict[str, str]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise HTTPException(422, f"not JSON ({str(exc)[:120]})") from None
    if not isinstance(document, dict):
        raise HTTPException(422, f"expected an object with {', '.join(_FIELDS)}")
    unknown = sorted(str(k) for k in document if k not in _FIELDS)
    if unknown:
        raise HTTPException(
            422, f"unknown field(s) {', '.join(unknown)[:200]}: expected {', '.join(_FIELDS)}"
        )
    wrong = [k for k, v in document.items() if not isinstance(v, str)]
    if wrong:
        raise HTTPException(422, f"{wrong[0]}: expected a string")
    return dict(document)


@api_router.post("/ready/answers", status_code=201)
async def submit_answer(request: Request, who: Principal = Reader) -> dict[str, Any]:
    """Record one questionnaire answer: ``{"question", "answer", "by", "note", "project"}``."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "send the answer as application/json")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > ANSWER_BODY_LIMIT:
            raise HTTPException(413, f"answer larger than {ANSWER_BODY_LIMIT} bytes")
    fields = _fields(bytes(body))
    store = get_store(request)

    def work() -> dict[str, Any]:
        with store.write() as session:
            return _record(session, who, fields)

    return await run_in_threadpool(work)


@api_router.get("/ready")
def ready_api(
    request: Request, project: str = "", who: Principal = Reader, session: Session = DB
) -> dict[str, Any]:
    """The readiness assessment as JSON (``bastion ready --format json``), organisation or one project."""
    return _assess(request, who, session, project)[0].to_dict()


@api_router.get("/ready/history")
def history_api(project: str = "", who: Principal = Reader, session: Session = DB) -> dict[str, Any]:
    """The readiness assessments kept for the caller's audience (``project``: one project; default
    the organisation), newest first: one a day, each ``at``, ``verdict``, ``overall``, ``dimensions``."""
    viewers = audience(session, who)
    scope = _scope(session, project, viewers)
    if scope is None:
        raise HTTPException(404, f"project {project!r}: no such project, or not one you may read")
    rows = history(session, scope, viewers)
    return {
        "scope": project or "organisation",
        "projects": len(viewers.project_ids),
        "retention_days": RETENTION_DAYS,
        "assessments": [row.to_dict() for row in rows],
    }


@pages.get("/ready", response_class=HTMLResponse)
def ready_page(
    request: Request, project: str = "", who: Principal = Reader, session: Session = DB
) -> Response:
    """Readiness: the answer, the weakest points, the roadmap, per project and for the organisation."""
    result, kept = _assess(request, who, session, project)
    slugs = [p["slug"] for p in api.projects(who, session)]
    context = {
        "who": who,
        "a": result,
        "data": result.to_dict(),
        "projects": slugs,
        "project": project,
        "can_answer": _can_answer(session, who, project),
        "questions": load_mapping().questions(),
        "values": list(ANSWERS),
        "note_limit": NOTE_LIMIT,
        "meaning": DIMENSION_MEANING,
        "past": [{**row.to_dict(), "day": short_day(row.at.isoformat())} for row in kept[:PAST_SHOWN]],
    }
    return render_page(request, "ready/page.html", context)


def _can_answer(session: Session, who: Principal, slug: str) -> bool:
    if who.user is None:
        return False
    if not slug:
        return who.is_admin
    project = session.scalar(select(Project).where(Project.slug == slug))
    return project is not None and who.role(session, project.id) in ("maintainer", "admin")


@pages.post("/ready/answers")
def answer_form(
    question: str = Form(),
    answer: str = Form(),
    note: str = Form(default=""),
    project: str = Form(default=""),
    who: Principal = Reader,
    session: Session = DB,
) -> Response:
    """Record an answer from the ``/ready`` page, then show the page again."""
    _record(session, who, {"question": question, "answer": answer, "note": note, "project": project})
    target = f"/ready?project={quote(project, safe='')}" if project else "/ready"
    return RedirectResponse(target, status_code=303)
