"""The dashboard's severity trend, drawn by the shared chart module."""

from __future__ import annotations

from datetime import date, timedelta

from bastion.server.charts import SEVERITIES, bar_chart, trend_chart


def _days(count: int, known_from: int = 0) -> list[tuple[date, dict[str, int]]]:
    start = date(2026, 11, 7)
    return [
        (start + timedelta(days=i), {s: i + n for n, s in enumerate(SEVERITIES)} if i >= known_from else {})
        for i in range(count)
    ]


def test_thirty_one_days_end_with_a_whole_last_label() -> None:
    svg = trend_chart(_days(31), "Open findings")
    assert 'text-anchor="end">Dec 07</text>' in svg  # issue 27: it was cut to "Dec 0"
    assert svg.count("<polyline") == 4 and "<title>2026-12-07: 30 critical</title>" in svg
    assert "critical 30</text>" in svg


def test_leading_unknown_days_are_dropped_keeping_a_week() -> None:
    svg = trend_chart(_days(30, known_from=27), "t")
    assert svg.count('<circle class="dot sev-high"') == 7
    assert trend_chart([], "t") == '<p class="muted">No data yet.</p>'
    assert "<svg" in bar_chart([("Nov", 2.0)], "t", "d")
