"""The dashboard's charts: open findings by severity over time, drawn by :mod:`bastion.report.charts`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from bastion.report.charts import HEIGHT, WIDTH, Series, bar_chart, line_chart, nice_max

__all__ = [
    "NO_DATA",
    "PALETTE",
    "Series",
    "bar_chart",
    "hbar_chart",
    "series_chart",
    "stacked_bar_chart",
    "trend_chart",
]

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


# The metrics page's charts. The CSP forbids inline styles, not SVG presentation attributes, so a
# series without a rule in the stylesheet is coloured by its ``fill``/``stroke`` attribute (a CSS
# rule, where there is one, wins over it).
PALETTE = ("#1f4e8c", "#d9480f", "#2b8a3e", "#8250df", "#c99700", "#0a7ea4", "#9b1c1c", "#667085")
"""Colours of series that stand for no severity (projects), in order."""
SEVERITY_COLORS = {
    "sev-critical": "#9b1c1c",
    "sev-high": "#d9480f",
    "sev-medium": "#c99700",
    "sev-low": "#2f7fbf",
    "sev-info": "#7a8699",
}
"""The stylesheet's severity colours, repeated as attributes for marks it has no rule for."""
NO_DATA = '<p class="muted no-data">No data yet.</p>'
_CHAR = 6.2
"""Approximate width of one character of an 11 px label."""


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def series_chart(
    x_labels: Sequence[str],
    named: Sequence[tuple[str, Sequence[float | None]]],
    title: str,
    *,
    unit: str = "",
    top: float | None = None,
    name_chars: int = 16,
) -> str:
    """Lines of values that stand for no severity (one per project), each its palette colour.

    Legend names are shortened to ``name_chars`` characters so every entry fits the width."""
    if not x_labels or not named:
        return NO_DATA
    series = [
        Series(_short(name, name_chars), values, f"series-{i}") for i, (name, values) in enumerate(named)
    ]
    widest = max(len(s.name) for s in series) + 6
    step = max(60, min(int(WIDTH / len(series)), int(widest * _CHAR + 24)))
    svg = line_chart(x_labels, series, title, unit=unit, top=top, legend_step=step)
    for i in range(len(series)):
        color = PALETTE[i % len(PALETTE)]
        for mark, attribute in (("line", "stroke"), ("dot", "fill"), ("swatch", "fill")):
            svg = svg.replace(
                f'class="{mark} series-{i}"', f'class="{mark} series-{i}" {attribute}="{color}"'
            )
    return svg


def hbar_chart(bars: Sequence[tuple[str, float]], title: str, unit: str = "", label_chars: int = 34) -> str:
    """Horizontal bars, one row each, labels on the left (shortened; the full text in a tooltip)."""
    if not bars:
        return NO_DATA
    row, top = 22, 6
    height = top * 2 + row * len(bars)
    label_w = min(WIDTH * 0.45, max(len(_short(label, label_chars)) for label, _ in bars) * _CHAR + 12)
    value_room = 64
    plot_w = WIDTH - label_w - value_room
    ceiling = max((value for _, value in bars), default=0) or 1
    parts = [
        f'<svg class="chart hbar" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        width = plot_w * max(value, 0) / ceiling
        parts.append(
            f'<text class="axis" x="{label_w - 6:.1f}" y="{y + 15}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(_short(label, label_chars))}</text>"
        )
        parts.append(
            f'<rect class="bar" x="{label_w:.1f}" y="{y + 4}" width="{width:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"/>'
        )
        parts.append(
            f'<text class="value" x="{label_w + width + 4:.1f}" y="{y + 15}">'
            f"{_value(value)}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def stacked_bar_chart(labels: Sequence[str], stacks: Sequence[Series], title: str) -> str:
    """Vertical bars, one per label, each stacked from the series' values (severity classes)."""
    totals = [sum(s.values[i] or 0 for s in stacks) for i in range(len(labels))]
    if not labels or not any(totals):
        return NO_DATA
    left, bottom, head = 44, 28, 30
    plot_h = HEIGHT - bottom - head
    ceiling = nice_max(max(totals))
    slot = (WIDTH - left - 12) / len(labels)
    width = min(64.0, slot * 0.6)
    parts = [
        f'<svg class="chart stacked" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for step in range(5):
        y = HEIGHT - bottom - plot_h * step / 4
        parts.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{WIDTH - 12}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{ceiling * step / 4:g}</text>"
        )
    for i, label in enumerate(labels):
        x = left + slot * (i + 0.5) - width / 2
        base = float(HEIGHT - bottom)
        for stack in stacks:
            value = stack.values[i] or 0
            if not value:
                continue
            h = plot_h * value / ceiling
            base -= h
            color = SEVERITY_COLORS.get(stack.css, PALETTE[0])
            parts.append(
                f'<rect class="seg {stack.css}" x="{x:.1f}" y="{base:.1f}" width="{width:.1f}" '
                f'height="{h:.1f}" '
                f'fill="{color}"><title>{escape(label)}: {_value(value)} {escape(stack.name)}</title></rect>'
            )
        parts.append(
            f'<text class="value" x="{x + width / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle">'
            f"{_value(totals[i])}</text>"
        )
        parts.append(
            f'<text class="axis" x="{x + width / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    legend_x = float(left)
    for stack in stacks:
        color = SEVERITY_COLORS.get(stack.css, PALETTE[0])
        parts.append(
            f'<rect class="swatch {stack.css}" x="{legend_x:.1f}" y="4" width="10" height="10" '
            f'fill="{color}"/>'
        )
        parts.append(f'<text class="legend" x="{legend_x + 14:.1f}" y="13">{escape(stack.name)}</text>')
        legend_x += max(70.0, len(stack.name) * _CHAR + 30)
    parts.append("</svg>")
    return "".join(parts)
