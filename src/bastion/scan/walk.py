"""Walk a target once: honour .gitignore and exclude globs, skip binaries and huge files.

The walk is shared by every scanner of a run. It never follows a symlink out of the
target, never descends into a symlinked directory, and records every file it leaves
out as a :class:`~bastion.scan.base.Notice`, so nothing disappears silently.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from bastion.errors import InputError
from bastion.scan.base import Notice, NoticeKind, SourceFile

__all__ = ["WalkOptions", "WalkResult", "walk"]

SNIFF_BYTES = 8192
"""How much of each file is read to tell text from binary (the heuristic git uses)."""

ALWAYS_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn"})


@dataclass(frozen=True)
class WalkOptions:
    """What the walk leaves out."""

    exclude: tuple[str, ...] = ()
    """gitignore-style patterns relative to the root."""
    max_file_size: int = 5_000_000
    """Files larger than this many bytes are skipped with a notice."""
    respect_gitignore: bool = True
    """Read .gitignore files (every level) and .git/info/exclude."""


@dataclass
class WalkResult:
    """The files to scan and the notices about those left out."""

    root: Path
    files: list[SourceFile] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    bytes_total: int = 0

    def note(self, kind: NoticeKind, message: str, path: str | None) -> None:
        """Record a notice about a file left out."""
        self.notices.append(Notice(kind, message, path=path))


class _IgnoreRules:
    """The stack of gitignore specs that apply below one directory."""

    def __init__(self, layers: tuple[tuple[str, pathspec.PathSpec], ...]) -> None:
        self.layers = layers

    def child(self, rel_dir: str, spec: pathspec.PathSpec | None) -> _IgnoreRules:
        return self if spec is None else _IgnoreRules((*self.layers, (rel_dir, spec)))

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        # Deeper .gitignore files override shallower ones: the last decisive layer wins.
        verdict = False
        candidate = rel_path + "/" if is_dir else rel_path
        for base, spec in self.layers:
            sub = candidate[len(base) + 1 :] if base else candidate
            result = spec.check_file(sub)
            if result.include is not None:
                verdict = bool(result.include)
        return verdict


def _load_spec(path: Path) -> pathspec.PathSpec | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _is_binary(path: Path) -> bool:
    with path.open("rb") as handle:
        return b"\0" in handle.read(SNIFF_BYTES)


def walk(
    root: Path,
    options: WalkOptions,
    on_file: Callable[[int], None] | None = None,
) -> WalkResult:
    """Walk ``root`` (a directory or a single file) and return what scanners should see.

    Raises :class:`InputError` when ``root`` does not exist or is not a file or directory.
    ``on_file`` is called with the running count of files kept, for progress display.
    """
    if not root.exists() and not root.is_symlink():
        raise InputError(f"{root}: no such file or directory")
    if root.is_file():
        result = WalkResult(root=root.parent.resolve())
        _consider_file(root.resolve(), root.name, root.stat(), options, result)
        return result
    if not root.is_dir():
        raise InputError(f"{root}: not a file or directory")
    resolved = root.resolve()
    result = WalkResult(root=resolved)
    exclude = pathspec.GitIgnoreSpec.from_lines(options.exclude) if options.exclude else None
    rules = _IgnoreRules(())
    if options.respect_gitignore:
        info_exclude = _load_spec(resolved / ".git" / "info" / "exclude")
        rules = rules.child("", info_exclude)
    _walk_dir(resolved, "", rules, exclude, options, result, on_file)
    if not result.files and not result.notices:
        result.note(NoticeKind.EMPTY_TARGET, f"{root}: no files to scan", None)
    return result


def _walk_dir(
    directory: Path,
    rel_dir: str,
    rules: _IgnoreRules,
    exclude: pathspec.PathSpec | None,
    options: WalkOptions,
    result: WalkResult,
    on_file: Callable[[int], None] | None,
) -> None:
    if options.respect_gitignore:
        rules = rules.child(rel_dir, _load_spec(directory / ".gitignore"))
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        result.note(NoticeKind.UNREADABLE, f"cannot list: {exc.strerror or exc}", rel_dir or ".")
        return
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError as exc:
            result.note(NoticeKind.UNREADABLE, f"cannot stat: {exc.strerror or exc}", rel)
            continue
        if is_dir and entry.name in ALWAYS_SKIPPED_DIRS:
            continue
        if _excluded(rel, is_dir, rules, exclude):
            continue
        if is_link:
            _consider_link(Path(entry.path), rel, result)
        elif is_dir:
            _walk_dir(Path(entry.path), rel, rules, exclude, options, result, on_file)
        else:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                result.note(NoticeKind.UNREADABLE, f"cannot stat: {exc.strerror or exc}", rel)
                continue
            if _consider_file(Path(entry.path), rel, st, options, result) and on_file:
                on_file(len(result.files))


def _excluded(rel: str, is_dir: bool, rules: _IgnoreRules, exclude: pathspec.PathSpec | None) -> bool:
    candidate = rel + "/" if is_dir else rel
    if exclude is not None and exclude.match_file(candidate):
        return True
    return bool(rules.layers) and rules.ignored(rel, is_dir)


def _consider_link(path: Path, rel: str, result: WalkResult) -> None:
    """Symlinks are never followed: the file they point at inside the root is walked anyway."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        result.note(NoticeKind.SYMLINK_OUTSIDE, "broken or looping symlink, not followed", rel)
        return
    if not target.is_relative_to(result.root):
        result.note(NoticeKind.SYMLINK_OUTSIDE, "symlink points outside the target, not followed", rel)


def _consider_file(
    path: Path, rel: str, st: os.stat_result, options: WalkOptions, result: WalkResult
) -> bool:
    if not stat.S_ISREG(st.st_mode):
        result.note(NoticeKind.SPECIAL_FILE, "not a regular file, skipped", rel)
        return False
    if st.st_size > options.max_file_size:
        result.note(
            NoticeKind.TOO_LARGE,
            f"{_human(st.st_size)} is over the {_human(options.max_file_size)} limit, skipped",
            rel,
        )
        return False
    try:
        binary = st.st_size > 0 and _is_binary(path)
    except OSError as exc:
        result.note(NoticeKind.UNREADABLE, f"cannot read: {exc.strerror or exc}", rel)
        return False
    if binary:
        result.note(NoticeKind.BINARY, "binary file, skipped", rel)
        return False
    result.files.append(SourceFile(path=path, relpath=rel, size=st.st_size))
    result.bytes_total += st.st_size
    return True


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def count_by_kind(notices: Iterable[Notice]) -> dict[NoticeKind, int]:
    """How many notices of each kind; reports print counts for the noisy kinds."""
    counts: dict[NoticeKind, int] = {}
    for notice in notices:
        counts[notice.kind] = counts.get(notice.kind, 0) + 1
    return counts
