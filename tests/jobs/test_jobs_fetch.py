"""Fetching a hostile repository: limits, no hooks, no foreign transports, no symlinks out."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_world import make_repo

from bastion.jobs.fetch import FetchError, FetchLimits, fetch
from bastion.jobs.scan import ScanLimits, ScanOutOfMemory, ScanTimeout, scan_checkout


def test_clone_removes_symlinks_out_and_keeps_those_inside(tmp_path: Path) -> None:
    def links(root: Path) -> None:
        (root / "out").symlink_to("/etc/passwd")
        (root / "up").symlink_to("../../..")
        (root / "in").symlink_to("f0.py")

    repo = make_repo(tmp_path / "repo", files=1, prepare=links)
    fetched = fetch(str(repo), tmp_path / "cache", FetchLimits())
    assert fetched.path.parent == tmp_path / "cache"
    assert (fetched.path / "f0.py").is_file() and (fetched.path / "in").is_symlink()
    assert not (fetched.path / "out").exists() and not (fetched.path / "up").is_symlink()
    assert sorted(fetched.notes) == [
        "out: symbolic link out of the repository removed",
        "up: symbolic link out of the repository removed",
    ]


def test_no_hook_runs_on_a_fetch_into_the_cache(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files=1)
    cache = tmp_path / "cache"
    first = fetch(str(repo), cache, FetchLimits())
    marker = tmp_path / "hook-ran"
    for hook in ("post-checkout", "post-merge", "reference-transaction", "pre-auto-gc"):
        script = first.path / ".git" / "hooks" / hook
        script.parent.mkdir(exist_ok=True)
        script.write_text(f"#!/bin/sh\ntouch {marker}\n")
        script.chmod(0o755)
    (repo / "new.py").write_text("y = 2\n")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "two"],
        check=True,
    )
    again = fetch(str(repo), cache, FetchLimits())
    assert (again.path / "new.py").is_file()  # fetched the new commit
    assert not marker.exists()


def test_a_foreign_transport_never_runs_a_command(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(FetchError, match="git failed") as raised:
        fetch(f"ext::sh -c touch% {marker}", tmp_path / "cache", FetchLimits(timeout_s=20))
    assert raised.value.transient
    assert not marker.exists()


def test_size_cap(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo", prepare=lambda root: (root / "big.bin").write_bytes(os.urandom(3_000_000))
    )
    with pytest.raises(FetchError, match="size limit") as raised:
        fetch(str(repo), tmp_path / "cache", FetchLimits(max_bytes=1_000_000))
    assert not raised.value.transient
    assert list((tmp_path / "cache").iterdir()) == []  # the half clone was removed


@pytest.fixture
def hanging_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_a_repository_that_hangs_times_out(tmp_path: Path, hanging_server: int) -> None:
    with pytest.raises(FetchError, match="timed out after 1 s") as raised:
        fetch(
            f"http://127.0.0.1:{hanging_server}/team/repo.git", tmp_path / "cache", FetchLimits(timeout_s=1)
        )
    assert not raised.value.transient


def test_missing_path_is_final_and_a_plain_directory_is_scanned_in_place(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="no such repository") as raised:
        fetch(str(tmp_path / "none"), tmp_path / "cache", FetchLimits())
    assert not raised.value.transient
    plain = tmp_path / "plain"
    plain.mkdir()
    assert fetch(str(plain), tmp_path / "cache", FetchLimits()).path == plain


def test_scan_in_a_limited_child(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files=2)
    (repo / "bastion.toml").write_text('[scan]\nfail_on = "critical"\n')
    outcome = scan_checkout(repo, ScanLimits(scanners=("secrets",)))
    assert sorted(f["location"]["path"] for f in outcome.findings) == ["f0.py", "f1.py"]  # type: ignore[index]
    assert {f["rule_id"] for f in outcome.findings} == {"secrets.aws-access-key-id"}
    assert any("scan.fail_on not applied" in note for note in outcome.notes)


def test_a_scan_killed_like_the_oom_killer_does_and_a_timeout_end_the_job(tmp_path: Path) -> None:
    big = make_repo(tmp_path / "big", files=1500)
    result: list[BaseException] = []

    def scan() -> None:
        try:
            scan_checkout(big, ScanLimits(scanners=("secrets",)))
        except ScanOutOfMemory as exc:
            result.append(exc)

    thread = threading.Thread(target=scan)
    thread.start()
    deadline = time.monotonic() + 10
    while not multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.01)
    for child in multiprocessing.active_children():  # what the kernel's OOM killer does
        os.kill(child.pid or 0, signal.SIGKILL)
    thread.join(30)
    assert result and "killed by signal 9 (out of memory" in str(result[0])
    # 1,500 files: a scan that cannot end within 10 ms (two files sometimes did, on an idle machine)
    with pytest.raises(ScanTimeout, match=r"timed out after 0\.01 s"):
        scan_checkout(big, ScanLimits(timeout_s=0.01, scanners=("secrets",)))
