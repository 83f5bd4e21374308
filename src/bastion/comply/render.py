"""The posture as a terminal table, JSON or a self-contained HTML page (``bastion comply report
--format table|json|html``): :class:`PostureFormat` names them and :func:`render` dispatches."""

from __future__ import annotations

import io
import json
from enum import StrEnum
from typing import Any, TextIO, assert_never

from rich.console import Console
from rich.table import Table

from bastion.comply.history import Trend
from bastion.comply.html import render_html
from bastion.comply.posture import FAIL, NOT_ASSESSED, PASS
from bastion.errors import UsageError

__all__ = ["PostureFormat", "render", "render_json", "render_table"]

_STYLE = {PASS: "green", FAIL: "red", NOT_ASSESSED: "dim"}


class PostureFormat(StrEnum):
    """How ``bastion comply report`` writes the posture."""

    TABLE = "table"
    JSON = "json"
    HTML = "html"

    @classmethod
    def parse(cls, text: str) -> PostureFormat:
        """The format called ``text``; :class:`UsageError` naming the choices otherwise."""
        try:
            return cls(text)
        except ValueError:
            raise UsageError(f"unknown format {text!r} (choose from {', '.join(cls)})") from None


def render(posture: dict[str, Any], history: Trend | None, fmt: PostureFormat, *, color: bool = False) -> str:
    """The posture (and its trend, when a history was kept) in ``fmt``; ``color`` is for the table."""
    match fmt:
        case PostureFormat.TABLE:
            buffer = io.StringIO()
            render_table(posture, history, buffer, color=color)
            return buffer.getvalue()
        case PostureFormat.JSON:
            return render_json(posture, history)
        case PostureFormat.HTML:
            return render_html(posture, history)
        case _:
            assert_never(fmt)


def render_json(posture: dict[str, Any], history: Trend | None) -> str:
    """The posture document, with the trend when a history was kept."""
    document = dict(posture)
    if history is not None:
        document["trend"] = history.to_dict()
    return json.dumps(document, indent=2) + "\n"


def _score(summary: dict[str, Any]) -> str:
    score = summary.get("score")
    return "n/a" if score is None else f"{score:.1f}%"


def render_table(posture: dict[str, Any], history: Trend | None, out: TextIO, color: bool = False) -> None:
    """Scores per framework and family, failing controls with their findings, and regressions."""
    console = Console(file=out, force_terminal=color, no_color=not color, width=120, highlight=False)
    console.print(f"Compliance posture of {posture['target']} at {posture['generated']}")
    console.print("Scanners that ran: " + (", ".join(posture["scanners"]) or "none"))
    for item in posture["evidence"]:
        console.print(
            f"  [{_STYLE[item['status']]}]{item['status']:>12}[/] {item['title']} ({item['detail']})"
        )
    for body in posture["frameworks"].values():
        summary = body["summary"]
        console.print()
        console.print(
            f"[bold]{body['title']}[/]  score {_score(summary)}  "
            f"({summary['pass']} pass, {summary['fail']} fail, {summary['not_assessed']} not assessed)"
        )
        families = Table("Family", "Title", "Pass", "Fail", "Score", title=None, show_lines=False)
        for family, row in body["families"].items():
            families.add_row(family, row["title"], str(row["pass"]), str(row["fail"]), _score(row))
        console.print(families)
        failing = [c for c in body["controls"] if c["status"] == "fail"]
        if failing:
            table = Table("Control", "Title", "Why it fails", show_lines=False)
            for control in failing:
                reasons = [f"{f['rule_id']} {f['location']}" for f in control["findings"][:3]]
                if len(control["findings"]) > 3:
                    reasons.append(f"... and {len(control['findings']) - 3} more findings")
                if not reasons:
                    reasons = [e for e in control["evidence"] if e][:2]
                table.add_row(f"[red]{control['id']}[/]", control["title"], "\n".join(reasons))
            console.print(table)
    if history is not None and history.previous:
        console.print()
        console.print(f"Since the previous run ({history.previous}):")
        for framework, ids in history.regressed.items():
            console.print(f"  [red]regressed[/] {framework}: {', '.join(ids)}")
        for framework, ids in history.fixed.items():
            console.print(f"  [green]fixed[/] {framework}: {', '.join(ids)}")
        if not history.regressed and not history.fixed:
            console.print("  no control changed status")
