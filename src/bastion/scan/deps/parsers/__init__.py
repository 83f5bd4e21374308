"""Manifest parsers, one per format, chosen by file name."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bastion.scan.deps.model import ParseResult
from bastion.scan.deps.workspace import Workspace

__all__ = ["PARSERS", "Parser", "Workspace", "parser_for"]


ParseFn = Callable[[str, str, Workspace], ParseResult]


@dataclass(frozen=True)
class Parser:
    """A manifest format: file-name globs and the function that reads it."""

    name: str
    patterns: tuple[str, ...]
    parse: ParseFn

    def prefix(self, relpath: str) -> str:
        """``"<format>: "`` to start a message about ``relpath``, or "" when the file name already says
        it (``pom.xml: pom.xml: invalid XML`` read twice the same thing)."""
        return "" if PurePosixPath(relpath).name.lower() == self.name.lower() else f"{self.name}: "

    def matches(self, relpath: str, abspath: str | None = None) -> bool:
        """Whether this parser reads the file at ``relpath``.

        A pattern with a folder (``requirements/*.txt``) looks at the file's own folder: from
        ``abspath`` when the target is that one file and ``relpath`` holds no folder.
        """
        name = PurePosixPath(relpath).name.lower()
        parent = PurePosixPath(relpath).parent.name.lower()
        if not parent and abspath:
            parent = Path(abspath).parent.name.lower()
        return any(fnmatch.fnmatchcase(f"{parent}/{name}" if "/" in p else name, p) for p in self.patterns)


def _parsers() -> tuple[Parser, ...]:
    from bastion.scan.deps.parsers import golang, java, javascript, others, pnpm, python

    return (
        Parser("requirements", ("*requirements*.txt", "requirements/*.txt"), python.parse_requirements),
        Parser("poetry.lock", ("poetry.lock",), python.parse_poetry_lock),
        Parser("Pipfile.lock", ("pipfile.lock",), python.parse_pipfile_lock),
        Parser("uv.lock", ("uv.lock",), python.parse_uv_lock),
        Parser("pdm.lock", ("pdm.lock",), python.parse_pdm_lock),
        Parser("pyproject.toml", ("pyproject.toml",), python.parse_pyproject),
        Parser(
            "package-lock.json", ("package-lock.json", "npm-shrinkwrap.json"), javascript.parse_package_lock
        ),
        Parser("yarn.lock", ("yarn.lock",), javascript.parse_yarn_lock),
        Parser("pnpm-lock.yaml", ("pnpm-lock.yaml",), pnpm.parse_pnpm_lock),
        Parser("pom.xml", ("pom.xml",), java.parse_pom),
        Parser("gradle.lockfile", ("gradle.lockfile", "*.lockfile"), java.parse_gradle_lockfile),
        Parser("go.mod", ("go.mod",), golang.parse_go_mod),
        Parser("Cargo.lock", ("cargo.lock",), others.parse_cargo_lock),
        Parser("Gemfile.lock", ("gemfile.lock",), others.parse_gemfile_lock),
        Parser("composer.lock", ("composer.lock",), others.parse_composer_lock),
        Parser("packages.lock.json", ("packages.lock.json",), others.parse_nuget_lock),
    )


_CACHE: list[tuple[Parser, ...]] = []


def PARSERS() -> tuple[Parser, ...]:
    """Every manifest parser (imported on first use)."""
    if not _CACHE:
        _CACHE.append(_parsers())
    return _CACHE[0]


def parser_for(relpath: str, abspath: str | None = None) -> Parser | None:
    """The parser for a file, or None when it is not a manifest Bastion reads."""
    return next((p for p in PARSERS() if p.matches(relpath, abspath)), None)
