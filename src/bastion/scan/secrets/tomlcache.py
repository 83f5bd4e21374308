"""Bastion's own secrets rule files parsed once per version: the TOML as JSON in the user cache.

``tomllib`` takes about a quarter of a second for the built-in rule files, on every scan that loads
the secrets detector (the secrets scanner, and the IaC scanner when a resource holds user data or
environment values). JSON of the same tables loads ten times faster, so the parsed tables of each
shipped file are kept under a name made from the SHA-256 of the file's text: an edited file is
parsed again. Only for files shipped with Bastion; a team's own rule files are always parsed.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import platformdirs

from bastion.atomic import atomic_open

__all__ = ["cache_dir", "loads_cached"]

_FORMAT = "1"


def cache_dir() -> Path | None:
    """Where the parsed tables are kept, or None when there is no user cache directory."""
    try:
        return Path(platformdirs.user_cache_dir("bastion", appauthor=False))
    except (OSError, ValueError):
        return None


def loads_cached(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, from the cache when this exact text was parsed before.

    Raises :class:`tomllib.TOMLDecodeError` as ``tomllib`` does (a broken file is never cached).
    """
    directory = cache_dir()
    digest = hashlib.sha256(f"{_FORMAT}\0{text}".encode()).hexdigest()[:32]
    path = directory / f"secrets-rules-{digest}.json" if directory is not None else None
    if path is not None:
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(cached, dict):
                return cached
        except (OSError, ValueError):
            pass  # absent or unreadable: parse the TOML
    raw = tomllib.loads(text)
    if path is not None:
        _write(path, raw)
    return raw


def _write(path: Path, raw: dict[str, Any]) -> None:
    try:
        encoded = json.dumps(raw, separators=(",", ":"))
        if json.loads(encoded) != raw:
            return  # something JSON cannot hold as is (a TOML date, say): do not cache
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path) as sink:
            sink.write(encoded)
    except (OSError, TypeError, ValueError):
        return  # the cache is only a shortcut
