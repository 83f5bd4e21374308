"""The dashboard's charts: open findings by severity over time, drawn by :mod:`bastion.report.charts`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bastion.report.charts import Series, bar_chart, line_chart

__all__ = ["bar_chart", "trend_chart"]

SEVERITIES = ("critical", "high", "medium", "low")


def trend_chart(series: Sequence[tuple[date, dict[str, int]]], title: str) -> str:
    """Open findings per day, one line per severity, as an SVG element.

    Leading days before anything was known are dropped (keeping a week at least), so a
    new installation shows its few days, not a month of zeros.
    """
    first = next((i for i, (_, counts) in enumerate(series) if any(counts.values())), len(series))
    series = series[max(0, min(first - 1, len(series) - 7)) :]
    lines = [
        Series(severity, [counts.get(severity, 0) for _, counts in series], f"sev-{severity}")
        for severity in SEVERITIES
    ]
    return line_chart(
        [day.strftime("%b %d") for day, _ in series],
        lines,
        title,
        point_labels=[day.isoformat() for day, _ in series],
    )
