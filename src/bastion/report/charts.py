"""Inline SVG charts, drawn once for every page: the dashboard and the compliance report.

No JavaScript and no inline styles: every mark carries a CSS class (``grid``, ``axis``,
``legend``, ``line``, ``dot``, ``swatch``, ``bar``, ``value``, plus the series' own class such
as ``sev-high``) and the page that embeds the chart colours it, the dashboard from its
stylesheet, a self-contained report from its ``<style>`` block (:data:`CHART_CSS` is the
common part). Text is escaped; labels at either end are anchored so they are never cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["CHART_CSS", "HEIGHT", "WIDTH", "Series", "bar_chart", "line_chart", "nice_max"]

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28
LEGEND_STEP = 100
"""Horizontal room for one legend entry (swatch, name and last value)."""
DOTS_UP_TO = 31
"""Points get a dot with a tooltip when a series has at most this many."""
_CHAR_WIDTH = 6.2
"""Approximate width of one character of an 11 px axis label, to keep end labels inside."""

CHART_CSS = (
    "svg.chart{width:100%;height:auto;display:block}"
    "svg.chart .grid{stroke:#e9ecf0;stroke-width:1}"
    "svg.chart .axis,svg.chart .legend,svg.chart .value{font-size:11px;fill:#656d76}"
    "svg.chart .legend{fill:#1f2328}"
    "svg.chart .line{fill:none;stroke-width:2}"
    "svg.chart circle.dot{stroke:#fff;stroke-width:1}"
    "svg.chart rect.swatch{stroke:none}"
)
"""The colour-free chart rules, for a page without the dashboard's stylesheet."""


@dataclass(frozen=True)
class Series:
    """One line of a line chart."""

    name: str
    """Shown in the legend and in each point's tooltip."""
    values: Sequence[float | None]
    """One value per x position; None where the series has no point."""
    css: str
    """The class that colours the line, its dots and its legend swatch (``sev-high``)."""


def nice_max(value: float) -> float:
    """The smallest 4 x (1, 2, 2.5 or 5 x 10^k) at or above ``value``: four even grid steps."""
    if value <= 4:
        return 4.0
    step = value / 4
    magnitude = 10 ** math.floor(math.log10(step))
    for factor in (1, 2, 2.5, 5, 10):
        if step <= factor * magnitude:
            return float(4 * factor * magnitude)
    return float(4 * 10 * magnitude)  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    """A value as a reader wants it: integers exactly, other numbers to three digits."""
    return str(value) if isinstance(value, int) else f"{value:.3g}"


def _label(x: float, text: str) -> str:
    """An x-axis label under ``x``; one that would run past either edge is anchored inside."""
    half = len(text) * _CHAR_WIDTH / 2
    anchor = "middle"
    if x + half > WIDTH:
        anchor, x = "end", float(WIDTH - 1)
    elif x - half < 0:
        anchor, x = "start", 1.0
    return f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">{escape(text)}</text>'


def _axes(top: float, labels: Sequence[tuple[float, str]], plot_h: float, unit: str = "") -> list[str]:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = HEIGHT - BOTTOM - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{value:g}{escape(unit)}</text>"
        )
    parts.extend(_label(x, label) for x, label in labels)
    return parts


def _open(title: str) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    *,
    point_labels: Sequence[str] | None = None,
    top: float | None = None,
    unit: str = "",
    legend_step: int = LEGEND_STEP,
) -> str:
    """Lines over shared x positions (one per ``x_labels`` entry), as an SVG element.

    At most seven x labels are shown, evenly spaced; ``point_labels`` (default: the x labels)
    name each position in the dots' tooltips. The y axis runs from 0 to ``top`` (default: a
    round number above the largest value) in four steps, values suffixed with ``unit``. The
    legend gives each series' last value. The first series is drawn on top.
    """
    if not x_labels:
        return '<p class="muted">No data yet.</p>'
    names = point_labels if point_labels is not None else x_labels
    present = [v for s in series for v in s.values if v is not None]
    ceiling = top if top is not None else nice_max(max(present, default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM - 18
    step = plot_w / max(len(x_labels) - 1, 1)

    def x(index: int) -> float:
        return LEFT + index * step

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - plot_h * value / ceiling

    every = max(1, -(-len(x_labels) // 7))
    labels = [(x(i), text) for i, text in enumerate(x_labels) if i % every == 0]
    parts = [*_open(title), *_axes(ceiling, labels, plot_h, unit)]
    for line in reversed(series):
        points = [(i, v) for i, v in enumerate(line.values) if v is not None]
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in points)
        parts.append(f'<polyline class="line {line.css}" points="{coords}"/>')
        if len(x_labels) <= DOTS_UP_TO:
            parts.extend(
                f'<circle class="dot {line.css}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5">'
                f"<title>{escape(names[i])}: {_number(v)}{escape(unit)} {escape(line.name)}</title></circle>"
                for i, v in points
            )
    legend_x = LEFT
    for line in series:
        last = next((v for v in reversed(line.values) if v is not None), None)
        shown = "n/a" if last is None else f"{_number(last)}{unit}"
        parts.append(f'<rect class="swatch {line.css}" x="{legend_x}" y="{TOP - 8}" width="10" height="10"/>')
        parts.append(
            f'<text class="legend" x="{legend_x + 14}" y="{TOP + 1}">'
            f"{escape(line.name)} {escape(shown)}</text>"
        )
        legend_x += legend_step
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: Sequence[tuple[str, float]], title: str, unit: str = "") -> str:
    """Vertical bars with labels below and values above, as an SVG element."""
    if not bars:
        return '<p class="muted">No data yet.</p>'
    top = nice_max(max(v for _, v in bars))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bars)
    width = min(48.0, slot * 0.6)
    labels = [(LEFT + slot * (i + 0.5), label) for i, (label, _) in enumerate(bars)]
    parts = [*_open(title), *_axes(top, labels, plot_h)]
    for i, (_, value) in enumerate(bars):
        height = plot_h * value / top
        x = LEFT + slot * (i + 0.5) - width / 2
        y = HEIGHT - BOTTOM - height
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}"/>')
        label = f"{value:.1f}{escape(unit)}"
        parts.append(
            f'<text class="value" x="{x + width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
