"""Scan children forked ahead of their jobs, by a small process of their own (a zygote).

Every job's scan still runs in a fresh child of its own (memory-capped, one repository each, the
worker's warmed-up scanners inherited), as :func:`bastion.jobs.scan.scan_checkout` runs it. What
changes is who forks it and when: a *zygote*, forked from the worker once at its start (before the
worker opens its store or broker connections, so no child inherits them), keeps one child forked
ahead, waiting for its path. A job sends the path to the zygote, the waiting child scans, and the
zygote forks the next one while it does. The fork (about 8 ms in a worker process, more under
load) and the child's start leave the job's path, and the worker, never a fork's parent, pays no
copy-on-write faults for a child's sake while it writes the job's records.

Result: the child writes ``[kind, payload]`` (JSON) into a file the worker named, says so on a
pipe to the zygote, and exits; the zygote tells the worker (its exit status instead, when it died
without a result). The worker reads the file, or says how the child died (killed by a
signal: out of memory, or by hand). A zygote that dies is started again; the job in hand fails
with :class:`~bastion.jobs.scan.ScanCrashed` and is retried by the broker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import tempfile
from dataclasses import asdict
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import orjson

from bastion.jobs.scan import (
    ScanCrashed,
    ScanLimits,
    ScanOutcome,
    ScanTimeout,
    died,
    outcome_of,
    run_scan,
    warm_registry,
)

__all__ = ["ScanChildren"]

_CHILD_FAILED = 70
"""Exit status of a child whose result could not be written."""


def _read_all(descriptor: int) -> bytes:
    chunks = []
    while chunk := os.read(descriptor, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _encode(result: tuple[str, object]) -> bytes:
    kind, payload = result
    try:
        if isinstance(payload, ScanOutcome):
            return orjson.dumps([kind, asdict(payload)], option=orjson.OPT_NON_STR_KEYS)
        return orjson.dumps([kind, payload])
    except TypeError as exc:  # a finding that is not plain JSON: the job says so
        return orjson.dumps(["crash", f"result not storable as JSON: {exc}"])


def _decode(data: bytes) -> tuple[str, object]:
    kind, payload = orjson.loads(data)
    if kind == "ok":
        return kind, ScanOutcome(payload["findings"], payload["notes"])
    return kind, payload


def _waiting_child(request_fd: int, done_fd: int, limits: ScanLimits) -> None:
    """In a forked child: wait for ``[path, result file]``, scan, write the result, exit (never
    returns). End of file first (the zygote stopped it, or died): exit quietly."""
    code = _CHILD_FAILED
    try:
        data = _read_all(request_fd)
        os.close(request_fd)
        if not data:
            code = 0
        else:
            path, result_file = orjson.loads(data)
            result = run_scan(path, limits.scanners, limits.memory_bytes)
            partial = f"{result_file}.part"
            with open(partial, "wb") as handle:
                handle.write(_encode(result))
            os.replace(partial, result_file)
            os.write(done_fd, b"1")  # the worker goes on now, not once this process is gone
            code = 0
    finally:
        os._exit(code)


def _hand(send_fd: int, request: bytes) -> bool:
    """Write the request to a waiting child (and close the pipe); False when it died waiting."""
    try:
        os.write(send_fd, request)
        return True
    except OSError:
        return False
    finally:
        os.close(send_fd)


def _fork_child(limits: ScanLimits, control: Connection) -> tuple[int, int, int]:
    """A child waiting for its request: its pid, the pipe to send the request on and the pipe it
    says "done" on (end of file: it died without a result)."""
    request_fd, send_fd = os.pipe()
    done_read, done_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(send_fd)
        os.close(done_read)
        control.close()  # the zygote's end to the worker: a dead zygote must read as end of file
        _waiting_child(request_fd, done_fd, limits)
    os.close(request_fd)
    os.close(done_fd)
    return pid, send_fd, done_read


def _zygote(control: Connection, limits: ScanLimits) -> None:
    """The zygote's loop: for each request, hand it to the waiting child, report its pid, fork
    the next child, report ``done`` when the child wrote its result, or its exit status when it
    died without one. Ends when the worker goes."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C reaches the worker, which stops us
    waiting = _fork_child(limits, control)
    try:
        while True:
            try:
                request = control.recv_bytes()
            except (EOFError, OSError):
                return
            pid, send_fd, done = waiting
            if not _hand(send_fd, request):  # it died waiting (killed): a fresh one takes it
                os.close(done)
                os.waitpid(pid, 0)
                pid, send_fd, done = _fork_child(limits, control)
                _hand(send_fd, request)  # should this one die too, its exit status says so
            control.send(("pid", pid))
            waiting = _fork_child(limits, control)
            said = os.read(done, 1)
            os.close(done)
            if said:
                control.send(("done", 0))
            _, status = os.waitpid(pid, 0)
            if not said:
                control.send(("exit", os.waitstatus_to_exitcode(status)))
    finally:
        with contextlib.suppress(OSError):
            os.close(waiting[1])  # end of file: the waiting child exits
            os.close(waiting[2])
            os.waitpid(waiting[0], 0)


class ScanChildren:
    """:func:`~bastion.jobs.scan.scan_checkout` for a worker, with each job's child forked ahead
    by a zygote (see the module's documentation). One per worker thread; not thread-safe."""

    def __init__(self, limits: ScanLimits) -> None:
        self.limits = limits
        self._zygote: BaseProcess | None = None
        self._control: Connection | None = None
        self._directory = Path(tempfile.mkdtemp(prefix="bastion-scans-"))
        self._jobs = 0
        self._running: int | None = None

    def start(self) -> None:
        """Fork the zygote now (from this process as it is): call it before opening
        connections that the scan children must not inherit. :meth:`scan` starts it if needed."""
        warm_registry(self.limits.scanners)  # once per process, outside the memory cap
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(target=_zygote, args=(theirs, self.limits), daemon=True)
        process.start()
        theirs.close()
        self._zygote, self._control = process, ours

    def zygote_pid(self) -> int | None:
        """The zygote's process id, while it runs."""
        return self._zygote.pid if self._zygote is not None else None

    def running_pid(self) -> int | None:
        """The process id of the child scanning now, if any."""
        return self._running

    def _stop_zygote(self) -> None:
        if self._control is not None:
            self._control.close()  # end of file: the zygote stops its waiting child and exits
            self._control = None
        if self._zygote is not None:
            self._zygote.join(5)
            if self._zygote.is_alive():
                self._zygote.kill()
                self._zygote.join()
            self._zygote.close()
            self._zygote = None

    def _exit_code(self, path: Path) -> int:
        """Send ``path``, wait for the child's exit (killing it after the time limit)."""
        control = self._control
        if control is None:
            raise ScanCrashed(f"{path}: no scan zygote")
        self._jobs += 1
        result_file = self._directory / f"{self._jobs}.pickle"
        control.send_bytes(orjson.dumps([str(path), str(result_file)]))
        _, pid = control.recv()
        self._running = pid
        try:
            if not control.poll(self.limits.timeout_s):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                control.recv()
                raise ScanTimeout(f"{path}: scan timed out after {self.limits.timeout_s:g} s")
            _, code = control.recv()  # ("done", 0) or ("exit", status)
        finally:
            self._running = None
        return int(code)

    def scan(self, path: Path) -> ScanOutcome:
        """Scan ``path`` in a limited child; the errors of
        :func:`~bastion.jobs.scan.scan_checkout`."""
        if self._zygote is None or not self._zygote.is_alive():
            self._stop_zygote()
            self.start()
        try:
            code = self._exit_code(path)
        except (EOFError, OSError) as exc:  # the zygote died: a new one for the next job
            self._stop_zygote()
            raise ScanCrashed(f"{path}: the scan zygote was lost ({type(exc).__name__})") from None
        result_file = self._directory / f"{self._jobs}.pickle"
        if code != 0 or not result_file.exists():
            raise died(path, code, self.limits)
        kind, payload = _decode(result_file.read_bytes())
        result_file.unlink()
        return outcome_of(path, kind, payload, self.limits)

    def close(self) -> None:
        """Stop the zygote (and its waiting child); remove the result directory."""
        self._stop_zygote()
        shutil.rmtree(self._directory, ignore_errors=True)
