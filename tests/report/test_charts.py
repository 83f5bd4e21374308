"""The one SVG chart module: line and bar charts every page embeds, colour left to CSS."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bastion.report.charts import WIDTH, Series, bar_chart, line_chart, nice_max

_CHAR = 6.2  # the module's estimate of an 11 px label character


def _labels(svg: str) -> list[tuple[float, str, str]]:
    """(x, anchor, text) of each x-axis label."""
    pattern = r'<text class="axis" x="([\d.]+)" y="212" text-anchor="(\w+)">([^<]*)<'
    return [(float(x), anchor, text) for x, anchor, text in re.findall(pattern, svg)]


def test_no_label_runs_past_either_edge() -> None:
    for count in range(1, 40):
        names = [f"Dec {day:02d}" for day in range(1, count + 1)]
        svg = line_chart(names, [Series("high", list(range(count)), "sev-high")], "t")
        for x, anchor, text in _labels(svg):
            width = len(text) * _CHAR
            left = {"middle": x - width / 2, "end": x - width, "start": x}[anchor]
            assert left >= 0 and left + width <= WIDTH, (count, text, anchor)
    thirty_one = line_chart([f"Dec {d:02d}" for d in range(1, 32)], [Series("low", [1] * 31, "sev-low")], "t")
    assert _labels(thirty_one)[-1] == (WIDTH - 1, "end", "Dec 31")  # was cut to "Dec 3"


def test_lines_skip_missing_points_and_show_the_last_value() -> None:
    svg = line_chart(
        ["a", "b", "c"],
        [Series("cis <v8>", [50.0, None, 75.5], "fw-cis"), Series("iso", [None, None, None], "fw-iso")],
        "score & trend",
        top=100,
        unit="%",
        point_labels=["2026-01-01", "2026-01-02", "2026-01-03"],
    )
    ET.fromstring(svg)  # well-formed, text escaped
    assert svg.count('<circle class="dot fw-cis"') == 2 and 'class="dot fw-iso"' not in svg
    assert "<title>2026-01-03: 75.5% cis &lt;v8&gt;</title>" in svg
    assert "cis &lt;v8&gt; 75.5%</text>" in svg and "iso n/a</text>" in svg
    assert ">100%</text>" in svg and 'aria-label="score &amp; trend"' in svg


def test_counts_stay_exact_and_long_series_have_no_dots() -> None:
    svg = line_chart([str(i) for i in range(40)], [Series("open", [1_234_567] * 40, "sev-high")], "t")
    assert "open 1234567</text>" in svg and "<circle" not in svg
    assert len(_labels(svg)) <= 7


def test_empty_charts_say_so() -> None:
    assert line_chart([], [], "t") == '<p class="muted">No data yet.</p>'
    assert bar_chart([], "t") == '<p class="muted">No data yet.</p>'


def test_bars_and_round_maxima() -> None:
    svg = bar_chart([("2026-01", 3.5), ("2026-02", 12.0)], "Median days", "d")
    ET.fromstring(svg)
    assert svg.count('<rect class="bar"') == 2 and ">12.0d</text>" in svg
    assert [nice_max(v) for v in (0, 4, 5, 9, 11, 41, 99, 101)] == [4, 4, 8, 10, 20, 80, 100, 200]
