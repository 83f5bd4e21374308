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
from bastion.results import Notice, NoticeKind
from bastion.scan.base import SourceFile

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


def _load_spec(path: str) -> pathspec.PathSpec | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _is_binary(path: str) -> bool:
    fd = os.open(path, os.O_RDONLY)
    try:
        return b"\0" in os.read(fd, SNIFF_BYTES)
    finally:
        os.close(fd)


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
        _consider_file(str(root.resolve()), root.name, root.stat(), options, result)
        return result
    if not root.is_dir():
        raise InputError(f"{root}: not a file or directory")
    resolved = root.resolve()
    result = WalkResult(root=resolved)
    walker = _Walker(options, result, on_file)
    rules = _IgnoreRules(())
    if options.respect_gitignore:
        rules = rules.child("", _load_spec(os.path.join(resolved, ".git", "info", "exclude")))
    walker.directory(str(resolved), "", rules)
    if not result.files and not result.notices:
        result.note(NoticeKind.EMPTY_TARGET, f"{root}: no files to scan", None)
    return result


class _Walker:
    """Depth-first walk in sorted order. Paths stay strings until a file is kept: building a
    Path per entry was the walk's largest cost (bench/core/RESULTS.md)."""

    def __init__(
        self, options: WalkOptions, result: WalkResult, on_file: Callable[[int], None] | None
    ) -> None:
        self.options = options
        self.result = result
        self.on_file = on_file
        self.exclude = pathspec.GitIgnoreSpec.from_lines(options.exclude) if options.exclude else None

    def directory(self, directory: str, rel_dir: str, rules: _IgnoreRules) -> None:
        result = self.result
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            result.note(NoticeKind.UNREADABLE, f"cannot list: {exc.strerror or exc}", rel_dir or ".")
            return
        if self.options.respect_gitignore and any(e.name == ".gitignore" for e in entries):
            rules = rules.child(rel_dir, _load_spec(os.path.join(directory, ".gitignore")))
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
            if self._excluded(rel, is_dir, rules):
                continue
            if is_link:
                _consider_link(entry.path, rel, result)
            elif is_dir:
                self.directory(entry.path, rel, rules)
            else:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError as exc:
                    result.note(NoticeKind.UNREADABLE, f"cannot stat: {exc.strerror or exc}", rel)
                    continue
                if _consider_file(entry.path, rel, st, self.options, result) and self.on_file:
                    self.on_file(len(result.files))

    def _excluded(self, rel: str, is_dir: bool, rules: _IgnoreRules) -> bool:
        candidate = rel + "/" if is_dir else rel
        if self.exclude is not None and self.exclude.match_file(candidate):
            return True
        return bool(rules.layers) and rules.ignored(rel, is_dir)


def _consider_link(path: str, rel: str, result: WalkResult) -> None:
    """Symlinks are never followed: the file they point at inside the root is walked anyway."""
    try:
        target = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):
        result.note(NoticeKind.SYMLINK_OUTSIDE, "broken or looping symlink, not followed", rel)
        return
    if not target.is_relative_to(result.root):
        result.note(NoticeKind.SYMLINK_OUTSIDE, "symlink points outside the target, not followed", rel)


def _consider_file(path: str, rel: str, st: os.stat_result, options: WalkOptions, result: WalkResult) -> bool:
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
    result.files.append(SourceFile(abspath=path, relpath=rel, size=st.st_size))
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
