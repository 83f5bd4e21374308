"""Inline SVG charts (no JavaScript, no inline styles: colours come from CSS classes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from html import escape

__all__ = ["bar_chart", "trend_chart"]

SEVERITIES = ("critical", "high", "medium", "low")
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


def _nice_max(value: float) -> float:
    """The smallest 4 x (1, 2, 2.5 or 5 x 10^k) at or above ``value``: four even grid steps."""
    if value <= 4:
        return 4.0
    step = value / 4
    magnitude = 10 ** math.floor(math.log10(step))
    for factor in (1, 2, 2.5, 5, 10):
        if step <= factor * magnitude:
            return float(4 * factor * magnitude)
    return float(4 * 10 * magnitude)  # pragma: no cover - the loop always returns


def _axes(top: float, labels: Sequence[tuple[float, str]], plot_h: float) -> list[str]:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = HEIGHT - BOTTOM - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    for x, label in labels:
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(label)}</text>'
        )
    return parts


def trend_chart(series: Sequence[tuple[date, dict[str, int]]], title: str) -> str:
    """Open findings per day, one line per severity, as an SVG element.

    Leading days before anything was known are dropped (keeping a week at least), so a
    new installation shows its few days, not a month of zeros.
    """
    first = next((i for i, (_, counts) in enumerate(series) if any(counts.values())), len(series))
    series = series[max(0, min(first - 1, len(series) - 7)) :]
    if not series:
        return '<p class="muted">No data yet.</p>'
    top = _nice_max(max((p[1].get(s, 0) for p in series for s in SEVERITIES), default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM - 18
    step = plot_w / max(len(series) - 1, 1)

    def x(index: int) -> float:
        return LEFT + index * step

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - plot_h * value / top

    every = max(1, -(-len(series) // 7))
    labels = [(x(i), d.strftime("%b %d")) for i, (d, _) in enumerate(series) if i % every == 0]
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        *_axes(top, labels, plot_h),
    ]
    for severity in reversed(SEVERITIES):
        values = [p[1].get(severity, 0) for p in series]
        line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline class="line sev-{severity}" points="{line}"/>')
        if len(series) <= 31:
            parts.extend(
                f'<circle class="dot sev-{severity}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5">'
                f"<title>{series[i][0].isoformat()}: {v} {severity}</title></circle>"
                for i, v in enumerate(values)
            )
    last = series[-1][1]
    legend_x = LEFT
    for severity in SEVERITIES:
        count = last.get(severity, 0)
        parts.append(
            f'<rect class="swatch sev-{severity}" x="{legend_x}" y="{TOP - 8}" width="10" height="10"/>'
        )
        parts.append(f'<text class="legend" x="{legend_x + 14}" y="{TOP + 1}">{severity} {count}</text>')
        legend_x += 100
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: Sequence[tuple[str, float]], title: str, unit: str = "") -> str:
    """Vertical bars with labels below and values above, as an SVG element."""
    if not bars:
        return '<p class="muted">No data yet.</p>'
    top = _nice_max(max(v for _, v in bars))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bars)
    width = min(48.0, slot * 0.6)
    labels = [(LEFT + slot * (i + 0.5), label) for i, (label, _) in enumerate(bars)]
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        *_axes(top, labels, plot_h),
    ]
    for i, (_, value) in enumerate(bars):
        height = plot_h * value / top
        x = LEFT + slot * (i + 0.5) - width / 2
        y = HEIGHT - BOTTOM - height
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}"/>')
        label = f"{value:.1f}{unit}"
        parts.append(
            f'<text class="value" x="{x + width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
