"""pnpm-lock.yaml, lockfileVersion 5.x, 6.x, 7.x, 8.x and 9.x.

The ``packages`` keys are dependency paths, and their shape changed with the lockfile version
(https://github.com/pnpm/spec/tree/master/lockfile):

- 5.x: ``/name/1.0.0``, ``/@scope/name/1.0.0``, with a peer suffix ``_react@18.0.0+react-dom@18.0.0``
  or a hash (``_abcdef``); a package from another registry is ``registry.example.com/name/1.0.0``;
- 6.x to 8.x: ``/name@1.0.0``, ``/@scope/name@1.0.0``, peers as ``(react@18.0.0)``;
- 9.x: ``name@1.0.0`` (no slash), peers only in ``snapshots``;
- in every version, git, tarball and ``file:`` dependencies have keys that hold no version
  (``github.com/user/repo/<sha>``, ``file:vendor/x.tgz``, ``name@https://...``) and carry
  ``name`` and ``version`` fields in the entry instead; those fields win over the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bastion.scan.deps.model import ManifestError, Package, ParseResult, load_yaml_mapping
from bastion.scan.deps.parsers.npm_source import is_semver, source_kind
from bastion.scan.deps.workspace import Workspace

__all__ = ["DepPath", "parse_dep_path", "parse_pnpm_lock"]

ECO = "npm"
_KNOWN_MAJORS = {"5", "6", "7", "8", "9"}


@dataclass(frozen=True)
class DepPath:
    """What a ``packages`` key says: the name (when it holds one) and what stands for the version."""

    name: str | None
    version: str | None
    """The exact version, or the source spec (``file:..``, a URL) when the key holds no version."""


def _strip_host(name: str) -> str:
    """``registry.example.com/@scope/name`` -> ``@scope/name``; ``registry.example.com/name`` -> ``name``."""
    parts = name.split("/")
    if len(parts) >= 2 and parts[-2].startswith("@"):
        return "/".join(parts[-2:])
    return parts[-1]


def parse_dep_path(key: str, major: int) -> DepPath:
    """Name and version of a ``packages`` key of a lockfile of version ``major``."""
    key = key.strip().strip("'\"")
    if key.startswith(("file:", "link:")):
        return DepPath(None, key)
    if major < 6:
        return _slash_form(key)
    # name@version, where a name holds no '@' after its first character
    body = key.removeprefix("/")
    at = body.find("@", 1)
    if at <= 0:
        return _slash_form(key)  # a host/name/version key kept from an older pnpm
    name, version = _strip_host(body[:at]), body[at + 1 :]
    if "(" in version:
        version = version[: version.index("(")]  # peer suffix (react@18.0.0)
    return DepPath(name, version or None)


def _slash_form(key: str) -> DepPath:
    segments = [s for s in key.split("/") if s]
    if not key.startswith("/") and len(segments) > 2 and not segments[0].startswith("@"):
        segments = segments[1:]  # registry-host key: registry.example.com/name/1.0.0
    if len(segments) >= 3 and segments[0].startswith("@"):
        name, rest = "/".join(segments[:2]), segments[2:]
    elif len(segments) >= 2:
        name, rest = segments[0], segments[1:]
    else:
        return DepPath(None, None)
    version = rest[0].split("_", 1)[0]  # peer suffix _react@18.0.0 or _<hash>
    if "(" in version:
        version = version[: version.index("(")]
    if len(rest) > 1 or not is_semver(version):
        return DepPath(None, key)  # github.com/user/repo/<sha> and the like
    return DepPath(name, version)


def _load(text: str) -> dict[str, Any]:
    return load_yaml_mapping(text, "pnpm lockfile")


def _package_lines(text: str) -> dict[str, int]:
    """Line of each key of the top-level ``packages`` section."""
    start = re.search(r"^packages:\s*$", text, re.MULTILINE)
    if start is None:
        return {}
    end = re.compile(r"^\S", re.MULTILINE).search(text, start.end())
    section_end = end.start() if end else len(text)
    lines: dict[str, int] = {}
    base = text.count("\n", 0, start.start()) + 1
    offset = start.start()
    for match in re.finditer(r"^  (['\"]?[^\s'\"][^\n]*?['\"]?):", text[offset:section_end], re.MULTILINE):
        key = match.group(1).strip("'\"")
        lines.setdefault(key, base + text.count("\n", offset, offset + match.start()))
    return lines


def _direct_names(data: dict[str, Any]) -> set[str]:
    direct: set[str] = set()
    importers = data.get("importers") or {".": data}
    for importer in importers.values() if isinstance(importers, dict) else ():
        if isinstance(importer, dict):
            for key in ("dependencies", "devDependencies", "optionalDependencies"):
                section = importer.get(key)
                direct |= set(section) if isinstance(section, dict) else set()
    return direct


def _resolution_reason(resolution: Any) -> str | None:
    if not isinstance(resolution, dict):
        return None
    if "repo" in resolution or "commit" in resolution or resolution.get("type") == "git":
        return "git dependency"
    if "directory" in resolution or resolution.get("type") == "directory":
        return "local path dependency"
    tarball = resolution.get("tarball")
    if isinstance(tarball, str) and "integrity" not in resolution:
        return source_kind(tarball) or "tarball URL dependency"
    if isinstance(tarball, str) and tarball.startswith("file:"):
        return "local path dependency"
    return None


def parse_pnpm_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """pnpm-lock.yaml; every ``packages`` entry is one package, named by its entry or its key."""
    result = ParseResult()
    data = _load(text)
    lockfile_version = str(data.get("lockfileVersion", "")).strip("'\"")
    major_text = lockfile_version.split(".")[0]
    if major_text not in _KNOWN_MAJORS:
        result.note(f"unknown lockfileVersion {lockfile_version!r}; read as 9.0")
        major_text = "9"
    major = int(major_text)
    direct = _direct_names(data)
    key_lines = _package_lines(text)
    packages = data.get("packages") or {}
    if not isinstance(packages, dict):
        raise ManifestError("'packages' is not a mapping")
    for raw_key, entry in packages.items():
        key = str(raw_key)
        fields = entry if isinstance(entry, dict) else {}
        parsed = parse_dep_path(key, major)
        name = fields.get("name") if isinstance(fields.get("name"), str) else parsed.name
        version = fields.get("version") if isinstance(fields.get("version"), str) else parsed.version
        line = key_lines.get(key.strip("'\""))
        if name is None:
            result.note(
                f"unreadable package key {key!r}: it names no package and its entry has no 'name'", line
            )
            continue
        reason = _resolution_reason(fields.get("resolution"))
        for candidate in (parsed.version, version):
            if reason is None and candidate is not None and not is_semver(candidate):
                reason = source_kind(candidate) or f"not a registry version ({candidate[:60]!r})"
        if version is None:
            reason = reason or "no version in the lock entry"
        result.packages.append(
            Package(ECO, name, None if reason else version, path, line, name in direct, reason)
        )
    return result
