"""The exercise report: JSON (for the server and ``drill tune``), self-contained HTML and Markdown.

:func:`scoreboard` scores a journal against its exercise; :func:`document` turns the scoreboard into
the JSON document every format renders: scoreboard, points, timeline, per-scenario and per-technique
tables, false alerts, the misses with what the detectors saw, and the trend across earlier reports.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bastion.drills.attack import ATTACK_NOTICE
from bastion.drills.exercise import Exercise, load_exercise
from bastion.drills.journal import Journal
from bastion.drills.scoring import NOT_ASSESSED, POINTS, Scoreboard, Stats, score
from bastion.errors import InputError

__all__ = ["REPORT_VERSION", "document", "load_report", "markdown", "render_html", "scoreboard", "session"]

REPORT_VERSION = 1


def session(directory: Path) -> tuple[Exercise, Journal]:
    """The exercise and journal of an exercise output directory; :class:`InputError` when there is none."""
    journal = Journal.open(directory)
    if not journal.digest:
        raise InputError(
            f"{directory}: no exercise journal here (run `bastion drill run EXERCISE -o {directory}`)"
        )
    ex = load_exercise(Path(journal.exercise))
    if ex.digest != journal.digest:
        raise InputError(
            f"{journal.exercise}: the exercise file changed since the journal in {directory} began"
        )
    return ex, journal


def scoreboard(ex: Exercise, journal: Journal) -> Scoreboard:
    """Score what the journal holds."""
    skipped: dict[int, dict[str, str]] = {}
    for unit in journal.units.values():
        skipped.setdefault(unit.run, {}).update(unit.not_assessed)
    missing = {(inj.run, f) for inj in journal.injections.values() for f in ex.detectors} - set(journal.units)
    for run, family in missing:
        skipped.setdefault(run, {})[family] = "replay of this detector did not finish (resume with drill run)"
    return score(
        {s.id: s for s in ex.scenarios},
        journal.injections.values(),
        journal.all_alerts(),
        journal.actions.values(),
        families=ex.detectors,
        skipped=skipped,
        teams=ex.teams,
        clock_skew_s=ex.clock_skew_s,
        skew_tolerance_s=ex.skew_tolerance_s,
        baseline_hours=ex.duration_h,
    )


def _stats(s: Stats) -> dict[str, Any]:
    return s.to_dict()


def document(
    ex: Exercise, journal: Journal, board: Scoreboard, trend: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """The report as plain JSON."""
    alerts = {a.id: a for a in journal.all_alerts()}
    belongs = {aid: o.scenario for o in board.outcomes for aid in o.alerts}
    scenarios = []
    for s in ex.scenarios:
        summ = board.summary(s.id)
        scenarios.append(
            {
                "id": s.id,
                "name": s.name,
                "techniques": [t.id for t in s.techniques],
                "expect": [{"detector": e.detector, "within_s": e.within_s} for e in s.expect],
                **{k: (_stats(v) if isinstance(v, Stats) else v) for k, v in summ.items()},
            }
        )
    techniques = [
        {
            "id": tid,
            "name": row.name,
            "tactics": list(row.tactics),
            "status": row.status,
            "coverage": row.coverage,
            "counts": row.counts,
            "ttd": _stats(Stats.of(row.ttds)),
            "scenarios": row.scenarios,
        }
        for tid, row in sorted(board.by_technique().items())
    ]
    timeline = [
        {
            "run": o.run,
            "scenario": o.scenario,
            "start": journal.injections[(o.run, o.scenario)].start.isoformat(),
            "status": o.status,
            "ttd_s": o.ttd,
            "in_time": o.in_time,
            "skewed": o.skewed,
            "why": o.why,
            "tta_s": o.tta,
            "ttc_s": o.ttc,
            "ttr_s": o.ttr,
        }
        for o in sorted(board.outcomes, key=lambda o: (o.run, journal.injections[(o.run, o.scenario)].start))
    ]
    detected = sum(1 for o in board.outcomes if o.status == "detected")
    assessed = sum(1 for o in board.outcomes if o.status != NOT_ASSESSED)
    return {
        "version": REPORT_VERSION,
        "exercise": ex.name,
        "digest": ex.digest,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "period": {"start": ex.start.isoformat(), "hours": ex.duration_h},
        "runs": ex.runs,
        "teams": list(ex.teams),
        "detectors": list(ex.detectors),
        "coverage": {
            "detected": detected,
            "assessed": assessed,
            "share": detected / assessed if assessed else None,
        },
        "points": board.points,
        "point_table": POINTS,
        "false_alerts": {"total": board.false_alerts_total, "per_hour": board.false_alerts_per_hour()},
        "scenarios": scenarios,
        "techniques": techniques,
        "timeline": timeline,
        "alerts": [
            {
                "id": a.id,
                "run": a.run,
                "time": a.time.isoformat(),
                "signature": a.signature,
                "entity": a.alert.entity,
                "severity": a.alert.severity.value,
                "scenario": belongs.get(a.id, ""),
                "explanation": a.alert.explanation[:300],
            }
            for a in sorted(alerts.values(), key=lambda a: a.time)
        ],
        "actions": [
            {"alert": x.alert, "kind": x.kind, "team": x.team, "time": x.time.isoformat()}
            for x in sorted(journal.actions.values(), key=lambda x: x.time)
        ],
        "trend": [
            *trend,
            {
                "exercise": ex.name,
                "coverage": detected / assessed if assessed else None,
                "false_alerts": board.false_alerts_total,
            },
        ],
        "live": journal.live,
        "attack_notice": ATTACK_NOTICE,
    }


def load_report(path: Path) -> dict[str, Any]:
    """A report JSON written by ``drill run``/``drill report``; :class:`InputError` when it is not one."""
    from bastion.structured import read_json

    doc = read_json(path, what="drill report")
    if not isinstance(doc, dict) or doc.get("version") != REPORT_VERSION or "scenarios" not in doc:
        raise InputError(f"{path}: not a drill report (version {REPORT_VERSION})")
    return doc


def _secs(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.0f}s" if v < 120 else f"{v / 60:.1f}min" if v < 7200 else f"{v / 3600:.1f}h"


def markdown(doc: dict[str, Any]) -> str:
    """The short Markdown summary."""
    cov = doc["coverage"]
    share = f"{cov['share']:.0%}" if cov["share"] is not None else "n/a"
    lines = [
        f"# Drill: {doc['exercise']}",
        "",
        f"Coverage {cov['detected']}/{cov['assessed']} scenario runs detected ({share}); "
        f"{doc['false_alerts']['total']} false alert(s), "
        f"{doc['false_alerts']['per_hour']:.2f} per hour of baseline.",
        "Points: " + ", ".join(f"{k} {v}" for k, v in doc["points"].items()) + ".",
        "",
        "| scenario | status | TTD median | TTD p90 | TTA median | TTC median |",
        "|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {s['id']} | {s['status']} | {_secs(s['ttd']['median_s'])} | {_secs(s['ttd']['p90_s'])} | "
        f"{_secs(s['tta']['median_s'])} | {_secs(s['ttc']['median_s'])} |"
        for s in doc["scenarios"]
    )
    misses = [s for s in doc["scenarios"] if s["status"] in ("missed", "partly detected", NOT_ASSESSED)]
    if misses:
        lines += ["", "## Missed or not assessed", ""]
        lines += [f"- {s['id']} ({s['status']}): {s['why'] or '-'}" for s in misses]
    lines += ["", f"_{doc['attack_notice']}_", ""]
    return "\n".join(lines)


@cache
def _template() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=select_autoescape(["html", "j2"]),
    )
    env.filters["secs"] = _secs
    return env.get_template("report.html.j2")


def render_html(doc: dict[str, Any]) -> str:
    """One self-contained HTML page (inline style and SVG, no script, nothing fetched)."""
    return str(_template().render(doc=doc, raw_json=html.escape(json.dumps(doc["points"]))))
