"""Map the file names a coverage tool wrote to paths relative to the repository root.

Tools name files differently: coverage.py relative to where it ran, LCOV often absolute,
Cobertura relative to one of its ``<source>`` directories, JaCoCo as ``package/File.java``
without the ``src/main/java`` prefix. Diff coverage and reports need the repository path,
so each name is tried as given, under each source directory, then by its tail among the
repository's files (a unique match only: two candidates leave the name as reported).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

__all__ = ["PathResolver"]

_PRUNE = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "target", "build"})


class PathResolver:
    """Resolves reported file names against ``root``; the file index is built on first need."""

    def __init__(self, root: Path, sources: Sequence[str] = ()) -> None:
        self.root = root.resolve()
        self.sources = tuple(sources)
        self._by_name: dict[str, list[str]] | None = None

    def resolve(self, name: str) -> str:
        """The repository-relative POSIX path of ``name``, or ``name`` (POSIX) when not found."""
        text = name.replace("\\", "/")
        for candidate in self._candidates(text):
            relative = self._relative(candidate)
            if relative is not None:
                return relative
        tail = self._by_tail(text)
        return tail if tail is not None else text.removeprefix("./")

    def _candidates(self, text: str) -> list[Path]:
        path = Path(text)
        if path.is_absolute():
            return [path]
        found = [self.root / text]
        found.extend(
            Path(source) / text if Path(source).is_absolute() else self.root / source / text
            for source in self.sources
        )
        return found

    def _relative(self, candidate: Path) -> str | None:
        try:
            resolved = candidate.resolve()
            relative = resolved.relative_to(self.root)
        except (OSError, ValueError):
            return None
        return relative.as_posix() if resolved.is_file() else None

    def _by_tail(self, text: str) -> str | None:
        parts = PurePosixPath(text).parts
        if not parts:
            return None
        matches = [
            path
            for path in self._index().get(parts[-1], [])
            if PurePosixPath(path).parts[-len(parts) :] == parts or _suffix(path, parts)
        ]
        return matches[0] if len(matches) == 1 else None

    def _index(self) -> dict[str, list[str]]:
        if self._by_name is None:
            self._by_name = {}
            for directory, dirs, files in os.walk(self.root):
                dirs[:] = [d for d in dirs if d not in _PRUNE]
                base = Path(directory).relative_to(self.root)
                for name in files:
                    self._by_name.setdefault(name, []).append((base / name).as_posix())
        return self._by_name


def _suffix(path: str, parts: tuple[str, ...]) -> bool:
    """Whether ``path`` ends with the longest tail of ``parts`` that is not absolute machine
    path (an LCOV ``SF:/build/agent/src/x.c`` still matches ``src/x.c`` in the repository)."""
    own = PurePosixPath(path).parts
    for start in range(1, len(parts)):
        tail = parts[start:]
        if len(tail) >= 2 and own[-len(tail) :] == tail:
            return True
    return False
