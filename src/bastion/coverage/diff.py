"""The lines changed since a base ref: what diff coverage ("new code") is measured on.

Like diff-cover and SonarQube's new-code period, the comparison is from the merge base of
the base ref and ``HEAD`` to the working tree, so committed, staged and unstaged changes on
the branch all count, and changes that landed on the base branch meanwhile do not.
"""

from __future__ import annotations

import re
import shutil
import subprocess  # bastion: ignore[sast.bandit.B404] git with an argument list, no shell
from collections.abc import Mapping
from pathlib import Path

from bastion.errors import InputError

__all__ = ["changed_lines", "parse_unified_diff", "untracked_lines"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
GIT_TIMEOUT_S = 60


def changed_lines(root: Path, base: str) -> dict[str, frozenset[int]]:
    """Repository-relative path -> lines added or changed since ``base`` (a branch, tag or
    commit); :class:`InputError` when git is missing, ``root`` is no repository or ``base`` is
    unknown. Untracked files are :func:`untracked_lines`."""
    if base.startswith("-"):
        raise InputError(f"--base {base!r}: a ref cannot start with '-'")
    top = _git(root, "rev-parse", "--show-toplevel").strip()
    merge_base = _git(root, "merge-base", base, "HEAD").strip()
    diff = _git(
        Path(top),
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--unified=0",
        "-M",
        "--diff-filter=AMR",
        merge_base,
        "--",
    )
    return dict(parse_unified_diff(diff))


def untracked_lines(root: Path) -> dict[str, frozenset[int]]:
    """Files not yet added to git (a local run before ``git add``), every line of each: new
    code too, when the coverage report measures them."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    names = _git(top, "ls-files", "--others", "--exclude-standard", "-z")
    return {name: frozenset(range(1, _line_count(top / name) + 1)) for name in names.split("\0") if name}


def _line_count(path: Path) -> int:
    try:
        with path.open("rb") as stream:
            return sum(1 for _ in stream)
    except OSError:
        return 0


def parse_unified_diff(text: str) -> Mapping[str, frozenset[int]]:
    """Added line numbers per new-side path of a ``git diff --unified=0`` output."""
    found: dict[str, set[int]] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            name = line[4:].strip()
            current = None if name == "/dev/null" else _strip_prefix(_unquote(name))
            if current is not None:
                found.setdefault(current, set())
        elif current is not None and (hunk := _HUNK.match(line)):
            start = int(hunk["start"])
            count = int(hunk["count"]) if hunk["count"] is not None else 1
            found[current].update(range(start, start + count))
    return {path: frozenset(lines) for path, lines in found.items()}


def _strip_prefix(name: str) -> str:
    return name[2:] if name.startswith("b/") else name


def _unquote(name: str) -> str:
    """git quotes paths with unusual bytes in C style (``"b/caf\\303\\251.py"``)."""
    if not (name.startswith('"') and name.endswith('"')):
        return name
    raw = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    return raw.encode("latin-1").decode("utf-8", "replace")


def _git(cwd: Path, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise InputError("diff coverage needs git, which is not installed")
    try:
        done = subprocess.run(  # bastion: ignore[sast.bandit.B603] fixed git argv, ref checked above
            [git, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
            encoding="utf-8",
            errors="replace",
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"git {args[0]} failed in {cwd}: {exc}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"git {' '.join(args[:3])}: {reason}")
    return done.stdout
