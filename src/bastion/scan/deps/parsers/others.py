"""Cargo.lock (Rust), Gemfile.lock (Ruby), composer.lock (PHP) and packages.lock.json (.NET)."""

from __future__ import annotations

import re
import tomllib

from bastion.scan.deps.model import ManifestError, Package, ParseResult, json_key_lines, load_json
from bastion.scan.deps.workspace import Workspace

__all__ = ["parse_cargo_lock", "parse_composer_lock", "parse_gemfile_lock", "parse_nuget_lock"]


def parse_cargo_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """Cargo.lock v1-v4; crates with a git ``source`` are skipped records, workspace members left out."""
    result = ParseResult()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ManifestError(f"invalid TOML: {exc}", int(match.group(1)) if match else None) from None
    version = data.get("version", 1)
    if version not in (1, 2, 3, 4):
        result.note(f"unknown Cargo.lock version {version!r}; read as version 4")
    lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"^\[\[package\]\]", text, re.MULTILINE)]
    for index, entry in enumerate(data.get("package", [])):
        if not isinstance(entry, dict) or "name" not in entry:
            continue
        line = lines[index] if index < len(lines) else None
        source = entry.get("source")
        if source is None:
            continue  # a member of the workspace being scanned
        reason = (
            None
            if str(source).startswith(("registry+", "sparse+"))
            else "git dependency, not a registry release"
        )
        version_text = entry.get("version")
        result.packages.append(
            Package("crates.io", entry["name"], None if reason else version_text, path, line, None, reason)
        )
    return result


_GEM = re.compile(r"^    (?P<name>[^\s(]+) \((?P<version>[^)]+)\)$")
_DIRECT = re.compile(r"^  (?P<name>[^\s(!]+)")


def parse_gemfile_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """Gemfile.lock: GEM specs are checked, GIT and PATH specs skipped; DEPENDENCIES marks direct."""
    result = ParseResult()
    section = ""
    found: list[tuple[str, str, int, str]] = []
    direct: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        if raw and not raw.startswith(" "):
            section = raw.strip()
            continue
        if section in {"GEM", "GIT", "PATH"}:
            match = _GEM.match(raw)
            if match:
                version = (
                    match.group("version").split("-", 1)[0]
                    if "-" in match.group("version")
                    and re.search(r"-(x86|arm|aarch|java|universal|x64)", match.group("version"))
                    else match.group("version")
                )
                found.append((match.group("name"), version, number, section))
        elif section == "DEPENDENCIES":
            match = _DIRECT.match(raw)
            if match:
                direct.add(match.group("name"))
    if not found and text.strip():
        result.note("no gem specifications found (not a Gemfile.lock?)")
    for name, version, number, kind in found:
        reason = None if kind == "GEM" else f"{kind.lower()} source, not a rubygems.org release"
        result.packages.append(
            Package("RubyGems", name, None if reason else version, path, number, name in direct, reason)
        )
    return result


def parse_composer_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """composer.lock: ``packages`` and ``packages-dev``."""
    result = ParseResult()
    data = load_json(text, result)
    if not isinstance(data, dict):
        raise ManifestError("not a composer.lock (top level is not an object)")
    name_lines = _name_lines(text)
    for section, scope in (("packages", None), ("packages-dev", "dev")):
        for entry in data.get(section) or ():
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            version = str(entry.get("version", "")).removeprefix("v")
            reason = None
            if not version or version.startswith("dev-") or version.endswith("-dev"):
                reason, version = f"development branch {entry.get('version')!r}, not a release", ""
            result.packages.append(
                Package(
                    "Packagist",
                    entry["name"],
                    version or None,
                    path,
                    name_lines.get(entry["name"]),
                    None,
                    reason,
                    scope,
                )
            )
    return result


def _name_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for match in re.finditer(r'"name"\s*:\s*"([^"]+)"', text):
        lines.setdefault(match.group(1), text.count("\n", 0, match.start()) + 1)
    return lines


def parse_nuget_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """packages.lock.json (NuGet lock, version 1 and 2); Direct/Transitive from ``type``."""
    result = ParseResult()
    data = load_json(text, result)
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), dict):
        raise ManifestError("not a NuGet packages.lock.json (no 'dependencies' object)")
    if data.get("version") not in (1, 2):
        result.note(f"unknown packages.lock.json version {data.get('version')!r}; read as 2")
    lines = json_key_lines(text)
    seen: set[tuple[str, str]] = set()
    for framework in data["dependencies"].values():
        if not isinstance(framework, dict):
            continue
        for name, entry in framework.items():
            if not isinstance(entry, dict):
                continue
            kind = entry.get("type")
            if kind == "Project":
                continue
            version = entry.get("resolved")
            if not isinstance(version, str) or (name, version) in seen:
                continue
            seen.add((name, version))
            direct = {"Direct": True, "Transitive": False}.get(str(kind))
            result.packages.append(Package("NuGet", name, version, path, lines.get(name), direct))
    return result
