"""Helpers for the deps scanner tests: targets from fixture folders and one-call scans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bastion.findings import Finding
from bastion.scan.base import ScanContext, ScanTarget, SourceFile
from bastion.scan.deps import DepsScanner
from bastion.scan.deps.model import Package
from bastion.scan.deps.parsers import Workspace, parser_for

TESTS = next(p for p in Path(__file__).resolve().parents if p.name == "tests")
DEPS = TESTS / "fixtures" / "deps"


def make_target(root: Path) -> ScanTarget:
    """Every regular file under ``root``, as the walk would hand it over."""
    root = root.resolve()
    files = tuple(
        SourceFile(str(path), path.relative_to(root).as_posix(), path.stat().st_size)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    )
    return ScanTarget(root, files)


def scan(root: Path, database: Path, **options: Any) -> tuple[list[Finding], ScanContext]:
    """Run the deps scanner over ``root``; returns findings and the context (notices, skips)."""
    context = ScanContext("deps", options={"database": str(database), **options})
    findings = list(DepsScanner().scan(make_target(root), context))
    return findings, context


def parse(relpath: str, root: Path = DEPS) -> tuple[list[Package], list[tuple[str, int | None]]]:
    """Parse one fixture file with the parser its name selects."""
    parser = parser_for(relpath)
    assert parser is not None, relpath
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    result = parser.parse((root / relpath).read_text(encoding="utf-8"), relpath, Workspace(root, files))
    return result.packages, result.notices


def by_name(packages: list[Package]) -> dict[str, Package]:
    """Packages keyed by name (last wins)."""
    return {p.name: p for p in packages}
