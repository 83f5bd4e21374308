"""Very long lines: cut at the documented 64 KB while reading, in bounded memory, with a notice."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.ingest.records import MAX_LINE_BYTES, ReadStats, read_lines

HUGE = 24 << 20  # 24 MB on one line


def _write_huge(path: Path, opener: object = open) -> None:
    block = b"x" * (1 << 20)
    with opener(path, "wb") as f:  # type: ignore[operator]
        f.write(b"first line\n")
        for _ in range(HUGE // len(block)):
            f.write(block)
        f.write(b"\nlast line\n")


@pytest.mark.parametrize("suffix", [".log", ".log.gz"])
def test_huge_line_is_cut_in_bounded_memory(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"one-line{suffix}"
    _write_huge(path, gzip.open if suffix.endswith(".gz") else open)
    stats = ReadStats()
    tracemalloc.start()
    try:
        got = [(n, len(text)) for _, n, text in read_lines([path], stats)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == [(1, len("first line")), (2, MAX_LINE_BYTES), (3, len("last line"))]
    assert peak < 4 * MAX_LINE_BYTES * 8, peak  # a few buffers of 64 KB, never the 24 MB line
    assert stats.cut == {str(path): 1}
    assert stats.notes() == [f"{path}: 1 line(s) longer than 64 KB were cut at 64 KB"]


def test_line_of_exactly_the_limit_is_not_reported(tmp_path: Path) -> None:
    path = tmp_path / "exact.log"
    path.write_bytes(b"y" * MAX_LINE_BYTES + b"\nnext\n")
    stats = ReadStats()
    assert [len(t) for _, _, t in read_lines([path], stats)] == [MAX_LINE_BYTES, 4]
    assert stats.cut == {}


def test_cli_notes_cut_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "app.log"
    _write_huge(path)
    assert main(["watch", "templates", str(path)]) == 0
    captured = capsys.readouterr()
    assert "template(s) from 3 line(s)" in captured.out
    assert f"{path}: 1 line(s) longer than 64 KB were cut at 64 KB" in captured.err.replace("\n", "")
    model = tmp_path / "m.bastion"
    assert main(["watch", "train", str(path), "--session", "none", "-o", str(model)]) == 0
    assert "cut at 64 KB" in capsys.readouterr().err
    assert main(["watch", "detect", str(path), "-m", str(model)]) in (0, 1)
    assert "cut at 64 KB" in capsys.readouterr().err


def test_follow_cuts_a_long_line_and_drops_its_tail(tmp_path: Path) -> None:
    from bastion.detect.ingest.sources import follow

    path = tmp_path / "grow.log"
    path.write_bytes(b"a\n" + b"z" * (3 * MAX_LINE_BYTES + 5) + b"\n" + b"w" * MAX_LINE_BYTES + b"\nb\n")
    got = [text for _, _, text in follow(path, poll=0.01, idle_timeout=0.05)]
    assert got == ["a", "z" * MAX_LINE_BYTES, "w" * MAX_LINE_BYTES, "b"]


def test_header_split_cost_is_bounded_on_long_lines() -> None:
    import time

    from bastion.detect.ingest.headers import detect_header

    header = detect_header([f"2024-03-01 10:00:{i:02} INFO app.db: query {i} done" for i in range(50)])
    long_line = "2024-03-01 10:00:00 INFO app.db: " + "v " * 30_000
    start = time.process_time()
    for _ in range(200):
        head, message = header.split(long_line)
    per_line = (time.process_time() - start) / 200
    assert head == "2024-03-01 10:00:00 INFO app.db:" and message.startswith("v v")
    assert per_line < 0.002, per_line  # the first tokens only, not 30,000 of them
