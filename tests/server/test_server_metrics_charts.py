"""The metrics page's SVG charts: every label inside the picture, colours without inline styles."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from bastion.report.charts import WIDTH
from bastion.server.charts import NO_DATA, PALETTE, Series, hbar_chart, series_chart, stacked_bar_chart
from bastion.server.metrics import chart
from bastion.store.metrics import METRICS, Metric

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_hbar_shortens_long_labels_and_keeps_them_in_a_tooltip() -> None:
    long = "deps.GHSA-aaaa-bbbb-cccc-with-a-very-long-advisory-name-indeed"
    svg = hbar_chart([(long, 12.5), ("short", 3)], "Rules", " d")
    root = _parse(svg)
    labels = [t for t in root.iter(f"{SVG}text") if t.get("class") == "axis"]
    tooltip = labels[0].find(f"{SVG}title")
    assert tooltip is not None and tooltip.text == long
    shown = "".join(labels[0].itertext()).replace(long, "")
    assert shown.endswith("\u2026") and len(shown) == 34
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["12.5 d", "3 d"]
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert float(bars[0].get("width", "0")) > float(bars[1].get("width", "0")) > 0
    assert all(float(b.get("x", "0")) + float(b.get("width", "0")) + 64 <= WIDTH + 0.1 for b in bars)
    assert "style=" not in svg


def test_series_chart_colours_each_project_and_fits_its_legend() -> None:
    named = [
        (f"project-with-a-long-name-{i}", [float(i), None, float(i + 1)]) for i in range(len(PALETTE) + 1)
    ]
    svg = series_chart(["a", "b", "c"], named, "Burn-down")
    for i in range(len(named)):
        color = PALETTE[i % len(PALETTE)]
        assert f'class="line series-{i}" stroke="{color}"' in svg
        assert f'class="swatch series-{i}" fill="{color}"' in svg
    legend = re.findall(r'<text class="legend"[^>]*>([^<]*)</text>', svg)
    assert all(len(text.split()[0]) <= 16 for text in legend)
    assert series_chart([], named, "x") == NO_DATA and series_chart(["a"], [], "x") == NO_DATA


def test_stacked_bars_sum_their_segments() -> None:
    stacks = [Series("critical", [1, 0], "sev-critical"), Series("info", [2, 0], "sev-info")]
    svg = stacked_bar_chart(["0-7", "8-30"], stacks, "Age")
    root = _parse(svg)
    segments = [r for r in root.iter(f"{SVG}rect") if "seg" in (r.get("class") or "")]
    assert [s.get("fill") for s in segments] == [
        "#9b1c1c",
        "#7a8699",
    ]  # info coloured though the CSS has no rule
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["3", "0"]
    assert stacked_bar_chart(["0-7"], [Series("x", [0], "sev-low")], "Age") == NO_DATA


@pytest.mark.parametrize("name", METRICS)
def test_an_empty_metric_draws_no_chart(name: str) -> None:
    assert "No data yet." in chart(Metric(name, name, ("a",), []))
