"""``bastion identity detect --follow``: sign-ins appended to growing (and rotated) files raise the
alerts a batch run over the same lines raises, each written as it is raised."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from test_cli import _spray_log

from bastion.cli.main import main
from bastion.detect.identity.events import Skips
from bastion.detect.identity.read import follow_events


def _alerts(path: Path) -> list[tuple[str, tuple[str, ...], str]]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(r["kind"], tuple(r["users"]), r["end"]) for r in records]


def _wait_for(predicate: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_follow_over_a_rotation_raises_what_a_batch_run_raises(tmp_path: Path) -> None:
    source = _spray_log(tmp_path / "spray.jsonl")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    batch = tmp_path / "batch.jsonl"
    assert main(["identity", "detect", str(source), "--format", "jsonl", "-o", str(batch)]) == 1
    expected = _alerts(batch)
    assert expected  # the spray is found

    live = tmp_path / "live" / "signins.jsonl"
    live.parent.mkdir()
    live.write_text("", encoding="utf-8")
    out = tmp_path / "followed.jsonl"
    codes: list[int] = []
    command = ["identity", "detect", str(live), "--follow", "--idle-timeout", "1.5", "--format", "jsonl"]
    runner = threading.Thread(target=lambda: codes.append(main([*command, "-o", str(out)])))
    runner.start()
    half = len(lines) // 2
    with live.open("a", encoding="utf-8") as handle:
        for line in lines[:half]:
            handle.write(line)
            handle.flush()
    time.sleep(0.5)
    live.rename(live.with_suffix(".jsonl.1"))  # rotated as logrotate does: a new file, a new inode
    with live.open("w", encoding="utf-8") as handle:
        for line in lines[half:]:
            handle.write(line)
            handle.flush()
    _wait_for(lambda: out.exists() and _alerts(out))  # written as raised, before the follow ends
    runner.join(30)
    assert not runner.is_alive() and codes == [1]
    assert _alerts(out) == expected


def test_follow_events_counts_what_it_cannot_read(tmp_path: Path) -> None:
    log = tmp_path / "mixed.jsonl"
    log.write_text('{"not": "a sign-in"}\nnot json at all\n', encoding="utf-8")
    skips = Skips()
    events = list(follow_events([log], threading.Event(), skips, idle_timeout=0.3))
    assert events == [] and skips.total == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--follow", "--stream", "redis://127.0.0.1:6379/12"], "--follow reads files as they grow"),
        (["--idle-timeout", "1"], "--idle-timeout goes with --follow"),
    ],
)
def test_follow_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    log = _spray_log(tmp_path / "s.jsonl")
    assert main(["identity", "detect", str(log), *args]) == 2
    assert message in capsys.readouterr().err


def test_follow_refuses_standard_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identity", "detect", "-", "--follow"]) == 2
    assert "not with - (stdin)" in capsys.readouterr().err
