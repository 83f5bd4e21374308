"""``watch detect --plot``: the anomaly score of each time window, with the alerts marked.

``.svg`` and ``.html`` are written here with no plotting library (an inline SVG, the HTML adding
a title and a table of the alerts); ``.png`` needs matplotlib (``pip install matplotlib``) and
says so when it is missing. The y axis is the window score on a log scale (1 is the border above
which a window alerts); each alerting window is a red mark labelled with its kind, session-model
alerts are orange ticks along the top at their time.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bastion.atomic import atomic_open
from bastion.detect.logs.rates import WindowScore
from bastion.errors import UsageError
from bastion.findings import Alert

__all__ = ["check_plot_path", "write_plot"]

_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 960, 360, 60, 20, 30, 50


def check_plot_path(path: Path) -> None:
    """UsageError unless ``path`` ends in .svg, .html or .png (with matplotlib importable)."""
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".html", ".htm", ".png"):
        raise UsageError(f"--plot {path}: use a .png, .svg or .html file name")
    if suffix == ".png" and importlib.util.find_spec("matplotlib") is None:
        raise UsageError(
            f"--plot {path}: PNG needs matplotlib (pip install matplotlib); .svg and .html need nothing"
        )


def write_plot(path: Path, windows: Sequence[WindowScore], alerts: Sequence[Alert], title: str) -> None:
    """Write the score-over-time plot of ``windows`` with ``alerts`` marked (format by suffix)."""
    if path.suffix.lower() == ".png":
        _png(path, windows, alerts, title)
        return
    svg = _svg(windows, alerts, title)
    if path.suffix.lower() == ".svg":
        with atomic_open(path) as stream:
            stream.write(svg)
        return
    rows = "".join(
        f"<tr><td>{html.escape(a.window_start.isoformat())}</td><td>{html.escape(a.severity.value)}</td>"
        f"<td>{a.score:.3g}</td><td>{html.escape(a.entity_kind)} {html.escape(a.entity)}</td>"
        f"<td>{html.escape(a.explanation[:300])}</td></tr>"
        for a in sorted(alerts, key=lambda a: a.window_start)[:500]
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:16px}}"
        "td{border-top:1px solid #ddd;padding:2px 6px;font-size:12px;vertical-align:top}</style></head>"
        f"<body><h3>{html.escape(title)}</h3>{svg}<table><tr><th>window</th><th>severity</th>"
        f"<th>score</th><th>entity</th><th>why</th></tr>{rows}</table></body></html>"
    )
    with atomic_open(path) as stream:
        stream.write(page)


def _log(score: float) -> float:
    return math.log10(max(score, 0.1))


def _svg(windows: Sequence[WindowScore], alerts: Sequence[Alert], title: str) -> str:
    times = [w.start for w in windows] + [a.window_start.timestamp() for a in alerts]
    t0, t1 = (min(times), max(times)) if times else (0.0, 1.0)
    t1 = t1 if t1 > t0 else t0 + 1
    top = max([_log(w.score) for w in windows] + [0.5])
    low = -1.0

    def x(t: float) -> float:
        return _LEFT + (t - t0) / (t1 - t0) * (_W - _LEFT - _RIGHT)

    def y(score: float) -> float:
        return _TOP + (top - _log(score)) / (top - low) * (_H - _TOP - _BOTTOM)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{_W}' height='{_H}' font-family='sans-serif' "
        f"font-size='11'><rect width='{_W}' height='{_H}' fill='white'/>",
        f"<text x='{_LEFT}' y='18' font-size='13'>{html.escape(title)}</text>",
        f"<line x1='{_LEFT}' y1='{_H - _BOTTOM}' x2='{_W - _RIGHT}' y2='{_H - _BOTTOM}' stroke='black'/>",
        f"<line x1='{_LEFT}' y1='{_TOP}' x2='{_LEFT}' y2='{_H - _BOTTOM}' stroke='black'/>",
        f"<line x1='{_LEFT}' y1='{y(1):.1f}' x2='{_W - _RIGHT}' y2='{y(1):.1f}' stroke='#888' "
        "stroke-dasharray='4 3'/>",
        f"<text x='{_W - _RIGHT - 70}' y='{y(1) - 4:.1f}' fill='#666'>alert border</text>",
    ]
    parts.extend(
        f"<text x='4' y='{y(10**tick) + 4:.1f}'>{10**tick:g}</text>"
        for tick in range(int(low), math.ceil(top) + 1)
    )
    for i in range(5):
        t = t0 + (t1 - t0) * i / 4
        label = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")
        parts.append(f"<text x='{x(t) - 50:.1f}' y='{_H - _BOTTOM + 16}'>{label}</text>")
    parts.append(f"<text x='{_W / 2 - 80:.0f}' y='{_H - 8}'>window start (UTC)</text>")
    if windows:
        points = " ".join(f"{x(w.start):.1f},{y(w.score):.1f}" for w in windows)
        parts.append(f"<polyline points='{points}' fill='none' stroke='#1f77b4' stroke-width='1.2'/>")
    parts.extend(
        f"<circle cx='{x(w.start):.1f}' cy='{y(w.score):.1f}' r='4' fill='#d62728'>"
        f"<title>{html.escape(', '.join(w.kinds))}: {html.escape('; '.join(w.reasons)[:200])}</title>"
        f"</circle><text x='{x(w.start) + 5:.1f}' y='{y(w.score) - 5:.1f}' fill='#d62728'>"
        f"{html.escape(w.kinds[0])}</text>"
        for w in windows
        if w.kinds
    )
    parts.extend(
        f"<line x1='{x(a.window_start.timestamp()):.1f}' y1='{_TOP}' "
        f"x2='{x(a.window_start.timestamp()):.1f}' y2='{_TOP + 10}' stroke='#ff7f0e' stroke-width='2'>"
        f"<title>{html.escape(a.entity)}</title></line>"
        for a in alerts
        if a.entity_kind != "window"
    )
    parts.append("</svg>")
    return "".join(parts)


def _png(path: Path, windows: Sequence[WindowScore], alerts: Sequence[Alert], title: str) -> None:
    importlib.import_module("matplotlib").use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")

    fig, ax = plt.subplots(figsize=(12, 4.5))
    times = [datetime.fromtimestamp(w.start, UTC) for w in windows]
    ax.plot(times, [max(w.score, 0.1) for w in windows], color="#1f77b4", linewidth=1.0, label="window score")
    marked = [w for w in windows if w.kinds]
    ax.scatter(
        [datetime.fromtimestamp(w.start, UTC) for w in marked],
        [w.score for w in marked],
        color="#d62728",
        zorder=3,
        label="window alert",
    )
    for w in sorted(marked, key=lambda w: -w.score)[:15]:  # the highest only: more labels overlap
        ax.annotate(w.kinds[0], (datetime.fromtimestamp(w.start, UTC), w.score), fontsize=7, color="#d62728")
    sessions = [a.window_start for a in alerts if a.entity_kind != "window"]
    if sessions:
        ax.vlines(sessions, 0.1, 0.13, color="#ff7f0e", label="session alert")
    ax.axhline(1.0, color="#888", linestyle="--", linewidth=0.8, label="alert border")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel("window start (UTC)")
    ax.set_ylabel("score")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
