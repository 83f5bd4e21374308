"""The assessment as a terminal table, JSON, Markdown or a self-contained HTML report."""

from __future__ import annotations

import json
from enum import StrEnum

from jinja2 import Environment, PackageLoader, select_autoescape

from bastion.ready.score import Assessment
from bastion.ready.signals import parse_time

__all__ = ["DIMENSION_MEANING", "SOURCE_NAMES", "ReadyFormat", "age", "render"]

DIMENSION_MEANING = {
    "prepare": "stop attacks before they start: scanning, patching, training",
    "detect": "notice an attack: monitoring, alerts, war games",
    "respond": "act on it: a tested plan, on-call, drills",
    "recover": "get back to normal: backups, recovery plan",
}
"""Each readiness dimension in a board reader's words (the HTML report and the server page)."""
SOURCE_NAMES = {
    "scans": "CI scans",
    "findings": "findings and patching",
    "sbom": "software bills of materials",
    "alerts": "monitoring alerts",
    "drills": "war games",
    "phish": "phishing exercises",
    "catalog": "service catalog",
    "compliance": "compliance posture",
    "questionnaire": "process questionnaire",
}
"""Evidence sources in plain words."""


class ReadyFormat(StrEnum):
    """Output formats of ``bastion ready``."""

    TABLE = "table"
    JSON = "json"
    MD = "md"
    HTML = "html"


def human_time(value: str | None) -> str:
    """``2026-12-07T06:56:30+00:00`` as ``7 Dec 2026, 06:56 UTC`` (what a reader expects)."""
    when = parse_time(value)
    return value or "" if when is None else f"{when.day} {when:%b %Y, %H:%M} UTC"


def age(days: float) -> str:
    """An evidence age in words: ``today``, ``1 day old``, ``12 days old``."""
    whole = int(days)
    return "today" if whole < 1 else "1 day old" if whole == 1 else f"{whole} days old"


def level(score: float) -> str:
    """``low``, ``mid`` or ``high``: the colour of a score."""
    return "low" if score < 40 else "mid" if score < 75 else "high"


def _bar(score: float) -> str:
    filled = round(score / 10)
    return "#" * filled + "." * (10 - filled)


def _change(value: float | None) -> str:
    return "" if value is None else f" ({value:+.0f} since last)"


def _text(a: Assessment, md: bool) -> str:
    lines: list[str] = []
    h = "## " if md else ""
    lines.append(("# " if md else "") + f"Readiness ({a.scope}), {human_time(a.at.isoformat())}")
    lines += ["", f"{'**' if md else ''}{a.answer()}{'**' if md else ''}", ""]
    changes = a.trend.get("dimensions") or {}
    lines.append(f"{h}Scores (out of 100)")
    if md:
        lines += ["", "| dimension | score | change |", "|---|---|---|"]
    for dim, score in a.dimensions.items():
        delta = changes.get(dim.value)
        if md:
            lines.append(f"| {dim.value} | {score:.0f} | {'' if delta is None else f'{delta:+.0f}'} |")
        else:
            lines.append(f"  {dim.value:<8} {_bar(score)} {score:5.1f}{_change(delta)}")
    lines += ["", f"{h}Three weakest points"]
    for i, row in enumerate(a.weakest, 1):
        lines.append(f"{i}. {row.info.title} [{row.info.dimension.value}]: {row.reason}")
    if a.first_steps:
        lines += ["", f"{h}First steps"]
        lines += [f"- {s}" for s in a.first_steps]
    lines += ["", f"{h}Roadmap (biggest gain first)"]
    for i, row in enumerate(a.roadmap[:10], 1):
        code = f"`{row.info.command}`" if md else row.info.command
        lines.append(f"{i}. {row.info.action} -> {code} (+{row.gain:.0f} {row.info.dimension.value})")
    trend = a.trend
    lines += ["", f"{h}Trend"]
    if trend.get("previous"):
        then = trend.get("previous_overall")
        was = "" if then is None else f", {float(then):.0f} then"
        words = trend.get("summary") or f"since {human_time(trend['previous'])}"
        lines.append(f"overall {a.overall:.0f}: {words} ({trend.get('previous_verdict')}{was})")
        if trend.get("basis"):
            lines.append(str(trend["basis"]))
    else:
        lines.append(str(trend.get("note", "")))
    missing = [s for s in a.sources if s["state"] == "missing"]
    if missing:
        lines += ["", f"{h}Missing sources"]
        lines += [f"- {s['name']}: {s['why']}" for s in missing]
    if a.groups:
        lines += ["", f"{h}Maturity models (activities evidenced)"]
        for g in a.groups:
            lines.append(
                f"- {g.model} {g.group}: {g.score:.0f}% "
                f"({g.evidenced} evidenced, {g.partly} partly, {g.total} in all)"
            )
    return "\n".join(lines) + "\n"


def render(assessment: Assessment, fmt: ReadyFormat) -> str:
    """The assessment in ``fmt``."""
    if fmt is ReadyFormat.JSON:
        return json.dumps(assessment.to_dict(), indent=2) + "\n"
    if fmt is ReadyFormat.TABLE:
        return _text(assessment, md=False)
    if fmt is ReadyFormat.MD:
        return _text(assessment, md=True)
    if fmt is ReadyFormat.HTML:
        env = Environment(
            loader=PackageLoader("bastion.ready", "templates"), autoescape=select_autoescape(["html"])
        )
        env.filters.update(when=human_time, level=level, age=age)
        return env.get_template("report.html").render(
            a=assessment,
            data=assessment.to_dict(),
            meaning=DIMENSION_MEANING,
            source_names=SOURCE_NAMES,
            thresholds=assessment.thresholds,
        )
    raise AssertionError(fmt)  # pragma: no cover - every format has a branch above
