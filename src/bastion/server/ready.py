"""Readiness in the server: the ``/ready`` page and ``/api/v1/ready``.

The assessment reads the same API the ``bastion ready --server`` command reads, in process and
with the caller's own rights: each API path is answered by its endpoint function with the
caller's principal and session, so a viewer sees the readiness of the projects they may read and
a source they may not read is shown as missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from bastion.errors import BastionError
from bastion.ready.collect import Fetch, SourceError, collect_server
from bastion.ready.mapping import load_mapping
from bastion.ready.score import Assessment, assess
from bastion.server import alerts, api, catalog, drills, phish
from bastion.server.auth import Principal
from bastion.server.deps import db, principal
from bastion.server.web import render as render_page

__all__ = ["api_router", "in_process_fetch", "pages"]

api_router = APIRouter(prefix="/api/v1", tags=["ready"])
pages = APIRouter(tags=["ready"])
Reader = Depends(principal)
DB = Depends(db)
_SLUG = r"([^/]+)"
Handler = Callable[[re.Match[str], dict[str, list[str]]], Any]


def in_process_fetch(request: Request, who: Principal, session: Session) -> Fetch:
    """A :data:`Fetch` answering API paths through their endpoint functions, as ``who``."""

    def one(query: dict[str, list[str]], key: str, default: str = "") -> str:
        return query.get(key, [default])[0]

    def findings(m: re.Match[str], q: dict[str, list[str]]) -> Any:
        return api.findings(
            unquote(m[1]), request, status=q.get("status", []), severity=[], scanner=one(q, "scanner"),
            q=one(q, "q"), overdue=False, sort="severity", order="desc", page=1,
            per_page=int(one(q, "per_page", "50")), who=who, session=session,
        )  # fmt: skip

    def alert_list(_: re.Match[str], q: dict[str, list[str]]) -> Any:
        limit = int(one(q, "limit", "500"))
        return alerts.alerts_api("", "", "", None, None, 1, limit, who=who, session=session)

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


def _assess(request: Request, who: Principal, session: Session, project: str) -> Assessment:
    now = datetime.now(UTC)
    evidence = collect_server(in_process_fetch(request, who, session), "", now)
    evidence.missing(
        "questionnaire", "process answers are kept with the command: bastion ready --answers FILE"
    )
    return assess(evidence, load_mapping(), now, scope=project or "organisation")


@api_router.get("/ready")
def ready_api(
    request: Request, project: str = "", who: Principal = Reader, session: Session = DB
) -> dict[str, Any]:
    """The readiness assessment as JSON (``bastion ready --format json``), organisation or one project."""
    return _assess(request, who, session, project).to_dict()


@pages.get("/ready", response_class=HTMLResponse)
def ready_page(
    request: Request, project: str = "", who: Principal = Reader, session: Session = DB
) -> Response:
    """Readiness: the answer, the weakest points, the roadmap, per project and for the organisation."""
    result = _assess(request, who, session, project)
    slugs = [p["slug"] for p in api.projects(who, session)]
    context = {"who": who, "a": result, "data": result.to_dict(), "projects": slugs, "project": project}
    return render_page(request, "ready/page.html", context)
