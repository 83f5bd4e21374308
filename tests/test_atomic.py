"""The one writer for output files: whole or not at all, devices written directly."""

from __future__ import annotations

import ast
import os
import stat
from collections.abc import Iterator
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


# Every place in src/ that writes a file itself instead of through bastion.atomic, with why.
# A new writer fails the test below: route it through bastion.atomic, or add it here with a reason.
_BY_DESIGN = {
    ("bastion/atomic.py", "*"): "the one writer",
    ("bastion/advisories/sync.py", "open('wb')"): "downloads into the update's private work directory",
    ("bastion/advisories/sync.py", "write_text"): "the owner-pid file of the update's work directory",
    ("bastion/advisories/sync.py", "os.replace"): "swaps the finished database in, atomically",
    ("bastion/detect/sinks.py", "open('w')"): "--follow writes each alert as it is raised",
    ("bastion/scan/sast/semgrep.py", "write_text"): ".semgrepignore inside a private temporary tree",
    ("bastion/catalog/artefact.py", "open('w')"): "tarfile.open(fileobj=BytesIO): a tar stream in memory",
    ("bastion/catalog/artefact.py", "write_bytes"): "unpacks a checked artefact into a directory of its own",
    ("bastion/detect/sigma/update.py", "open('wb')"): "download and unpack into a private staging folder",
    ("bastion/detect/sigma/update.py", "os.replace"): "swaps the finished rule folder in, the old one aside",
    ("bastion/drills/detectors.py", "write_text"): "a scenario's file change, inside its scratch tree",
    ("bastion/drills/journal.py", "open('a')"): "append-only journal, fsynced per record (resumable)",
    ("bastion/detect/identity/geo_update.py", "open('wb')"): "download and unpack in a private temp dir",
}
_PENDING = {
    ("bastion/cli/identity.py", "open('w')"): "alerts file (also with --follow): detect.sinks.alert_output",
    ("bastion/cli/sigma.py", "open('w')"): "alerts file: detect.sinks.alert_output",
}
"""Writers written before bastion.atomic, to move onto it (their owners' files)."""


def _writers(tree: ast.AST) -> Iterator[str]:
    """Each call in ``tree`` that writes a file: ``write_text``, ``write_bytes``, ``os.replace``,
    ``os.rename``, or ``open``/``fdopen`` with a mode that writes (``open('w')``)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("write_text", "write_bytes") and isinstance(func, ast.Attribute) and owner != "atomic":
            yield name
        elif name in ("replace", "rename") and owner == "os":
            yield f"os.{name}"
        elif name in ("open", "fdopen"):
            position = 0 if isinstance(func, ast.Attribute) and owner != "os" and name == "open" else 1
            keywords = [k.value for k in node.keywords if k.arg == "mode"]
            for mode in [*node.args[position : position + 1], *keywords]:
                text = mode.value if isinstance(mode, ast.Constant) else None
                if isinstance(text, str) and set(text) & set("wax"):
                    yield f"{name}({text!r})"


def test_every_file_writer_goes_through_atomic_or_is_listed() -> None:
    calls = ["p.write_text('x')", "open(p, 'a')", "p.open(mode='wb')", "os.replace(a, b)"]
    sample = "\n".join([*calls, "atomic.write_text(p, 'x')", "open(p)", "p.open('r')"])
    assert list(_writers(ast.parse(sample))) == ["write_text", "open('a')", "open('wb')", "os.replace"]
    src = Path(__file__).resolve().parents[1] / "src"
    unlisted: list[str] = []
    for path in sorted((src / "bastion").rglob("*.py")):
        module = path.relative_to(src).as_posix()
        if "/migrations/" in module or (module, "*") in _BY_DESIGN:
            continue
        kinds = _writers(ast.parse(path.read_text(encoding="utf-8")))
        unlisted.extend(f"{module}: {kind}" for kind in kinds if (module, kind) not in _BY_DESIGN | _PENDING)
    assert unlisted == [], "write these through bastion.atomic (or list them with a reason)"
