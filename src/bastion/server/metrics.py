"""The metrics page: charts for the whole organisation or one project, a CSV behind each chart and
the same numbers as JSON.

``/metrics`` (``?project=SLUG``), ``/metrics/<name>.csv`` and ``/api/v1/metrics/<name>``: every one
shows only the projects the caller may read (:func:`bastion.server.api.visible_project_ids`, a
project page's own check for ``?project=``), as the rest of the server does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.server.api import visible_project_ids
from bastion.server.auth import Principal, require
from bastion.server.charts import Series, hbar_chart, series_chart, stacked_bar_chart
from bastion.server.deps import DB, get_settings
from bastion.server.web import Reader, render
from bastion.store import metrics as store_metrics
from bastion.store.metrics import AGE_BUCKETS, METRICS, Metric
from bastion.store.models import Project, utcnow
from bastion.store.sla import SlaPolicy

__all__ = ["CSV_UNSAFE", "api", "csv_text", "pages"]

api = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])
pages = APIRouter(include_in_schema=False)
CSV_UNSAFE = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is read as a formula by spreadsheets: it gets a leading '."""
BURNDOWN_LINES = 6
"""Projects drawn on the burn-down chart (the most open findings now); the CSV has them all."""
TABLE_ROWS = 100
"""Rows of a metric's table shown on the page (the CSV and the JSON carry every row)."""
SEVERITY_CSS = ("sev-critical", "sev-high", "sev-medium", "sev-low", "sev-info")

ProjectParam = Query(
    default=None, max_length=100, description="one project's slug; default: every visible one"
)
PeriodParam = Query(default="month", description="the SLA compliance period: week or month")
DaysParam = Query(default=30, ge=7, le=365, description="the burn-down window in days")


@dataclass(frozen=True)
class Options:
    """What the caller asked for: the scope and each metric's parameter."""

    project_ids: list[int] | None
    project: Project | None
    sla: SlaPolicy
    period: Literal["week", "month"] = "month"
    days: int = 30


def _compute(name: str, session: Session, opts: Options) -> Metric:
    """One metric by name (404 for a name that is none)."""
    ids = opts.project_ids
    now = utcnow()
    builders: dict[str, Callable[[], Metric]] = {
        "mttr": lambda: store_metrics.mttr(session, ids),
        "sla": lambda: store_metrics.sla_compliance(
            session, ids, opts.sla, opts.period, 26 if opts.period == "week" else 12, now=now
        ),
        "age": lambda: store_metrics.age_histogram(session, ids, now=now),
        "burndown": lambda: store_metrics.burndown(session, ids, opts.days, today=now.date()),
        "kev": lambda: store_metrics.kev_exposure(session, ids, now=now),
        "rules": lambda: store_metrics.recurring_rules(session, ids),
        "coverage": lambda: store_metrics.scanner_coverage(session, ids),
    }
    builder = builders.get(name)
    if builder is None:
        raise HTTPException(404, f"no metric {name!r}; choose from {', '.join(METRICS)}")
    return builder()


def _options(
    request: Request, session: Session, who: Principal, slug: str | None, period: str, days: int
) -> Options:
    if period not in ("week", "month"):
        raise HTTPException(422, f"period {period!r}: choose week or month")
    sla = get_settings(request).sla
    if slug:
        project = session.scalar(select(Project).where(Project.slug == slug))
        if project is None:
            raise HTTPException(404, "no such project")
        require(who, session, project.id, "read")
        return Options([project.id], project, sla, "week" if period == "week" else "month", days)
    return Options(
        visible_project_ids(session, who), None, sla, "week" if period == "week" else "month", days
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_UNSAFE) else text


def csv_text(metric: Metric) -> str:
    """The metric's table as CSV (header row first); formula-like cells are neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(metric.columns)
    writer.writerows([_cell(v) for v in row] for row in metric.rows)
    return out.getvalue()


def chart(metric: Metric) -> str:
    """The metric's chart as inline SVG (the "no data yet" note when it is empty)."""
    records = metric.records()
    if metric.empty:
        return '<p class="muted no-data">No data yet.</p>'
    if metric.name == "mttr":
        bars = [(str(r["key"]), float(r["mean_days"] or 0)) for r in records if r["group"] == "severity"]
        return hbar_chart(bars, metric.title, " d")
    if metric.name == "sla":
        period = str(metric.columns[0])
        labels = [str(r[period]) for r in records]
        values: list[float | None] = [r["percent_met"] for r in records]
        return series_chart(labels, [("met on time", values)], metric.title, unit="%", top=100)
    if metric.name == "age":
        labels = [str(r["age_days"]) for r in records]
        stacks = [
            Series(sev, [float(r[sev]) for r in records], css)
            for sev, css in zip(store_metrics.SEVERITIES, SEVERITY_CSS, strict=True)
        ]
        return stacked_bar_chart(labels, stacks, metric.title)
    if metric.name == "burndown":
        return _burndown_chart(metric, records)
    if metric.name == "kev":
        bars = [(f"{r['project']}: {r['rule_id']}", float(r["exposed_days"])) for r in records]
        bars.sort(key=lambda b: -b[1])
        return hbar_chart(bars[:15], metric.title, " d")
    if metric.name == "rules":
        return hbar_chart([(str(r["rule_id"]), float(r["projects"])) for r in records], metric.title)
    return ""  # coverage is a table: every cell is a word, not a quantity


def _burndown_chart(metric: Metric, records: Sequence[dict[str, Any]]) -> str:
    days = sorted({str(r["day"]) for r in records})
    counts: dict[str, dict[str, int]] = {}
    for r in records:
        counts.setdefault(str(r["project"]), {})[str(r["day"])] = int(r["open"])
    last = days[-1]
    chosen = sorted(counts, key=lambda p: (-counts[p].get(last, 0), p))[:BURNDOWN_LINES]
    named: list[tuple[str, Sequence[float | None]]] = [
        (p, [_float(counts[p].get(d)) for d in days]) for p in chosen
    ]
    title = metric.title if len(counts) <= BURNDOWN_LINES else f"{metric.title} ({len(chosen)} largest shown)"
    return series_chart([d[5:] for d in days], named, title)


def _float(value: int | None) -> float | None:
    return None if value is None else float(value)


@pages.get("/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request,
    project: str | None = ProjectParam,
    period: str = PeriodParam,
    days: int = DaysParam,
    who: Principal = Reader,
    session: Session = DB,
) -> Response:
    """Every metric with its chart and CSV link, for the visible projects or one of them."""
    opts = _options(request, session, who, project, period, days)
    made = [_compute(name, session, opts) for name in METRICS]
    visible = visible_project_ids(session, who)
    query = select(Project).order_by(Project.slug)
    if visible is not None:
        query = query.where(Project.id.in_(visible))
    choices = list(session.scalars(query))
    context = {
        "who": who,
        "project": opts.project,
        "projects": choices,
        "period": opts.period,
        "days": opts.days,
        "sla": opts.sla,
        "age_buckets": [label for label, _first, _last in AGE_BUCKETS],
        "metrics": [{"m": m, "svg": chart(m), "csv": _link(m.name, opts)} for m in made],
        "table_rows": TABLE_ROWS,
    }
    return render(request, "metrics.html", context)


def _link(name: str, opts: Options) -> str:
    params: dict[str, str | int] = {}
    if opts.project is not None:
        params["project"] = opts.project.slug
    if name == "sla":
        params["period"] = opts.period
    if name == "burndown":
        params["days"] = opts.days
    return f"/metrics/{name}.csv" + ("?" + urlencode(params) if params else "")


@pages.get("/metrics/{name}.csv")
def metric_csv(
    name: str,
    request: Request,
    project: str | None = ProjectParam,
    period: str = PeriodParam,
    days: int = DaysParam,
    who: Principal = Reader,
    session: Session = DB,
) -> Response:
    """One metric's table as a CSV download."""
    metric = _compute(name, session, _options(request, session, who, project, period, days))
    scope = f"-{project}" if project else ""
    return Response(
        csv_text(metric),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bastion-{metric.name}{scope}.csv"'},
    )


@api.get("", dependencies=[Reader])
def metric_names() -> dict[str, Any]:
    """The metrics there are."""
    return {"metrics": list(METRICS)}


@api.get("/{name}")
def metric_json(
    name: str,
    request: Request,
    project: str | None = ProjectParam,
    period: str = PeriodParam,
    days: int = DaysParam,
    who: Principal = Reader,
    session: Session = DB,
) -> dict[str, Any]:
    """One metric as JSON: columns, rows (one object each), summary, and ``empty``."""
    opts = _options(request, session, who, project, period, days)
    body = _compute(name, session, opts).to_dict()
    body["project"] = opts.project.slug if opts.project is not None else None
    return body
