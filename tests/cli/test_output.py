"""Progress bar and logging plumbing."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import pytest
from rich.console import Console

from bastion.cli import output
from bastion.cli.main import main


def test_progress_appears_only_after_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "PROGRESS_DELAY_S", 0.05)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=80)
    with output.ScanProgress(True, console=console) as progress:
        progress.walked(200)
        time.sleep(0.3)
        progress.walked(400)
        progress.unit_done(1, 2)
        progress.unit_done(2, 2)
    assert "scanning" in buffer.getvalue()
    quick = io.StringIO()
    with output.ScanProgress(True, console=Console(file=quick, force_terminal=True)) as progress:
        progress.unit_done(1, 1)
    assert quick.getvalue() == ""


def test_disabled_progress_prints_nothing() -> None:
    buffer = io.StringIO()
    with output.ScanProgress(False, console=Console(file=buffer)) as progress:
        progress.walked(1)
        progress.unit_done(1, 1)
    assert buffer.getvalue() == ""


def test_verbose_turns_on_debug_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # Rich wraps log lines at the console width: one line each
    (tmp_path / "a.py").write_text("x = 1\n")
    assert main(["scan", str(tmp_path), "-s", "marker", "-v"]) == 0
    err = capsys.readouterr().err
    assert "walked" in err and "1 files" in err
    assert main(["scan", str(tmp_path), "-s", "marker", "-q"]) == 0
    assert capsys.readouterr().err == ""
    logging.getLogger().handlers.clear()
