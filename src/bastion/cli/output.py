"""Terminal plumbing shared by the command groups: consoles, logging and the progress bar."""

from __future__ import annotations

import functools
import importlib
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, ParamSpec, TextIO

import typer

from bastion import atomic
from bastion.errors import BastionError, InputError
from bastion.report import ReportFormat, write, write_file

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from bastion.gate import GateResult

__all__ = [
    "EXIT_CLEAN",
    "EXIT_ERROR",
    "EXIT_FINDINGS",
    "ScanProgress",
    "command",
    "configure_logging",
    "error_console",
    "register_group",
    "scanning_description",
    "terminal_width",
    "use_color",
]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130

P = ParamSpec("P")

PROGRESS_DELAY_S = 1.0
"""Scans that finish sooner show no progress bar at all."""


def command(func: Callable[P, int]) -> Callable[P, None]:
    """Wrap a command that returns an exit code: the one place errors become exit codes.

    A :class:`BastionError` is printed as ``error: <message>`` on stderr and exits 2, and so is a
    third-party package a light install lacks; anything else is a bug and keeps its traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            code = func(*args, **kwargs)
        except BastionError as exc:
            error_console().print(f"error: {_without_secrets(str(exc))}")
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            error_console().print("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").split(".")[0]
            if not missing or missing == "bastion":
                raise
            error_console().print(_missing_package(missing))
            raise typer.Exit(EXIT_ERROR) from None
        raise typer.Exit(code)

    return wrapper


def register_group(app: typer.Typer, name: str, commands: Sequence[str] = ()) -> None:
    """Add the command group ``bastion.cli.NAME`` to ``app``; in a light install (scripts/
    install-hook.sh) that lacks a package the group imports, a stand-in command for each of
    ``commands`` (default: NAME) that says which package is missing and exits 2, so ``bastion scan
    --scanner secrets`` works with the rest absent."""
    try:
        module = importlib.import_module(f"bastion.cli.{name}")
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if not missing or missing == "bastion":
            raise
        for command_name in commands or (name,):
            _unavailable(app, command_name, missing)
        return
    module.register(app)


def _unavailable(app: typer.Typer, name: str, missing: str) -> None:
    def unavailable() -> None:
        error_console().print(_missing_package(missing, f"bastion {name}"))
        raise typer.Exit(EXIT_ERROR)

    settings = {"ignore_unknown_options": True, "allow_extra_args": True}
    app.command(name, help=f"Unavailable here: needs {missing}.", context_settings=settings)(unavailable)


def _missing_package(package: str, what: str = "this command") -> str:
    return (
        f"error: {what} needs the Python package {package!r}, which this light install lacks "
        "(pip install bastion installs everything)"
    )


def _without_secrets(message: str) -> str:
    """An error message may quote a URL or value the user gave (an ``--upload`` URL with a user
    and password in it, a DAST target with a token): redact credentials before it reaches the
    terminal or a CI log."""
    if "://" not in message and len(message) < 16:
        return message
    from bastion.scan.dast.redact import redact_text_urls  # the secrets rules load only on errors

    return redact_text_urls(message)


def error_console() -> Console:
    """A console on stderr that prints text as given (no markup, no highlighting).

    Rich is imported here, at the first message: a quiet run that prints nothing never loads it."""
    from rich.console import Console

    return Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


def configure_logging(verbose: bool) -> None:
    """Debug logs on stderr with ``--verbose``; warnings only otherwise."""
    level = logging.DEBUG if verbose else logging.WARNING
    handler = _FirstUseRichHandler(show_path=verbose)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)


class _FirstUseRichHandler(logging.Handler):
    """Rich's log handler, built at the first record: importing it loads rich.traceback and pygments,
    which a run that logs nothing (most scans) never needs."""

    def __init__(self, show_path: bool) -> None:
        super().__init__()
        self._show_path = show_path
        self._inner: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Hand ``record`` to the Rich handler, creating it on first use."""
        if self._inner is None:
            from rich.logging import RichHandler

            self._inner = RichHandler(console=error_console(), show_path=self._show_path, markup=False)
            self._inner.setFormatter(self.formatter)
        self._inner.emit(record)


class _UnitProgress:
    """The ``unit_done`` callback of a :class:`ScanProgress`: called with ``(done, total)``, and
    told by the engine which scanners are still at work (it is a ``scan.engine.UnitObserver``)."""

    def __init__(self, owner: ScanProgress) -> None:
        self._owner = owner

    def __call__(self, done: int, total: int) -> None:
        """Engine callback: ``done`` of ``total`` units of scanner work finished."""
        self._owner.units_done(done, total)

    def running(self, scanners: Sequence[str]) -> None:
        """Engine callback: the scanners whose units are not finished."""
        self._owner.scanners_running(scanners)


class ScanProgress:
    """A progress bar on a TTY that appears only once a scan has run for a second.

    Used as a context manager; ``walked`` and ``unit_done`` are the engine's callbacks
    and may be called from worker threads. The scanning line names the scanners at work
    (``scanning: secrets, iac``).
    """

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self._console = console
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._walk_task: TaskID | None = None
        self._scan_task: TaskID | None = None
        self._files = 0
        self._units = (0, 0)
        self._scanners: tuple[str, ...] = ()
        self.unit_done = _UnitProgress(self)
        """Engine callback: ``unit_done(done, total)``; also hears the scanners at work."""
        self._timer: threading.Timer | None = None
        self._started = time.monotonic()

    def __enter__(self) -> ScanProgress:
        if self.enabled:
            self._timer = threading.Timer(PROGRESS_DELAY_S, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (  # only once a scan has run for a second on a terminal
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        with self._lock:
            progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console or Console(stderr=True),
                transient=True,
            )
            self._walk_task = progress.add_task("walking files", total=None, completed=self._files)
            done, total = self._units
            self._scan_task = progress.add_task(
                scanning_description(self._scanners), total=total or None, completed=done
            )
            progress.start()
            self._progress = progress

    def walked(self, files: int) -> None:
        """Engine callback: ``files`` files kept so far."""
        self._files = files
        if self._progress is not None and self._walk_task is not None and files % 200 == 0:
            self._progress.update(self._walk_task, completed=files)

    def units_done(self, done: int, total: int) -> None:
        """``done`` of ``total`` units of scanner work finished."""
        self._units = (done, total)
        with self._lock:
            if self._progress is not None and self._scan_task is not None:
                self._progress.update(self._scan_task, completed=done, total=total)

    def scanners_running(self, scanners: Sequence[str]) -> None:
        """The scanners whose units are not finished; the scanning line names them."""
        self._scanners = tuple(scanners)
        with self._lock:
            if self._progress is not None and self._scan_task is not None:
                self._progress.update(self._scan_task, description=scanning_description(self._scanners))


def scanning_description(scanners: Sequence[str]) -> str:
    """The scanning line's label: ``scanning: secrets, iac``, or ``scanning`` when none is named.
    Escaped for Rich markup: a plug-in's name is text, never markup."""
    from rich.markup import escape

    return f"scanning: {escape(', '.join(scanners))}" if scanners else "scanning"


DEFAULT_WIDTH = 120
"""The table's width when nothing says otherwise (output to a pipe or a file, no ``COLUMNS``)."""


def use_color(stream: TextIO, no_color: bool = False) -> bool:
    """Colour only on a terminal, never with ``--no-color``, ``NO_COLOR`` set (https://no-color.org)
    or ``TERM=dumb``."""
    if no_color or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def terminal_width(stream: TextIO) -> int:
    """``COLUMNS`` when set to a number, else the terminal's width when ``stream`` is one, else
    :data:`DEFAULT_WIDTH`."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), 20)
    if stream.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def write_report(result: GateResult, fmt: ReportFormat, output: Path | None, no_color: bool = False) -> None:
    """The report on stdout (a table in colour on a terminal, as wide as the terminal) or in
    ``output``, whole or not at all; :class:`InputError` naming the file when it cannot be written."""
    if output is None:
        table = fmt is ReportFormat.TABLE
        color = table and use_color(sys.stdout, no_color)
        write(result, fmt, sys.stdout, color=color, width=terminal_width(sys.stdout) if table else None)
        return
    try:
        write_file(result, fmt, output)
    except OSError as exc:
        raise InputError(f"{output}: cannot write report: {exc.strerror or exc}") from None


def write_text(text: str, output: Path | None, what: str) -> None:
    """``text`` on stdout, or in ``output``; :class:`InputError` saying which ``what`` (report,
    SBOM, rules file) could not be written."""
    if output is None:
        sys.stdout.write(text)
        return
    atomic.write_text(output, text, what=what)
