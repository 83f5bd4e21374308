"""JavaScript lockfiles: package-lock.json v1/v2/v3 and yarn.lock (classic and berry); pnpm in pnpm.py."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from bastion.scan.deps.model import (
    ManifestError,
    Package,
    ParseResult,
    json_key_lines,
    load_json,
    load_yaml_mapping,
)
from bastion.scan.deps.parsers.npm_source import is_semver, source_kind, source_reason, split_alias
from bastion.scan.deps.workspace import Workspace

__all__ = ["parse_package_lock", "parse_yarn_lock"]

ECO = "npm"


def parse_package_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 or 3."""
    result = ParseResult()
    data = load_json(text, result)
    if not isinstance(data, dict):
        raise ManifestError("not a package-lock (top level is not an object)")
    version = data.get("lockfileVersion")
    lines = json_key_lines(text)
    if version not in (1, 2, 3):
        result.note(f"unknown lockfileVersion {version!r}; read as version 3", lines.get("lockfileVersion"))
    packages = data.get("packages")
    if isinstance(packages, dict) and packages:
        _v2(packages, path, lines, result)
    elif isinstance(data.get("dependencies"), dict):
        _v1(data["dependencies"], path, lines, result, top=True)
    return result


def _v2(packages: dict[str, Any], path: str, lines: dict[str, int], result: ParseResult) -> None:
    root = packages.get("", {}) if isinstance(packages.get(""), dict) else {}
    direct = {
        name
        for key in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
        for name in (root.get(key) or {})
    }
    for key, entry in packages.items():
        if not key or not isinstance(entry, dict) or "node_modules/" not in key:
            continue
        name = entry.get("name") or key.rsplit("node_modules/", 1)[-1]
        version = entry.get("version")
        line = lines.get(key)
        if entry.get("link"):
            continue  # a workspace symlink; its target has its own entry
        if not isinstance(version, str):
            result.packages.append(Package(ECO, name, None, path, line, None, "no version in the lock entry"))
            continue
        alias = split_alias(version)
        if alias is not None:
            name, version = alias
        reason = source_reason(entry.get("resolved"), version)
        is_direct = key.count("node_modules/") == 1 and key.startswith("node_modules/") and name in direct
        scope = "dev" if entry.get("dev") else None
        result.packages.append(
            Package(ECO, name, None if reason else version, path, line, is_direct, reason, scope)
        )


def _v1(deps: dict[str, Any], path: str, lines: dict[str, int], result: ParseResult, top: bool) -> None:
    for name, entry in deps.items():
        if not isinstance(entry, dict):
            continue
        version = entry.get("version")
        line = lines.get(name)
        if isinstance(version, str):
            real, version = split_alias(version) or (name, version)
            reason = source_reason(entry.get("resolved"), version)
            scope = "dev" if entry.get("dev") else None
            result.packages.append(
                Package(
                    ECO, real, None if reason else version, path, line, top if top else False, reason, scope
                )
            )
        if isinstance(entry.get("dependencies"), dict):
            _v1(entry["dependencies"], path, lines, result, top=False)


_YARN_HEADER = re.compile(r'^("?)(?P<spec>[^\s].*?)\1:\s*$')
_YARN_FIELD = re.compile(r'^\s+(?P<key>"?[A-Za-z]+"?)[:\s]\s*"?(?P<value>[^"]*)"?\s*$')


def _yarn_name(spec: str) -> str:
    """The package name of a yarn entry spec; an npm alias (``alias@npm:real@^1``) names the real one."""
    first = spec.split(",")[0].strip().strip('"')
    if "@npm:" in first[1:]:
        cut = first.index("@npm:", 1)
        rest = first[cut + len("@npm:") :]
        if "@" not in rest[1:]:
            return first[:cut]  # name@npm:version (berry resolution)
        first = rest  # alias@npm:real@range
    at = first.find("@", 1)
    return first[:at] if at > 0 else first


def _yarn_range(spec: str) -> str:
    """What the first spec of a yarn classic header asks for (``^1.0.0``, ``github:u/r``, ``npm:x@^1``)."""
    first = spec.split(",")[0].strip().strip('"')
    at = first.find("@", 1)
    return first[at + 1 :] if at > 0 else ""


def parse_yarn_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """yarn.lock: classic (v1 custom format) and berry (YAML with ``__metadata``)."""
    result = ParseResult()
    if "__metadata:" in text:
        return _berry(text, path, result)
    if "# yarn lockfile v1" not in text[:400]:
        result.note("no '# yarn lockfile v1' header; read as yarn classic")
    entry: dict[str, str] = {}
    header_line = 0
    for number, raw in enumerate([*text.splitlines(), "end:"], 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw.startswith(" "):
            if entry:
                _yarn_classic_entry(entry, path, header_line, result)
            entry = {}
            match = _YARN_HEADER.match(raw)
            if match is None:
                result.note("unreadable entry header", number)
                continue
            entry, header_line = {"": match.group("spec")}, number
            continue
        field = _YARN_FIELD.match(raw)
        if entry and field and raw.startswith("  ") and not raw.startswith("   "):
            entry.setdefault(field.group("key").strip('"'), field.group("value"))
    return result


def _yarn_classic_entry(entry: dict[str, str], path: str, line: int, result: ParseResult) -> None:
    spec = entry[""]
    version = entry.get("version")
    if version is None:
        return  # not a package entry
    wanted = _yarn_range(spec)
    reason = source_reason(entry.get("resolved"), version)
    if reason is None and not wanted.startswith("npm:") and (":" in wanted or "/" in wanted):
        reason = source_kind(wanted)  # a registry range never holds ':' or '/'
    name = _yarn_name(spec)
    result.packages.append(Package(ECO, name, None if reason else version, path, line, None, reason))


def _unpatched(resolution: str) -> str:
    """``ts@patch:ts@npm%3A4.9.4#...`` (yarn's built-in compat patches) as ``ts@npm:4.9.4``; else unchanged.

    The patched package is that registry release: its version and advisories are the release's.
    """
    name = _yarn_name(resolution)
    if not resolution.startswith(f"{name}@patch:"):
        return resolution
    inner = unquote(resolution[len(name) + len("@patch:") :].split("#", 1)[0])
    return inner if inner.startswith(f"{name}@npm:") and is_semver(inner[len(name) + 5 :]) else resolution


def _berry(text: str, path: str, result: ParseResult) -> ParseResult:
    data = load_yaml_mapping(text, "yarn lockfile")
    lines = {
        m.group(1): text.count("\n", 0, m.start()) + 1
        for m in re.finditer(r'^"?([^\s#"][^\n]*?)"?:\s*$', text, re.MULTILINE)
    }
    resolutions = {str(e.get("resolution")) for e in data.values() if isinstance(e, dict)}
    for spec, entry in data.items():
        if spec == "__metadata" or not isinstance(entry, dict):
            continue
        resolution = _unpatched(str(entry.get("resolution", "")))
        if resolution != entry.get("resolution") and resolution in resolutions:
            continue  # a registry release with a yarn patch: the release has its own entry
        name = _yarn_name(resolution or str(spec))
        version = entry.get("version")
        if "@workspace:" in resolution or (
            isinstance(entry.get("languageName"), str) and entry.get("linkType") == "soft"
        ):
            continue
        protocol = resolution[len(name) + 1 :] if resolution.startswith(name + "@") else ""
        reason = None
        if protocol and not protocol.startswith("npm:"):
            reason = f"{protocol.split(':', 1)[0]} dependency, not a registry release"
        result.packages.append(
            Package(
                ECO,
                name,
                None if reason or not isinstance(version, str) else version,
                path,
                lines.get(str(spec)),
                None,
                reason or (None if isinstance(version, str) else "no version"),
            )
        )
    return result
