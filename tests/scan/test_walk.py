"""The shared walk: gitignore, excludes, binaries, size limit, symlinks, bad files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bastion.errors import InputError
from bastion.scan.base import NoticeKind
from bastion.scan.walk import WalkOptions, count_by_kind, walk


def _tree(root: Path, files: dict[str, bytes | str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def _kept(root: Path, options: WalkOptions | None = None) -> list[str]:
    return [f.relpath for f in walk(root, options or WalkOptions()).files]


def test_walk_is_sorted_and_relative(tmp_path: Path) -> None:
    _tree(tmp_path, {"b.py": "b", "a/z.py": "z", "a/b/c.txt": "c"})
    assert _kept(tmp_path) == ["a/b/c.txt", "a/z.py", "b.py"]


def test_gitignore_at_every_level_with_negation(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild/\n",
            "app.log": "x",
            "build/out.py": "x",
            "src/.gitignore": "!keep.log\nsecret.txt\n",
            "src/keep.log": "x",
            "src/drop.log": "x",
            "src/secret.txt": "x",
            "src/main.py": "x",
            "other/secret.txt": "x",
        },
    )
    kept = _kept(tmp_path)
    assert kept == [".gitignore", "other/secret.txt", "src/.gitignore", "src/keep.log", "src/main.py"]
    everything = _kept(tmp_path, WalkOptions(respect_gitignore=False))
    assert "app.log" in everything and "build/out.py" in everything


def test_git_info_exclude_and_git_dir_skipped(tmp_path: Path) -> None:
    _tree(tmp_path, {".git/info/exclude": "local.py\n", ".git/config": "x", "local.py": "x", "a.py": "x"})
    assert _kept(tmp_path) == ["a.py"]


def test_exclude_globs(tmp_path: Path) -> None:
    _tree(tmp_path, {"vendor/lib.js": "x", "src/min.min.js": "x", "src/app.js": "x"})
    assert _kept(tmp_path, WalkOptions(exclude=("vendor/", "*.min.js"))) == ["src/app.js"]


def test_binary_and_large_files_are_skipped_with_notices(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {"img.png": b"\x89PNG\r\n\x1a\n\0\0\0", "big.txt": "x" * 2000, "ok.txt": "fine", "empty": ""},
    )
    result = walk(tmp_path, WalkOptions(max_file_size=1000))
    assert [f.relpath for f in result.files] == ["empty", "ok.txt"]
    by_path = {n.path: n for n in result.notices}
    assert by_path["img.png"].kind is NoticeKind.BINARY
    assert by_path["big.txt"].kind is NoticeKind.TOO_LARGE
    assert "2.0 KB is over the 1.0 KB limit" in by_path["big.txt"].message
    assert count_by_kind(result.notices) == {NoticeKind.BINARY: 1, NoticeKind.TOO_LARGE: 1}
    assert result.bytes_total == 4


def test_symlinks_are_never_followed_out_of_the_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _tree(outside, {"passwd": "root:x:0:0"})
    root = tmp_path / "repo"
    _tree(root, {"real.py": "x", "dir/inner.py": "y"})
    (root / "escape").symlink_to(outside / "passwd")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "alias.py").symlink_to(root / "real.py")
    (root / "dir_alias").symlink_to(root / "dir", target_is_directory=True)
    (root / "dangling").symlink_to(root / "missing")
    result = walk(root, WalkOptions())
    assert [f.relpath for f in result.files] == ["dir/inner.py", "real.py"]
    outside_notes = {n.path for n in result.notices if n.kind is NoticeKind.SYMLINK_OUTSIDE}
    assert outside_notes == {"escape", "escape_dir", "dangling"}


def test_special_files_are_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "a.py").write_text("x")
    result = walk(tmp_path, WalkOptions())
    assert [f.relpath for f in result.files] == ["a.py"]
    assert [(n.kind, n.path) for n in result.notices] == [(NoticeKind.SPECIAL_FILE, "pipe")]


def test_unreadable_file_gets_a_notice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked.py").write_text("x")
    (tmp_path / "ok.py").write_text("x")
    real_open = os.open

    def deny(path: str, flags: int, *args: int) -> int:
        if str(path).endswith("locked.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", deny)
    result = walk(tmp_path, WalkOptions())
    assert [f.relpath for f in result.files] == ["ok.py"]
    assert [n.describe() for n in result.notices] == ["locked.py: cannot read: Permission denied"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_directory_gets_a_notice(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.py").write_text("x")
    locked.chmod(0)
    try:
        result = walk(tmp_path, WalkOptions())
    finally:
        locked.chmod(0o755)
    assert [n.kind for n in result.notices] == [NoticeKind.UNREADABLE]


def test_single_file_target(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text("x")
    (tmp_path / "two.py").write_text("x")
    result = walk(tmp_path / "one.py", WalkOptions())
    assert result.root == tmp_path.resolve()
    assert [f.relpath for f in result.files] == ["one.py"]


def test_empty_directory_is_a_notice(tmp_path: Path) -> None:
    result = walk(tmp_path, WalkOptions())
    assert result.files == []
    assert [n.kind for n in result.notices] == [NoticeKind.EMPTY_TARGET]


def test_missing_target_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        walk(tmp_path / "nope", WalkOptions())


def test_progress_callback_counts_kept_files(tmp_path: Path) -> None:
    _tree(tmp_path, {f"f{i}.txt": "x" for i in range(5)})
    seen: list[int] = []
    walk(tmp_path, WalkOptions(), on_file=seen.append)
    assert seen == [1, 2, 3, 4, 5]
