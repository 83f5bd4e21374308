"""The one writer for output files: whole or not at all, devices written directly."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bastion.atomic import atomic_open, atomic_open_binary, write_bytes, write_text
from bastion.errors import InputError


def test_write_text_and_bytes_replace_the_file(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    write_text(path, "new\n")
    assert path.read_text() == "new\n"
    write_bytes(tmp_path / "model.npz", b"\x00\x01")
    assert (tmp_path / "model.npz").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "report.json"]


def test_a_failure_half_way_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("complete old report")
    with pytest.raises(RuntimeError), atomic_open(path) as stream:
        stream.write("half of a new")
        raise RuntimeError("disk full")
    assert path.read_text() == "complete old report"
    with pytest.raises(RuntimeError), atomic_open_binary(tmp_path / "new.bin") as binary:
        binary.write(b"half")
        raise RuntimeError("crash")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_private_files_are_owner_only(tmp_path: Path) -> None:
    write_text(tmp_path / "state.json", "{}", private=True)
    assert stat.S_IMODE((tmp_path / "state.json").stat().st_mode) == 0o600
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "public.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "public.json").stat().st_mode) == 0o644


def test_a_device_is_written_directly() -> None:
    write_text(Path(os.devnull), "discarded")
    write_bytes(Path(os.devnull), b"discarded")
    assert Path(os.devnull).exists() and not Path(os.devnull).is_file()


def test_unwritable_is_one_line_naming_file_and_what(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nowhere/r\.json: cannot write report: No such file or directory$"):
        write_text(tmp_path / "nowhere" / "r.json", "x", what="report")
    with pytest.raises(InputError, match=r"nowhere/m\.npz: cannot write file: "):
        write_bytes(tmp_path / "nowhere" / "m.npz", b"x")
