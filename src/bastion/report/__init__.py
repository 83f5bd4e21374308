"""Report formatters: one module per format, all rendering a :class:`~bastion.gate.GateResult`."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO, assert_never

from bastion.atomic import atomic_open
from bastion.gate import GateResult
from bastion.report import gitlab, html, json_report, junit, markdown, sarif, table
from bastion.report.formats import ReportFormat

__all__ = ["ReportFormat", "render", "write", "write_file"]


def render(result: GateResult, fmt: ReportFormat, *, color: bool = False, width: int | None = None) -> str:
    """Render ``result`` in ``fmt``; ``color`` and ``width`` only matter for the table."""
    match fmt:
        case ReportFormat.TABLE:
            return table.render(result, color=color, width=width)
        case ReportFormat.JSON:
            return json_report.render(result)
        case ReportFormat.SARIF:
            return sarif.render(result)
        case ReportFormat.GITLAB:
            return gitlab.render(result)
        case ReportFormat.JUNIT:
            return junit.render(result)
        case ReportFormat.MARKDOWN:
            return markdown.render(result)
        case ReportFormat.HTML:
            return html.render(result)
        case _:
            assert_never(fmt)


def write(
    result: GateResult, fmt: ReportFormat, stream: TextIO, *, color: bool = False, width: int | None = None
) -> None:
    """Write ``result`` in ``fmt`` to ``stream``; the JSON report is written finding by finding,
    so its size in memory does not grow with the number of findings."""
    if fmt is ReportFormat.JSON:
        for chunk in json_report.chunks(result):
            stream.write(chunk)
    else:
        stream.write(render(result, fmt, color=color, width=width))


def write_file(result: GateResult, fmt: ReportFormat, path: Path) -> None:
    """Write the report to ``path`` whole or not at all, through the one atomic writer
    (:func:`bastion.atomic.atomic_open`): a failure half-way never leaves a truncated report; a
    device or pipe (``-o /dev/stdout``) is written directly. Raises :class:`OSError`."""
    with atomic_open(path) as stream:
        write(result, fmt, stream)
