"""What a run scanned, written into the JSON and SARIF reports as their ``scope``.

A server that marks findings fixed must know where the upload looked: the scanned root
relative to the repository (a scan of ``services/api`` says nothing about ``web/``), the
exclude patterns, whether history was read only in part, and per scanner whether it ran
fully, in part (skip records, unchecked files) or not at all. The document::

    {"root": "services/api", "repository": true, "excludes": ["vendor/**"], "gitignore": true,
     "history": null, "files": 120,
     "scanners": {"deps": {"status": "partial", "skips": 1, "notices": 0}, ...}}

``root`` is POSIX and relative to the nearest enclosing git work tree (``.`` for its top);
without one (``repository`` false) it is ``.``: the scanned directory is the project. A scan of
one file has its directory as root and excludes everything but that file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bastion.results import ScanResult

__all__ = ["SCANNER_STATUSES", "display_target", "machine_path_scrubber", "repository_root", "scan_scope"]

SCANNER_STATUSES = ("complete", "partial", "skipped", "failed")
"""``complete``: ran with no skip or unchecked file; ``partial``: ran, with skip records or
unchecked files of its own; ``skipped``: did not run; ``failed``: crashed."""


def repository_root(path: Path) -> Path | None:
    """The nearest directory at or above ``path`` holding ``.git`` (a work tree), or None."""
    current = path if path.is_dir() else path.parent
    for candidate in (current, *current.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _relative_root(root: Path) -> tuple[str, bool]:
    resolved = root.resolve()
    top = repository_root(resolved)
    if top is None:
        return ".", False
    relative = resolved.relative_to(top).as_posix()
    return relative or ".", True


def display_target(root: Path) -> str:
    """What a report names as the scanned target, never an absolute path of the scanning machine:
    the path relative to the enclosing git work tree (``.`` for its top), else relative to the
    working directory when under it, else the directory's own name."""
    if not root.is_absolute() and ".." not in root.parts:
        return root.as_posix()
    resolved = root.resolve()
    top = repository_root(resolved)
    if top is not None:
        return resolved.relative_to(top).as_posix() or "."
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return resolved.name or "."


def machine_path_scrubber(root: Path) -> Callable[[Any], Any]:
    """A function that rewrites every string in a JSON value so that no absolute path of the
    scanning machine is left: the work tree (or scanned directory) becomes relative (``.``), the
    home directory ``~``. Skip reasons and notices quote paths (an advisory database in the user's
    cache, a config file given on the command line); reports leave the machine with them."""
    resolved = root.resolve()
    base = repository_root(resolved) or (resolved if resolved.is_dir() else resolved.parent)
    pairs: list[tuple[str, str]] = []
    for prefix, short in ((base, "."), (Path.cwd().resolve(), "."), (Path.home(), "~")):
        text = str(prefix)
        if len(prefix.parts) > 1 and not any(old == text + "/" for old, _ in pairs):
            pairs.extend([(text + "/", "" if short == "." else short + "/"), (text, short)])
    pairs.sort(key=lambda pair: len(pair[0]), reverse=True)

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for old, new in pairs:
                if old in value:
                    value = value.replace(old, new)
            return value
        if isinstance(value, list):
            return [scrub(item) for item in value]
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        return value

    return scrub


def _scanner_status(name: str, result: ScanResult) -> dict[str, Any]:
    own = [s for s in result.skips if s.component.split(" ", 1)[0].split(".", 1)[0] == name]
    whole = any(s.component.strip() == name for s in own)
    unchecked = sum(1 for n in result.notices if n.scanner == name and n.unchecked)
    if any(f.scanner == name for f in result.failures):
        status = "failed"
    elif whole:
        status = "skipped"
    elif own or unchecked:
        status = "partial"
    else:
        status = "complete"
    return {"status": status, "skips": len(own), "notices": unchecked}


def scan_scope(result: ScanResult) -> dict[str, Any] | None:
    """The ``scope`` object of a report of ``result`` (see the module docstring), or None when
    the run did not walk a directory (another tool's report converted by ``bastion import``: where
    that tool looked is unknown, so the report claims nothing)."""
    if not result.root.is_dir():
        return None
    root, in_repository = _relative_root(result.root)
    return {
        "root": root,
        "repository": in_repository,
        "excludes": list(result.excludes),
        "gitignore": result.gitignore,
        "history": result.history,
        "files": result.files_scanned,
        "scanners": {name: _scanner_status(name, result) for name in result.scanners},
    }
