"""Writing reports to streams and files: whole or not at all."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bastion.gate import GateResult
from bastion.report import ReportFormat, render, write, write_file


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_write_matches_render(full: GateResult, fmt: ReportFormat) -> None:
    stream = io.StringIO()
    write(full, fmt, stream)
    assert stream.getvalue() == render(full, fmt)


def test_write_file_replaces_the_old_report(full: GateResult, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("old", encoding="utf-8")
    write_file(full, ReportFormat.JSON, out)
    assert json.loads(out.read_text(encoding="utf-8"))["findings"]
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_failed_write_keeps_the_previous_report(
    full: GateResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report.json"
    out.write_text("previous", encoding="utf-8")

    def broken(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bastion.report.write", broken)
    with pytest.raises(OSError, match="No space"):
        write_file(full, ReportFormat.JSON, out)
    assert out.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_write_file_to_a_device_writes_directly(full: GateResult) -> None:
    write_file(full, ReportFormat.JUNIT, Path("/dev/null"))
