"""Scan children forked ahead of their jobs, by a small process of their own (a zygote).

Every job's scan still runs in a fresh child of its own (memory-capped, one repository each, the
worker's warmed-up scanners inherited), as :func:`bastion.jobs.scan.scan_checkout` runs it. What
changes is who forks it and when: a *zygote*, forked from the worker once at its start (before the
worker opens its store or broker connections, so no child inherits them), forks each child ahead
of its job and hands the worker the child's two pipe ends (file descriptors passed over a Unix
socket): one to send the job on, one the child says "done" on. The worker then talks to the child
directly, and asks the zygote for the next child while this one scans. The fork (about 8 ms in a
worker process, more under load), the child's start and its exit leave the job's path, and the
worker, never a fork's parent, pays no copy-on-write faults for a child's sake.

Result: the child writes ``[kind, payload]`` (JSON) into a file the worker named, says "done" and
exits. A child that ends without saying so (killed: out of memory, or by hand) is reported with
its exit status, which the worker asks of the zygote (its parent). A zygote that dies is started
again when the next child is needed; the child scanning meanwhile is not affected.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import shutil
import signal
import socket
import tempfile
from dataclasses import asdict, dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path

import orjson

from bastion.atomic import write_bytes
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
_UNKNOWN = 71
"""Exit status reported for a child the zygote no longer knows."""
_KEEP_STATUSES = 256


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
            write_bytes(Path(result_file), _encode(result), what="scan result", private=True)
            os.write(done_fd, b"1")  # the worker goes on now, not once this process is gone
            code = 0
    finally:
        os._exit(code)


def _fork_child(limits: ScanLimits, control: socket.socket) -> tuple[int, int, int]:
    """A child waiting for its request: its pid, the pipe end to send the request on and the
    pipe end it says "done" on (end of file: it died without a result)."""
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


def _zygote(control: socket.socket, worker_end: socket.socket, limits: ScanLimits) -> None:
    """The zygote's loop. ``fork``: fork a child, pass its pid and pipe ends to the worker;
    ``status PID``: that child's exit status. Ends when the worker goes (``worker_end``, the
    worker's end inherited by the fork, is closed first, so that its death reads as end of file)."""
    worker_end.close()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C reaches the worker, which stops us
    children: set[int] = set()
    statuses: dict[int, int] = {}
    while True:
        try:
            message = control.recv(64)
        except OSError:
            return
        if not message:
            return
        for pid in list(children):  # reap what ended, keep the statuses to answer for
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                statuses[pid] = os.waitstatus_to_exitcode(status)
        while len(statuses) > _KEEP_STATUSES:
            del statuses[next(iter(statuses))]
        if message == b"fork":
            pid, send_fd, done_fd = _fork_child(limits, control)
            children.add(pid)
            socket.send_fds(control, [b"child %d" % pid], [send_fd, done_fd])
            os.close(send_fd)
            os.close(done_fd)
        elif message.startswith(b"status "):
            pid = int(message.split()[1])
            if pid in children:  # asked once its "done" pipe closed: it is ending now
                children.discard(pid)
                code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            else:
                code = statuses.pop(pid, _UNKNOWN)
            control.send(b"status %d %d" % (pid, code))


@dataclass
class _Child:
    pid: int
    send_fd: int
    done_fd: int

    def close(self) -> None:
        for descriptor in (self.send_fd, self.done_fd):
            with contextlib.suppress(OSError):
                os.close(descriptor)


class _ZygoteLost(Exception):
    """The zygote's socket closed."""


class ScanChildren:
    """:func:`~bastion.jobs.scan.scan_checkout` for a worker, with each job's child forked ahead
    by a zygote (see the module's documentation). One per worker thread; not thread-safe."""

    def __init__(self, limits: ScanLimits) -> None:
        self.limits = limits
        self._zygote: BaseProcess | None = None
        self._socket: socket.socket | None = None
        self._spare: _Child | None = None
        self._forking = 0
        self._directory = Path(tempfile.mkdtemp(prefix="bastion-scans-"))
        self._jobs = 0
        self._running: int | None = None

    def start(self) -> None:
        """Fork the zygote now (from this process as it is) and ask it for the first child:
        call it before opening connections that the scan children must not inherit.
        :meth:`scan` starts it if needed."""
        warm_registry(self.limits.scanners)  # once per process, outside the memory cap
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        context = multiprocessing.get_context("fork")
        process = context.Process(target=_zygote, args=(theirs, ours, self.limits), daemon=True)
        process.start()
        theirs.close()
        self._zygote, self._socket, self._forking = process, ours, 0
        self._ask_fork()

    def zygote_pid(self) -> int | None:
        """The zygote's process id, while it runs."""
        return self._zygote.pid if self._zygote is not None else None

    def running_pid(self) -> int | None:
        """The process id of the child scanning now, if any."""
        return self._running

    def _ask_fork(self) -> None:
        if self._socket is None:
            raise _ZygoteLost
        try:
            self._socket.send(b"fork")
        except OSError:
            raise _ZygoteLost from None
        self._forking += 1

    def _receive(self) -> bytes:
        """The zygote's next message; a child it passes becomes the spare."""
        if self._socket is None:
            raise _ZygoteLost
        try:
            message, fds, _flags, _address = socket.recv_fds(self._socket, 256, 2)
        except OSError:
            raise _ZygoteLost from None
        if not message:
            raise _ZygoteLost
        if message.startswith(b"child "):
            self._forking -= 1
            if len(fds) != 2:
                raise _ZygoteLost
            spare = _Child(int(message.split()[1]), fds[0], fds[1])
            if self._spare is not None:
                spare.close()  # one spare at a time (not asked for; defensive)
            else:
                self._spare = spare
        return message

    def _take(self) -> _Child:
        """The spare child, waiting for it if need be (a new zygote when the old one died)."""
        for _ in range(2):
            try:
                if self._spare is None and not self._forking:
                    self._ask_fork()
                while self._spare is None:
                    self._receive()
                child, self._spare = self._spare, None
                return child
            except _ZygoteLost:
                self._stop_zygote()
                self.start()
        raise ScanCrashed("the scan zygote cannot be started")

    def _status(self, pid: int) -> int:
        """The exit status of a child that ended without a result (asked of the zygote)."""
        try:
            if self._socket is None:
                raise _ZygoteLost
            self._socket.send(b"status %d" % pid)
            while not (message := self._receive()).startswith(b"status "):
                continue
            return int(message.split()[2])
        except (_ZygoteLost, OSError):
            return _UNKNOWN

    def _send(self, path: Path, result_file: Path) -> _Child:
        """A child with the job sent to it (a fresh one when the spare died waiting)."""
        request = orjson.dumps([str(path), str(result_file)])
        for _ in range(2):
            child = self._take()
            try:
                os.write(child.send_fd, request)
            except OSError:  # it died waiting (killed): another one takes the job
                child.close()
                self._status(child.pid)  # reaped
                continue
            os.close(child.send_fd)
            child.send_fd = -1
            return child
        raise ScanCrashed(f"{path}: scan processes die before they start")

    def scan(self, path: Path) -> ScanOutcome:
        """Scan ``path`` in a limited child; the errors of
        :func:`~bastion.jobs.scan.scan_checkout`."""
        if self._zygote is None or not self._zygote.is_alive():
            self._stop_zygote()
            self.start()
        self._jobs += 1
        result_file = self._directory / f"{self._jobs}.json"
        child = self._send(path, result_file)
        self._running = child.pid
        try:
            with contextlib.suppress(_ZygoteLost):
                if self._spare is None and not self._forking:
                    self._ask_fork()  # the next job's child, forked while this one scans
            ready, _, _ = select.select([child.done_fd], [], [], self.limits.timeout_s)
            if not ready:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)
                raise ScanTimeout(f"{path}: scan timed out after {self.limits.timeout_s:g} s")
            said = os.read(child.done_fd, 1)
        finally:
            self._running = None
            child.close()
        if not said or not result_file.exists():
            raise died(path, self._status(child.pid), self.limits)
        kind, payload = _decode(result_file.read_bytes())
        result_file.unlink()
        return outcome_of(path, kind, payload, self.limits)

    def _stop_zygote(self) -> None:
        if self._spare is not None:
            self._spare.close()  # end of file: the waiting child exits
            self._spare = None
        if self._socket is not None:
            self._socket.close()  # end of file: the zygote exits
            self._socket = None
        if self._zygote is not None:
            self._zygote.join(5)
            if self._zygote.is_alive():
                self._zygote.kill()
                self._zygote.join()
            self._zygote.close()
            self._zygote = None
        self._forking = 0

    def close(self) -> None:
        """Stop the zygote and the waiting child; remove the result directory."""
        self._stop_zygote()
        shutil.rmtree(self._directory, ignore_errors=True)
