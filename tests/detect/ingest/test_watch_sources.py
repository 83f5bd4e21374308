"""Follow mode across rotation and truncation; the syslog listener and its bounded queue."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from bastion.detect.ingest.sources import SyslogListener, follow, tcp_send
from bastion.errors import InputError


def test_follow_rotation_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("one\n")
    got: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        for _, _, text in follow(path, stop, poll=0.02, idle_timeout=3):
            got.append(text)
            if text == "four":
                stop.set()

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.2)
    with path.open("a") as f:
        f.write("two\n")
    time.sleep(0.2)
    os.rename(path, tmp_path / "app.log.1")  # rotation: a new file takes the name
    path.write_text("three\n")
    time.sleep(0.3)
    path.write_text("four\n")  # truncation: same inode, shorter
    thread.join(timeout=5)
    assert got[:3] == ["one", "two", "three"] and got[-1] == "four"


def test_follow_waits_for_file_and_idles_out(tmp_path: Path) -> None:
    path = tmp_path / "late.log"
    assert list(follow(path, poll=0.01, idle_timeout=0.05)) == []
    path.write_text("old\n")
    assert list(follow(path, poll=0.01, idle_timeout=0.05, from_start=False)) == []


def test_listener_udp_tcp_and_flood() -> None:
    listener = SyslogListener(port=0, queue_size=5).start()
    try:
        tcp_send("127.0.0.1", listener.port, ["<13>Jan  1 00:00:00 h app: via tcp"])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"<13>Jan  1 00:00:00 h app: via udp", ("127.0.0.1", listener.port))
        deadline = time.monotonic() + 5
        while listener.received < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        got = sorted(text.rsplit(" ", 1)[1] for _, _, text in listener.lines(idle_timeout=0.2))
        assert got == ["tcp", "udp"]
        tcp_send("127.0.0.1", listener.port, [f"flood {i}" for i in range(50)])
        deadline = time.monotonic() + 5
        while listener.received < 52 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert listener.dropped == 45
        stop = threading.Event()
        stop.set()
        assert list(listener.lines(stop)) == []
    finally:
        listener.close()


def test_listener_bind_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        with pytest.raises(InputError, match="cannot bind"):
            SyslogListener(port=taken.getsockname()[1])
