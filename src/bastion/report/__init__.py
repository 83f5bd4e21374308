"""Report formatters: one module per format, all rendering a :class:`~bastion.gate.GateResult`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO, assert_never

from bastion.atomic import atomic_open
from bastion.report.formats import ReportFormat

if TYPE_CHECKING:
    from bastion.gate import GateResult

__all__ = ["ReportFormat", "render", "write", "write_file"]


def render(result: GateResult, fmt: ReportFormat, *, color: bool = False, width: int | None = None) -> str:
    """Render ``result`` in ``fmt``; ``color`` and ``width`` only matter for the table.

    Each format's module is imported here, when asked for: a run pays only for the one it writes."""
    match fmt:
        case ReportFormat.TABLE:
            from bastion.report import table

            return table.render(result, color=color, width=width)
        case ReportFormat.JSON:
            from bastion.report import json_report

            return json_report.render(result)
        case ReportFormat.SARIF:
            from bastion.report import sarif

            return sarif.render(result)
        case ReportFormat.GITLAB:
            from bastion.report import gitlab

            return gitlab.render(result)
        case ReportFormat.JUNIT:
            from bastion.report import junit

            return junit.render(result)
        case ReportFormat.MARKDOWN:
            from bastion.report import markdown

            return markdown.render(result)
        case ReportFormat.HTML:
            from bastion.report import html

            return html.render(result)
        case _:
            assert_never(fmt)


def write(
    result: GateResult, fmt: ReportFormat, stream: TextIO, *, color: bool = False, width: int | None = None
) -> None:
    """Write ``result`` in ``fmt`` to ``stream``; the JSON report is written finding by finding,
    so its size in memory does not grow with the number of findings."""
    if fmt is ReportFormat.JSON:
        from bastion.report import json_report

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
