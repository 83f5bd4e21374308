"""Scan children forked ahead by a zygote: fresh per job, killed like the OOM killer, timed out,
replaced when they or the zygote die (a zygote lost mid-job does not fail the job)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from jobs_world import make_repo

from bastion.errors import InputError
from bastion.jobs.scan import ScanLimits, ScanOutOfMemory, ScanTimeout
from bastion.jobs.zygote import ScanChildren

SECRETS = ("secrets",)


def _rule_paths(children: ScanChildren, repo: Path) -> list[str]:
    return sorted(f["location"]["path"] for f in children.scan(repo).findings)  # type: ignore[index]


def test_each_job_scans_in_a_fresh_child_and_results_match_the_repository(tmp_path: Path) -> None:
    repos = [make_repo(tmp_path / f"r{i}", files=i + 1, seed=i) for i in range(3)]
    (repos[0] / "bastion.toml").write_text('[scan]\nfail_on = "critical"\n')
    children = ScanChildren(ScanLimits(scanners=SECRETS))
    try:
        pids = []
        for index, repo in enumerate(repos):
            pids.append(_pid_of_next_scan(children, repo))
            assert _rule_paths(children, repo) == [f"f{n}.py" for n in range(index + 1)]
        outcome = children.scan(repos[0])
        assert any("scan.fail_on not applied" in note for note in outcome.notes)
        assert len(set(pids)) == len(pids)  # a child never serves two jobs
        with pytest.raises(InputError, match="no such file"):
            children.scan(tmp_path / "missing")
    finally:
        children.close()


def _pid_of_next_scan(children: ScanChildren, repo: Path) -> int:
    seen: list[int] = []
    thread = threading.Thread(target=children.scan, args=(repo,))
    thread.start()
    while thread.is_alive():
        pid = children.running_pid()
        if pid is not None and not seen:
            seen.append(pid)
        time.sleep(0.001)
    thread.join()
    assert seen, "the scan ended before its child was seen"
    return seen[0]


def test_a_child_killed_mid_scan_is_out_of_memory_and_the_next_job_runs(tmp_path: Path) -> None:
    big = make_repo(tmp_path / "big", files=1500)
    small = make_repo(tmp_path / "small", files=2)
    children = ScanChildren(ScanLimits(scanners=SECRETS))
    result: list[BaseException] = []

    def scan() -> None:
        try:
            children.scan(big)
        except ScanOutOfMemory as exc:
            result.append(exc)

    try:
        thread = threading.Thread(target=scan)
        thread.start()
        deadline = time.monotonic() + 20
        while children.running_pid() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(children.running_pid() or 0, signal.SIGKILL)  # what the kernel's OOM killer does
        thread.join(30)
        assert result and "killed by signal 9 (out of memory" in str(result[0])
        assert _rule_paths(children, small) == ["f0.py", "f1.py"]
    finally:
        children.close()


def test_a_timeout_a_dead_waiting_child_and_a_dead_zygote(tmp_path: Path) -> None:
    big = make_repo(tmp_path / "big", files=1500)
    small = make_repo(tmp_path / "small", files=1)
    slow = ScanChildren(ScanLimits(timeout_s=0.01, scanners=SECRETS))
    try:
        with pytest.raises(ScanTimeout, match=r"timed out after 0\.01 s"):
            slow.scan(big)
    finally:
        slow.close()
    children = ScanChildren(ScanLimits(scanners=SECRETS))
    try:
        children.start()
        zygote = children.zygote_pid()
        assert zygote is not None
        deadline = time.monotonic() + 10
        while not (waiting := _children_of(zygote)) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(waiting) == 1  # one child forked ahead, waiting for its job
        os.kill(waiting[0], signal.SIGKILL)
        while _state(waiting[0]) != "Z" and time.monotonic() < deadline:  # dead, not yet reaped
            time.sleep(0.01)
        assert _rule_paths(children, small) == ["f0.py"]  # a fresh child took the job
        os.kill(zygote, signal.SIGKILL)
        children_zygote_gone(children, zygote)
        assert _rule_paths(children, small) == ["f0.py"]  # a dead zygote is replaced first
        found: list[int] = []

        def scan() -> None:
            found.append(len(children.scan(big).findings))

        thread = threading.Thread(target=scan)
        thread.start()
        while children.running_pid() is None and time.monotonic() < deadline + 20:
            time.sleep(0.005)
        os.kill(children.zygote_pid() or 0, signal.SIGKILL)  # lost mid-job: the child goes on
        thread.join(60)
        assert found == [1500]
        assert _rule_paths(children, small) == ["f0.py"]  # a new zygote for the next job
    finally:
        children.close()
    assert children.zygote_pid() is None


def _children_of(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def children_zygote_gone(children: ScanChildren, pid: int) -> None:
    """Wait until the killed zygote is dead (a zombie of this process, or reaped)."""
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and _state(pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert children.zygote_pid() == pid


def test_a_worker_that_dies_leaves_no_zygote_nor_waiting_child(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(
        "import os, sys\n"
        "from bastion.jobs.scan import ScanLimits\n"
        "from bastion.jobs.zygote import ScanChildren\n"
        "children = ScanChildren(ScanLimits(scanners=('secrets',)))\n"
        "children.start()\n"
        "print(children.zygote_pid(), flush=True)\n"
        "sys.stdin.read()\n"
    )
    worker = subprocess.Popen(  # a worker process we can kill -9
        [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    zygote = int(worker.stdout.readline())
    deadline = time.monotonic() + 20
    while not (waiting := _children_of(zygote)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(waiting) == 1
    worker.kill()
    worker.wait()
    for pid in (zygote, waiting[0]):  # both read end of file and exit (reaped by init)
        while Path(f"/proc/{pid}").exists() and _state(pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not Path(f"/proc/{pid}").exists() or _state(pid) == "Z"
    if worker.stdin is not None:
        worker.stdin.close()
    worker.stdout.close()
