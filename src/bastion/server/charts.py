"""Inline SVG charts (no JavaScript, no inline styles: colours come from CSS classes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

__all__ = ["bar_chart", "trend_chart"]

SEVERITIES = ("critical", "high", "medium", "low")
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


def _nice_max(value: float) -> float:
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return value


def _axes(top: float, labels: Sequence[tuple[float, str]]) -> list[str]:
    parts = []
    plot_h = HEIGHT - TOP - BOTTOM
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
    """Open findings by severity per day, one line per severity, as an SVG element."""
    if not series:
        return '<p class="muted">No data yet.</p>'
    top = _nice_max(max((sum(p[1].get(s, 0) for s in SEVERITIES) for p in series), default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(series) - 1, 1)

    def xy(index: int, value: float) -> str:
        return f"{LEFT + index * step:.1f},{HEIGHT - BOTTOM - plot_h * value / top:.1f}"

    every = max(1, len(series) // 6)
    labels = [(LEFT + i * step, d.strftime("%b %d")) for i, (d, _) in enumerate(series) if i % every == 0]
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        *_axes(top, labels),
    ]
    # Stacked areas, worst severity on top of the stack.
    base = [0.0] * len(series)
    for severity in reversed(SEVERITIES):
        upper = [base[i] + series[i][1].get(severity, 0) for i in range(len(series))]
        points = [xy(i, upper[i]) for i in range(len(series))]
        points += [xy(i, base[i]) for i in reversed(range(len(series)))]
        parts.append(f'<polygon class="area sev-{severity}" points="{" ".join(points)}"/>')
        line = " ".join(xy(i, upper[i]) for i in range(len(series)))
        parts.append(f'<polyline class="line sev-{severity}" points="{line}"/>')
        base = upper
    last = series[-1][1]
    legend_x = LEFT + 8
    for severity in SEVERITIES:
        parts.append(
            f'<rect class="swatch sev-{severity}" x="{legend_x}" y="{TOP + 2}" width="10" height="10"/>'
        )
        count = last.get(severity, 0)
        parts.append(f'<text class="legend" x="{legend_x + 14}" y="{TOP + 11}">{severity} {count}</text>')
        legend_x += 96
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
        *_axes(top, labels),
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
