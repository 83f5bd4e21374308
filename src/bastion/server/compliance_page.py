"""The /compliance page: each framework's score and the controls by family behind it
(:mod:`bastion.server.compliance` computes them; the overview and project pages show the scores)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.server.api import READ_SCOPE, visible_project_ids
from bastion.server.auth import Principal, require
from bastion.server.compliance import compliance_view
from bastion.server.deps import DB, principal
from bastion.server.web import render
from bastion.store.models import Project

__all__ = ["pages"]

pages = APIRouter(include_in_schema=False)


async def _reader(who: Principal = Depends(principal)) -> Principal:
    """A caller who may read findings (a token needs the read scope, as on every findings page)."""
    if who.token is not None and READ_SCOPE not in who.token.scopes:
        raise HTTPException(403, "this token lacks the scope needed to read")
    return who


@pages.get("/compliance", response_class=HTMLResponse)
def compliance_page(
    request: Request,
    project: str | None = Query(default=None, max_length=100),
    who: Principal = Depends(_reader),
    session: Session = DB,
) -> Response:
    """Scores and the controls by family behind them, for the visible projects or one of them."""
    chosen: Project | None = None
    if project:
        chosen = session.scalar(select(Project).where(Project.slug == project))
        if chosen is None:
            raise HTTPException(404, "no such project")
        require(who, session, chosen.id, "read")
    ids = [chosen.id] if chosen is not None else visible_project_ids(session, who)
    scores, detail = compliance_view(session, ids)
    context = {"who": who, "project": chosen, "compliance": scores, "compliance_detail": detail}
    return render(request, "compliance.html", context)
