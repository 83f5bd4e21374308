"""A real IMAP server on loopback for the report-mailbox tests: pymap's in-memory backend in its
own process, one user, filled and inspected over the IMAP wire protocol with the standard client."""

from __future__ import annotations

import imaplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["ImapAccount", "imap_server"]

_START = "import sys; from pymap.main import main; sys.argv[0] = 'pymap'; main()"


@dataclass(frozen=True)
class ImapAccount:
    """The one account of a running server, and what a test may do with its INBOX."""

    port: int
    user: str
    password: str
    tls_context: ssl.SSLContext | None = None

    def client(self) -> imaplib.IMAP4:
        """A signed-in client with INBOX selected."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        if "STARTTLS" in client.capabilities:
            client.starttls(self.tls_context)
        client.login(self.user, self.password)
        client.select("INBOX")
        return client

    def deliver(self, *messages: bytes) -> None:
        """APPEND each message to INBOX, unseen."""
        client = self.client()
        try:
            for raw in messages:
                status, _ = client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
                assert status == "OK"
        finally:
            client.logout()

    def seen(self) -> set[int]:
        """Sequence numbers of the messages flagged \\Seen."""
        client = self.client()
        try:
            _, data = client.search(None, "SEEN")
        finally:
            client.logout()
        return {int(n) for n in (data[0] or b"").split()}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def imap_server(user: str, password: str, tls: tuple[Path, Path] | None = None) -> Iterator[ImapAccount]:
    """pymap on 127.0.0.1 (no admin service) until the block ends: plain IMAP, or offering
    STARTTLS with ``tls`` (certificate and key files)."""
    port = _free_port()
    args = ["--no-service", "admin", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--cert", str(tls[0]), "--key", str(tls[1])] if tls else ["--no-tls"]
    backend = ["dict", "--demo-user", user, "--demo-password", password]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _START, *args, *backend], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_listening(process, port, log)
            context = ssl.create_default_context(cafile=str(tls[0])) if tls else None
            yield ImapAccount(port, user, password, context)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                error = log.read().decode(errors="replace")
                raise RuntimeError(f"pymap did not start on port {port}: {error[-500:]}") from None
            time.sleep(0.05)
