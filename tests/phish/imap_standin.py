"""A small IMAP4rev1 server on loopback for the report-mailbox tests: LOGIN, SELECT, SEARCH
UNSEEN, FETCH (RFC822), STORE (+/-FLAGS \\Seen), LOGOUT, over the real wire protocol."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Mailbox", "imap_server"]


@dataclass
class Mailbox:
    """Messages (bytes) and which are seen; one user and password."""

    user: str
    password: str
    messages: list[bytes] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    port: int = 0


def _handler(box: Mailbox) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def send(self, data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()

        def handle(self) -> None:
            self.send(b"* OK [CAPABILITY IMAP4rev1] stand-in ready\r\n")
            while line := self.rfile.readline():
                tag, _, rest = line.decode().strip().partition(" ")
                command, _, args = rest.partition(" ")
                command = command.upper()
                if command == "CAPABILITY":
                    self.send(b"* CAPABILITY IMAP4rev1\r\n" + f"{tag} OK done\r\n".encode())
                elif command == "LOGIN":
                    user, _, password = args.partition(" ")
                    ok = user.strip('"') == box.user and password.strip('"') == box.password
                    self.send(f"{tag} {'OK' if ok else 'NO'} login\r\n".encode())
                elif command == "SELECT":
                    self.send(f"* {len(box.messages)} EXISTS\r\n{tag} OK [READ-WRITE] selected\r\n".encode())
                elif command == "SEARCH":
                    unseen = [str(n) for n in range(1, len(box.messages) + 1) if n not in box.seen]
                    self.send(f"* SEARCH {' '.join(unseen)}\r\n{tag} OK search\r\n".encode())
                elif command == "FETCH":
                    number = int(args.split(" ", 1)[0])
                    body = box.messages[number - 1]
                    box.seen.add(number)
                    self.send(f"* {number} FETCH (RFC822 {{{len(body)}}}\r\n".encode() + body + b")\r\n")
                    self.send(f"{tag} OK fetch\r\n".encode())
                elif command == "STORE":
                    number, change, _ = args.split(" ", 2)
                    (box.seen.add if change.startswith("+") else box.seen.discard)(int(number))
                    self.send(f"{tag} OK store\r\n".encode())
                elif command == "LOGOUT":
                    self.send(f"* BYE\r\n{tag} OK bye\r\n".encode())
                    return
                else:
                    self.send(f"{tag} BAD unknown command\r\n".encode())

    return Handler


@contextmanager
def imap_server(box: Mailbox) -> Iterator[Mailbox]:
    """Serve ``box`` on 127.0.0.1 (an ephemeral port, set on the box) until the block ends."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    box.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
