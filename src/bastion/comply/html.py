"""The posture as one self-contained HTML page: inline CSS and SVG, no script, no network."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from bastion.comply.history import Trend
from bastion.comply.posture import FAIL, NOT_ASSESSED, PASS
from bastion.report.charts import CHART_CSS, Series, line_chart

__all__ = ["render_html"]

_COLORS = dict(zip((PASS, FAIL, NOT_ASSESSED), ("#1a7f37", "#cf222e", "#8c959f"), strict=True))
_LINE = {"nist-800-53-r5": "#0969da", "cis-v8": "#8250df", "iso27001-2022": "#bf8700"}

_CSS = "".join(
    "*{box-sizing:border-box}"
    'body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;'
    "color:#1f2328;background:#f6f8fa}"
    "header{background:#24292f;color:#fff;padding:20px 32px}"
    "header h1{margin:0 0 4px;font-size:22px}"
    "header p{margin:2px 0;color:#d0d7de}"
    "main{padding:20px 32px;max-width:1200px}"
    "section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;"
    "margin:0 0 20px}"
    "h2{font-size:18px;margin:0 0 12px}"
    "h3{font-size:15px;margin:16px 0 8px}"
    ".cards{display:flex;gap:16px;flex-wrap:wrap}"
    ".card{flex:1 1 300px;background:#fff;border:1px solid #d0d7de;border-radius:8px;"
    "padding:14px;display:flex;gap:14px;align-items:center}"
    ".card h3{margin:0 0 6px}"
    ".muted{color:#656d76}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}"
    "th{background:#f6f8fa;font-weight:600}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;"
    "white-space:nowrap}"
    ".pass{background:#1a7f37}"
    ".fail{background:#cf222e}"
    ".na{background:#8c959f}"
    "code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:1px "
    "4px;border-radius:4px}"
    "ul{margin:4px 0;padding-left:18px}"
    "details{margin-top:8px}"
    "summary{cursor:pointer;color:#0969da}"
    ".bars{width:auto}"
    ".bars td{border:0;padding:3px 12px 3px 0}"
    ".regress{color:#cf222e}"
    ".mark{display:inline-block;padding:0 6px;border-radius:10px;color:#fff;font-size:11px}"
    "li.more details{margin:0}"
    "details.family{border-top:1px solid #eaeef2;padding:4px 0}"
    "details.family summary .badge{margin-left:6px}"
    ".fixed{color:#1a7f37}"
    + CHART_CSS
    + "".join(f"svg.chart .fw-{name}{{stroke:{color};fill:{color}}}" for name, color in _LINE.items())
)


def _badge(status: str) -> str:
    css = {PASS: PASS, FAIL: FAIL}.get(status, "na")
    return f'<span class="badge {css}">{escape(status)}</span>'


def _donut(score: float | None) -> str:
    radius, width = 34, 10
    circumference = 2 * math.pi * radius
    share = (score or 0) / 100
    label = "n/a" if score is None else f"{score:.0f}%"
    color = "#1a7f37" if (score or 0) >= 80 else "#bf8700" if (score or 0) >= 50 else "#cf222e"
    return (
        f'<svg width="90" height="90" viewBox="0 0 90 90" role="img" aria-label="score {label}">'
        f'<circle cx="45" cy="45" r="{radius}" fill="none" stroke="#eaeef2" stroke-width="{width}"/>'
        f'<circle cx="45" cy="45" r="{radius}" fill="none" stroke="{color}" stroke-width="{width}" '
        f'stroke-dasharray="{circumference * share:.1f} {circumference:.1f}" transform="rotate(-90 45 45)"/>'
        f'<text x="45" y="50" text-anchor="middle" font-size="16" font-weight="600" '
        f'fill="#1f2328">{label}</text>'
        "</svg>"
    )


def _bar(row: dict[str, Any]) -> str:
    total = max(row["pass"] + row["fail"], 1)
    width = 220
    good = width * row["pass"] / total
    return (
        f'<svg width="{width}" height="14" role="img" aria-label="{row["pass"]} pass, {row["fail"]} fail">'
        f'<rect width="{good:.1f}" height="14" fill="{_COLORS[PASS]}"/>'
        f'<rect x="{good:.1f}" width="{width - good:.1f}" height="14" fill="{_COLORS[FAIL]}"/></svg>'
    )


def _trend_svg(history: Trend) -> str:
    """Each framework's score per run, drawn by the shared chart module."""
    points = history.points
    lines = [Series(name, [_score_of(p, name) for p in points], f"fw-{name}") for name in _LINE]
    return line_chart(
        [str(p["generated"])[5:16].replace("T", " ") for p in points],
        lines,
        "score trend",
        point_labels=[str(p["generated"]) for p in points],
        top=100,
        unit="%",
        legend_step=180,
    )


def _score_of(point: dict[str, Any], framework: str) -> float | None:
    score = point["scores"].get(framework)
    return None if score is None else float(score)


SHOWN_FINDINGS = 8
"""Findings listed under a control before the rest fold into an expandable "and N more"."""
_ORDER = {FAIL: 0, PASS: 1, NOT_ASSESSED: 2}
_MARK = {PASS: "\u2713", FAIL: "\u2717"}
_ORDER_CSS = {PASS: "is-pass", FAIL: "is-fail", NOT_ASSESSED: "is-na"}


def _evidence_item(text: str, statuses: dict[str, str]) -> str:
    """One line of evidence with its own verdict: a passing item inside a failing control is
    marked as passing, not left to read as the cause."""
    status = statuses.get(text)
    if status is None:
        return f"<li>{escape(text)}</li>"
    css = {PASS: PASS, FAIL: FAIL}.get(status, "na")
    mark = _MARK.get(status, "\u2013")
    label = f'<span class="mark {css}" title="evidence {escape(status)}">{mark} {escape(status)}</span>'
    return f'<li class="evidence">{label} {escape(text)}</li>'


def _finding_item(finding: dict[str, Any]) -> str:
    return f"<li><code>{escape(str(finding['rule_id']))}</code> {escape(str(finding['location']))}</li>"


def _control_rows(controls: list[dict[str, Any]], statuses: dict[str, str]) -> str:
    rows = []
    for control in controls:
        listed = control["findings"]
        findings = "".join(_finding_item(f) for f in listed[:SHOWN_FINDINGS])
        if len(listed) > SHOWN_FINDINGS:
            rest = "".join(_finding_item(f) for f in listed[SHOWN_FINDINGS:])
            findings += (
                f'<li class="more"><details><summary>and {len(listed) - SHOWN_FINDINGS} more</summary>'
                f"<ul>{rest}</ul></details></li>"
            )
        evidence = "".join(_evidence_item(e, statuses) for e in control["evidence"])
        rows.append(
            f'<tr class="control {_ORDER_CSS[control["status"]]}"><td><b>{escape(control["id"])}</b></td>'
            f"<td>{escape(control['title'])}</td>"
            f"<td>{_badge(control['status'])}</td><td><ul>{findings}{evidence}</ul></td></tr>"
        )
    return "".join(rows)


def _family_key(item: tuple[str, list[dict[str, Any]]]) -> tuple[int, int, str]:
    family, controls = item
    failing = sum(1 for c in controls if c["status"] == FAIL)
    assessed = sum(1 for c in controls if c["status"] != NOT_ASSESSED)
    return (-failing, -assessed, family)


def _framework(name: str, body: dict[str, Any], statuses: dict[str, str]) -> str:
    controls = body["controls"]
    families = "".join(
        f"<tr><td><b>{escape(fam)}</b></td><td>{escape(row['title'])}</td><td>{_bar(row)}</td>"
        f"<td>{row['pass']} / {row['pass'] + row['fail']}</td></tr>"
        for fam, row in body["families"].items()
    )
    head = "<tr><th>Control</th><th>What it covers</th><th>Status</th><th>Findings and evidence</th></tr>"
    grouped: dict[str, list[dict[str, Any]]] = {}
    for control in controls:
        grouped.setdefault(control.get("family") or "other", []).append(control)
    failing = sum(1 for c in controls if c["status"] == FAIL)
    out = [f'<section id="{escape(name)}"><h2>{escape(body["title"])}</h2>']
    out.append(f'<h3>Families</h3><table class="bars">{families}</table>')
    out.append(
        f"<h3>Controls by family ({failing} failing of {len(controls)})</h3>"
        '<p class="muted">Families with failing controls come first; open one to see its controls, '
        "failing first.</p>"
    )
    for family, members in sorted(grouped.items(), key=_family_key):
        members = sorted(members, key=lambda c: (_ORDER.get(c["status"], 3), c["id"]))
        counts = {status: sum(1 for c in members if c["status"] == status) for status in _ORDER}
        title = body["families"].get(family, {}).get("title", family)
        badges = " ".join(
            f'<span class="badge {css}">{counts[status]} {escape(status)}</span>'
            for status, css in ((FAIL, FAIL), (PASS, PASS), (NOT_ASSESSED, "na"))
            if counts[status]
        )
        state = "has-fail" if counts[FAIL] else "no-fail"
        out.append(
            f'<details class="family {state}"><summary><b>{escape(family)}</b> {escape(title)} {badges}'
            "</summary>"
            f"<table>{head}{_control_rows(members, statuses)}</table></details>"
        )
    out.append("</section>")
    return "".join(out)


def render_html(posture: dict[str, Any], history: Trend | None) -> str:
    """The whole report page."""
    cards = []
    for name, body in posture["frameworks"].items():
        summary = body["summary"]
        cards.append(
            f'<a class="card" href="#{escape(name)}" style="color:inherit;text-decoration:none">'
            f"{_donut(summary['score'])}<div><h3>{escape(body['title'])}</h3>"
            f'<div><span class="badge pass">{summary["pass"]} pass</span> '
            f'<span class="badge fail">{summary["fail"]} fail</span></div>'
            f'<div class="muted">{summary["not_assessed"]} not assessed</div></div></a>'
        )
    evidence = "".join(
        f"<tr><td>{escape(e['title'])}</td><td>{_badge(e['status'])}</td><td>{escape(e['detail'])}</td></tr>"
        for e in posture["evidence"]
    )
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Bastion compliance report: {escape(posture['target'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>Bastion compliance report</h1>",
        f"<p>Target: <b>{escape(posture['target'])}</b></p><p>Generated {escape(posture['generated'])}"
        f" by bastion {escape(posture['tool']['version'])} · scanners that ran: "
        f"{escape(', '.join(posture['scanners']) or 'none')}</p></header><main>",
        f'<section><h2>Scores</h2><div class="cards">{"".join(cards)}</div>',
        '<p class="muted">Score = controls passing / controls assessed. A control fails when a finding '
        "maps to it or its process evidence is missing; it is not assessed when no scanner that "
        "covers it ran.</p></section>",
        f"<section><h2>Process evidence</h2><table>{evidence}</table></section>",
    ]
    if history is not None and len(history.points) > 1:
        changes = "".join(
            f'<li class="regress">Regressed in {escape(fw)}: {escape(", ".join(ids))}</li>'
            for fw, ids in history.regressed.items()
        ) + "".join(
            f'<li class="fixed">Fixed in {escape(fw)}: {escape(", ".join(ids))}</li>'
            for fw, ids in history.fixed.items()
        )
        parts.append(
            f"<section><h2>Trend</h2>{_trend_svg(history)}"
            f"<h3>Since {escape(str(history.previous))}</h3>"
            f"<ul>{changes or '<li>No control changed status.</li>'}"
            "</ul></section>"
        )
    statuses = {f"{e['title']}: {e['detail']}": str(e["status"]) for e in posture["evidence"]}
    parts.extend(_framework(name, body, statuses) for name, body in posture["frameworks"].items())
    parts.append(
        '<p class="muted">CIS Controls and ISO/IEC 27001 are referenced by identifier only; '
        "the short labels are Bastion's own words. NIST SP 800-53 titles are public "
        "domain.</p></main></body></html>\n"
    )
    return "".join(parts)
