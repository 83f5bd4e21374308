"""A range in pyproject.toml is checked through the lockfile that pins it.

``pyproject.toml`` declares ranges (``cryptography>=42``); what gets installed is what a
lockfile beside it pins (``requirements/dev.txt``, ``uv.lock``, ``poetry.lock`` ...). A range
that such a lockfile pins is checked at the pinned version there, so it is no longer reported
as unpinned; a range no lockfile pins stays an "unpinned" info finding.
"""

from __future__ import annotations

import posixpath

from bastion.advisories.records import normalize_name
from bastion.scan.deps.model import Package

__all__ = ["drop_locked_ranges"]


def _key(package: Package) -> tuple[str, str]:
    return package.ecosystem, normalize_name(package.ecosystem, package.name)


def _within(path: str, directory: str) -> bool:
    return directory == "" or path == directory or path.startswith(directory + "/")


def drop_locked_ranges(packages: list[Package]) -> list[Package]:
    """``packages`` without the pyproject.toml ranges that a lockfile in its tree pins."""
    pinned: dict[tuple[str, str], list[str]] = {}
    for package in packages:
        checked = package.version is not None and package.skip_reason is None
        if checked and not package.path.endswith("pyproject.toml") and not package.path.startswith("env:"):
            pinned.setdefault(_key(package), []).append(package.path)
    if not pinned:
        return packages
    kept: list[Package] = []
    for package in packages:
        if package.version is None and package.path.endswith("pyproject.toml"):
            home = posixpath.dirname(package.path)
            if any(_within(lock, home) for lock in pinned.get(_key(package), ())):
                continue
        kept.append(package)
    return kept
