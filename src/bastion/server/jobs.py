"""Scan jobs in the server: ``/api/jobs`` and the ``/jobs`` page (site administrators).

What the workers record (:mod:`bastion.jobs.board`): each job's state (queued, running,
retried, done, failed, dead), attempts, findings stored and last error. The page reloads itself
while jobs are still queued or running, so results appear as they finish.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bastion.jobs import board
from bastion.jobs.models import JobState
from bastion.server.auth import Principal
from bastion.server.deps import get_store, principal
from bastion.server.web import render as render_page

__all__ = ["api", "pages"]

api = APIRouter(prefix="/api/jobs", tags=["jobs"])
pages = APIRouter(tags=["jobs"])
LIMIT = 500


def admin(who: Principal = Depends(principal)) -> Principal:
    """Jobs name every repository of the organisation: site administrators only."""
    if not who.is_admin:
        raise HTTPException(403, "admin role needed (jobs list every repository)")
    return who


Admin = Depends(admin)


def _state(value: str | None) -> JobState | None:
    if value is None or value == "":
        return None
    try:
        return JobState(value)
    except ValueError:
        choices = ", ".join(s.value for s in JobState)
        raise HTTPException(400, f"state {value[:40]!r}: choose from {choices}") from None


@api.get("")
def list_jobs(request: Request, state: str | None = None, _: Principal = Admin) -> dict[str, Any]:
    """Counts per state and the newest jobs (``?state=dead`` for one state)."""
    store = get_store(request)
    counts = board.counts(store)
    views = board.jobs(store, state=_state(state), limit=LIMIT)
    return {"counts": {s.value: n for s, n in counts.items()}, "jobs": [v.to_dict() for v in views]}


@api.get("/{job_id}")
def get_job(request: Request, job_id: str, _: Principal = Admin) -> dict[str, Any]:
    """One job."""
    view = board.job(get_store(request), job_id[:64])
    if view is None:
        raise HTTPException(404, "no such job")
    return view.to_dict()


@pages.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, state: str | None = None, who: Principal = Admin) -> Response:
    """Counts per state and the newest jobs, reloading while any is queued or running."""
    store = get_store(request)
    counts = board.counts(store)
    chosen = _state(state)
    views = board.jobs(store, state=chosen, limit=LIMIT)
    active = counts[JobState.QUEUED] + counts[JobState.RUNNING] + counts[JobState.RETRIED]
    return render_page(
        request,
        "jobs/index.html",
        {
            "who": who,
            "counts": counts,
            "jobs": views,
            "chosen": chosen,
            "refresh": active > 0,
            "states": JobState,
        },
    )
