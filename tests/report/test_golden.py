"""Golden files: every format's exact output for every case; ``pytest --update-golden`` rewrites them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion.gate import GateResult
from bastion.report import ReportFormat, gitlab, render

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "golden"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SUFFIX = {
    ReportFormat.TABLE: "txt",
    ReportFormat.JSON: "json",
    ReportFormat.SARIF: "sarif",
    ReportFormat.GITLAB: "json",
    ReportFormat.JUNIT: "xml",
    ReportFormat.MARKDOWN: "md",
    ReportFormat.HTML: "html",
}


def produce(result: GateResult, fmt: ReportFormat) -> str:
    """The output under test; GitLab's clock is pinned."""
    if fmt is ReportFormat.GITLAB:
        return gitlab.render(result, now=NOW)
    return render(result, fmt, color=False, width=100)


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=lambda f: f.value)
def test_output_matches_golden_file(
    fmt: ReportFormat, case: tuple[str, GateResult], update_golden: bool
) -> None:
    name, result = case
    path = GOLDEN / fmt.value / f"{name}.{SUFFIX[fmt]}"
    actual = produce(result, fmt)
    if update_golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        pytest.skip(f"rewrote {path.relative_to(GOLDEN)}")
    assert path.exists(), f"{path} missing; run pytest --update-golden"
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, (
        f"{fmt.value} output differs from {path}; review and run pytest --update-golden"
    )


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=lambda f: f.value)
def test_output_is_deterministic(fmt: ReportFormat, case: tuple[str, GateResult]) -> None:
    _, result = case
    assert produce(result, fmt) == produce(result, fmt)


def test_every_format_has_a_golden_suffix() -> None:
    assert set(SUFFIX) == set(ReportFormat)
