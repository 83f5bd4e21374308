"""Report formatters: one module per format, all rendering a :class:`~bastion.gate.GateResult`."""

from __future__ import annotations

from typing import assert_never

from bastion.gate import GateResult
from bastion.report import gitlab, json_report, junit, sarif, table
from bastion.report.formats import ReportFormat

__all__ = ["ReportFormat", "render"]


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
        case _:
            assert_never(fmt)
