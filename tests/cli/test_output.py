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
from bastion.scan.engine import Concurrency, EngineOptions, run_scan
from bastion.scan.registry import Registration


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


def test_progress_names_the_scanners_at_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "PROGRESS_DELAY_S", 0.01)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with output.ScanProgress(True, console=console) as progress:
        progress.unit_done.running(["secrets", "iac"])
        time.sleep(0.2)
        progress.unit_done(12, 40)
        assert progress._progress is not None
        progress._progress.refresh()
        shown = buffer.getvalue()
        progress.unit_done.running(["[bold]x"])
        progress._progress.refresh()
    assert "scanning: secrets, iac" in shown and "12/40" in shown
    assert "scanning: [bold]x" in buffer.getvalue()  # a name is text, never markup


def test_description_without_names() -> None:
    assert output.scanning_description([]) == "scanning"
    assert output.scanning_description(["deps"]) == "scanning: deps"


@pytest.mark.parametrize(("concurrency", "jobs"), [(Concurrency.THREAD, 2), (Concurrency.THREAD, 1)])
def test_engine_tells_the_progress_bar_which_scanners_run(
    tmp_path: Path, concurrency: Concurrency, jobs: int
) -> None:
    (tmp_path / "a.py").write_text("x = 'INSECURE-LOW'\n")
    seen: list[tuple[str, ...]] = []
    progress = output.ScanProgress(False)
    monitor = progress.scanners_running
    progress.scanners_running = lambda names: (seen.append(tuple(names)), monitor(names))  # type: ignore[method-assign]
    done: list[tuple[int, int]] = []
    units = progress.units_done
    progress.units_done = lambda d, t: (done.append((d, t)), units(d, t))  # type: ignore[method-assign]
    registrations = [
        Registration("marker", "marker_scanner:MarkerScanner"),
        Registration("other", "marker_scanner:MarkerScanner"),
    ]
    run_scan(
        tmp_path,
        registrations,
        EngineOptions(concurrency=concurrency, jobs=jobs),
        on_unit_done=progress.unit_done,
    )
    assert seen[0] in {("marker", "other"), ("marker",)}
    assert seen[-1] == ()
    assert {name for names in seen for name in names} == {"marker", "other"}
    assert sorted(done) == [(1, 2), (2, 2)]
    plain: list[tuple[int, int]] = []
    run_scan(
        tmp_path,
        registrations,
        EngineOptions(concurrency=concurrency, jobs=jobs),
        on_unit_done=lambda d, t: plain.append((d, t)),
    )
    assert sorted(plain) == [(1, 2), (2, 2)]  # a plain (done, total) callable still works
