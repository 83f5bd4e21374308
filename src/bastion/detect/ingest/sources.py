"""Live sources: following a file across rotation and truncation, and a syslog listener.

Both yield ``(source, line number, text)`` like :func:`bastion.detect.ingest.records.read_lines`.
The listener (UDP and TCP, RFC 3164/5424 lines, default 127.0.0.1) puts messages on a
bounded queue; when the consumer falls behind, new messages are dropped and counted.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bastion.detect.ingest.records import MAX_LINE_BYTES, decode_line
from bastion.errors import InputError

__all__ = ["SyslogListener", "follow"]

log = logging.getLogger(__name__)


def follow(
    path: Path,
    stop: threading.Event | None = None,
    poll: float = 0.2,
    idle_timeout: float | None = None,
    from_start: bool = True,
) -> Iterator[tuple[str, int, str]]:
    """Yield lines appended to ``path``; reopen it when it is rotated (new inode) or truncated.

    Ends when ``stop`` is set or no line arrived for ``idle_timeout`` seconds.
    """
    stop = stop or threading.Event()
    source = str(path)
    n = 0
    stream = None
    inode = -1
    partial = b""
    idle_since = time.monotonic()
    skipping = False
    while not stop.is_set():
        if stream is None:
            try:
                stream = path.open("rb")
                inode = os.fstat(stream.fileno()).st_ino
                if not from_start:
                    stream.seek(0, os.SEEK_END)
                from_start = True
            except FileNotFoundError:
                stream = None
            except OSError as exc:
                raise InputError(f"{path}: cannot follow ({exc.strerror})") from None
        got = False
        if stream is not None:
            while True:
                chunk = stream.readline(MAX_LINE_BYTES)
                if not chunk:
                    break
                if skipping:  # the tail of a line already cut at MAX_LINE_BYTES
                    skipping = not chunk.endswith(b"\n")
                    continue
                partial += chunk
                if not partial.endswith(b"\n") and len(partial) < MAX_LINE_BYTES:
                    continue
                skipping = not partial.endswith(b"\n")
                text = decode_line(partial)
                partial = b""
                n += 1
                got = True
                if text.strip():
                    yield source, n, text
            try:
                st = os.stat(path)
                if st.st_ino != inode or st.st_size < stream.tell():
                    log.info("%s was rotated or truncated; reading it from the start", path)
                    stream.close()
                    stream = None
                    partial = b""
                    skipping = False
                    continue
            except FileNotFoundError:
                pass
        if got:
            idle_since = time.monotonic()
        elif idle_timeout is not None and time.monotonic() - idle_since > idle_timeout:
            break
        stop.wait(poll)
    if stream is not None:
        stream.close()


class SyslogListener:
    """Receives syslog over UDP and TCP into a bounded queue; counts what it drops."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5514, queue_size: int = 10_000) -> None:
        """Bind both sockets (port 0 picks a free port; see :attr:`port`)."""
        self.queue: queue.Queue[tuple[str, str]] = queue.Queue(maxsize=queue_size)
        self.dropped = 0
        self.received = 0
        self._lock = threading.Lock()
        listener = self

        class UDPHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data = self.request[0]
                listener._put(self.client_address[0], data)

        class TCPHandler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while True:
                    line = self.rfile.readline(MAX_LINE_BYTES)
                    if not line:
                        return
                    listener._put(self.client_address[0], line)

        try:
            self.udp = socketserver.ThreadingUDPServer((host, port), UDPHandler)
            tcp_port = self.udp.server_address[1]
            self.tcp = socketserver.ThreadingTCPServer((host, tcp_port), TCPHandler)
        except OSError as exc:
            raise InputError(f"syslog listener: cannot bind {host}:{port} ({exc.strerror})") from None
        self.udp.daemon_threads = self.tcp.daemon_threads = True
        self.host = host
        self.port = tcp_port
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            for s in (self.udp, self.tcp)
        ]

    def _put(self, peer: str, data: bytes) -> None:
        text = decode_line(data)
        with self._lock:
            self.received += 1
        try:
            self.queue.put_nowait((peer, text))
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def start(self) -> SyslogListener:
        """Start serving in background threads."""
        for t in self._threads:
            t.start()
        return self

    def close(self) -> None:
        """Stop serving and close the sockets."""
        for server in (self.udp, self.tcp):
            server.shutdown()
            server.server_close()
        if self.dropped:
            log.warning("syslog listener dropped %d of %d messages (queue full)", self.dropped, self.received)

    def lines(
        self, stop: threading.Event | None = None, idle_timeout: float | None = None
    ) -> Iterator[tuple[str, int, str]]:
        """Yield received messages until ``stop`` is set or nothing came for ``idle_timeout`` s."""
        stop = stop or threading.Event()
        n = 0
        last = time.monotonic()
        while not stop.is_set():
            try:
                peer, text = self.queue.get(timeout=0.1)
            except queue.Empty:
                if idle_timeout is not None and time.monotonic() - last > idle_timeout:
                    return
                continue
            last = time.monotonic()
            n += 1
            if text.strip():
                yield f"syslog://{peer}", n, text


def tcp_send(host: str, port: int, lines: list[str]) -> None:
    """Send lines to a TCP syslog listener (used by tests and benchmarks)."""
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall("".join(line + "\n" for line in lines).encode("utf-8"))
