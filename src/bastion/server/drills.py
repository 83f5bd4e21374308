"""War games in the server: ``/drills`` pages and ``/api/drills``.

Exercises are the output directories of ``bastion drill run`` under one drills directory
(``app.state.drills_dir``, else ``$BASTION_DRILLS_DIR``). The page of an exercise shows the
scoreboard, the ATT&CK coverage matrix, the scenarios and the alerts with acknowledge / contain /
resolve buttons; each press is journaled with its time (now, or a number of seconds after the
alert for a replayed exercise) and the scoreboard is recomputed from the journal.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bastion.drills.journal import ACTIONS, Action
from bastion.drills.report import document, scoreboard, session
from bastion.errors import InputError
from bastion.server.auth import Principal, check_csrf
from bastion.server.deps import principal
from bastion.server.web import render as render_page

__all__ = ["DRILLS_ENV", "api", "pages"]

DRILLS_ENV = "BASTION_DRILLS_DIR"
api = APIRouter(prefix="/api/drills", tags=["drills"])
pages = APIRouter(tags=["drills"])
Reader = Depends(principal)
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
TACTICS = (
    "reconnaissance", "resource-development", "initial-access", "execution", "persistence",
    "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
    "collection", "command-and-control", "exfiltration", "impact",
)  # fmt: skip
"""ATT&CK Enterprise tactics in matrix order (the dashboard's columns)."""


def _root(request: Request) -> Path | None:
    configured = getattr(request.app.state, "drills_dir", None) or os.environ.get(DRILLS_ENV)
    return Path(configured) if configured else None


def _exercise_dir(request: Request, name: str) -> Path:
    root = _root(request)
    if root is None:
        raise HTTPException(404, f"no drills directory configured (set {DRILLS_ENV})")
    if not _NAME.match(name) or ".." in name:
        raise HTTPException(404, "no such exercise")
    path = root / name
    if not (path / "journal.jsonl").is_file():
        raise HTTPException(404, "no such exercise")
    return path


def _document(path: Path) -> dict[str, Any]:
    try:
        ex, journal = session(path)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return document(ex, journal, scoreboard(ex, journal))


def _listing(request: Request) -> list[dict[str, Any]]:
    root = _root(request)
    if root is None or not root.is_dir():
        return []
    out = []
    for path in sorted(p for p in root.iterdir() if (p / "journal.jsonl").is_file() and _NAME.match(p.name)):
        try:
            doc = _document(path)
        except HTTPException as exc:
            out.append({"name": path.name, "error": str(exc.detail)})
            continue
        out.append({"name": path.name, "exercise": doc["exercise"], "coverage": doc["coverage"],
                    "false_alerts": doc["false_alerts"], "points": doc["points"]})  # fmt: skip
    return out


def matrix(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The coverage matrix: each ATT&CK tactic with the exercise's techniques under it."""
    columns: list[tuple[str, list[dict[str, Any]]]] = []
    for tactic in TACTICS:
        cells = [t for t in doc["techniques"] if tactic in t["tactics"]]
        if cells:
            columns.append((tactic, cells))
    return columns


def _record(path: Path, alert: str, kind: str, team: str, after: float | None) -> dict[str, Any]:
    if kind not in ACTIONS:
        raise HTTPException(404, f"unknown action {kind!r} (choose from {', '.join(ACTIONS)})")
    try:
        ex, journal = session(path)
        record = journal.alert(alert)
    except InputError as exc:
        raise HTTPException(404, str(exc).split(": ", 1)[-1]) from None
    if team not in ex.teams:
        raise HTTPException(422, f"team {team[:40]!r} is not a team of the exercise ({', '.join(ex.teams)})")
    when = record.time + timedelta(seconds=after) if after is not None else datetime.now(UTC)
    added = journal.add_action(Action(kind, record.id, team, when))
    return {"alert": record.id, "kind": kind, "team": team, "time": when.isoformat(), "recorded": added}


@api.get("", dependencies=[Reader])
def list_drills(request: Request) -> list[dict[str, Any]]:
    """Every exercise under the drills directory, with its coverage and points."""
    return _listing(request)


@api.get("/{name}", dependencies=[Reader])
def get_drill(request: Request, name: str) -> dict[str, Any]:
    """One exercise's report (the JSON of ``drill report --format json``)."""
    return _document(_exercise_dir(request, name))


@api.post("/{name}/alerts/{alert}/{kind}", status_code=201)
def act(
    request: Request, name: str, alert: str, kind: str, body: dict[str, Any], who: Principal = Reader
) -> dict[str, Any]:
    """Acknowledge, contain or resolve an alert for a team: ``{"team": "blue", "after_s": 60}``."""
    check_csrf(who, request, None)
    team = str(body.get("team", "blue"))
    after = body.get("after_s")
    if after is not None and not isinstance(after, int | float):
        raise HTTPException(422, "after_s: a number of seconds")
    return _record(_exercise_dir(request, name), alert, kind, team, after)


@pages.get("/drills", response_class=HTMLResponse)
def drills_page(request: Request, who: Principal = Reader) -> Response:
    """The exercises."""
    return render_page(
        request, "drills/index.html", {"who": who, "drills": _listing(request), "configured": _root(request)}
    )


@pages.get("/drills/{name}", response_class=HTMLResponse)
def drill_page(request: Request, name: str, who: Principal = Reader) -> Response:
    """One exercise: scoreboard, coverage matrix, scenarios, alerts with the blue team's buttons."""
    doc = _document(_exercise_dir(request, name))
    context = {"who": who, "name": name, "doc": doc, "matrix": matrix(doc), "actions": ACTIONS}
    return render_page(request, "drills/exercise.html", context)


@pages.post("/drills/{name}/alerts/{alert}/{kind}")
def act_form(
    request: Request,
    name: str,
    alert: str,
    kind: str,
    team: str = Form(max_length=40),
    after_s: str = Form(default="", max_length=20),
    csrf_token: str = Form(default=""),
    who: Principal = Reader,
) -> Response:
    """The buttons of the exercise page; back to the page."""
    check_csrf(who, request, csrf_token)
    after: float | None = None
    if after_s.strip():
        try:
            after = float(after_s)
        except ValueError:
            raise HTTPException(422, f"after_s: {after_s!r} is not a number of seconds") from None
    _record(_exercise_dir(request, name), alert, kind, team, after)
    return RedirectResponse(f"/drills/{name}#alert-{alert[:12]}", status_code=303)
