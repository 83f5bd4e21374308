"""JavaScript lockfiles: package-lock.json v1/v2/v3, yarn.lock (classic and berry), pnpm-lock.yaml."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bastion.scan.deps.model import ManifestError, Package, ParseResult, json_key_lines, load_json
from bastion.scan.deps.parsers import Workspace

__all__ = ["parse_package_lock", "parse_pnpm_lock", "parse_yarn_lock"]

ECO = "npm"
_REGISTRY_PREFIXES = ("https://registry.npmjs.org/", "https://registry.yarnpkg.com/")


def _source_reason(resolved: Any, version: str) -> str | None:
    """Why a resolved location is not a registry release, else None."""
    text = resolved if isinstance(resolved, str) else version
    if text.startswith(("git+", "git:", "github:", "git@")) or (
        "#" in text and "://" in text and ".git" in text
    ):
        return "git dependency"
    if text.startswith(("file:", "link:", "workspace:", "portal:")):
        return "local path dependency"
    if (
        text.startswith(("http://", "https://"))
        and not text.startswith(_REGISTRY_PREFIXES)
        and "/-/" not in text
    ):
        return "tarball URL dependency"
    return None


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
        reason = _source_reason(entry.get("resolved"), version)
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
            reason = _source_reason(entry.get("resolved"), version)
            scope = "dev" if entry.get("dev") else None
            result.packages.append(
                Package(
                    ECO, name, None if reason else version, path, line, top if top else False, reason, scope
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


def parse_yarn_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """yarn.lock: classic (v1 custom format) and berry (YAML with ``__metadata``)."""
    result = ParseResult()
    if "__metadata:" in text:
        return _berry(text, path, result)
    if "# yarn lockfile v1" not in text[:400]:
        result.note("no '# yarn lockfile v1' header; read as yarn classic")
    name: str | None = None
    header_line = 0
    spec = ""
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw.startswith(" "):
            match = _YARN_HEADER.match(raw)
            if match is None:
                result.note("unreadable entry header", number)
                name = None
                continue
            spec, name, header_line = match.group("spec"), _yarn_name(match.group("spec")), number
            continue
        field = _YARN_FIELD.match(raw)
        if (
            name
            and field
            and field.group("key").strip('"') == "version"
            and raw.startswith("  ")
            and not raw.startswith("    ")
        ):
            version = field.group("value")
            reason = _source_reason(None, spec.split("@", 2)[-1] if "@" in spec[1:] else "")
            result.packages.append(
                Package(ECO, name, None if reason else version, path, header_line, None, reason)
            )
            name = None
    return result


def _berry(text: str, path: str, result: ParseResult) -> ParseResult:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ManifestError("invalid YAML", mark.line + 1 if mark is not None else None) from None
    if not isinstance(data, dict):
        raise ManifestError("not a yarn lockfile")
    lines = {
        m.group(1): text.count("\n", 0, m.start()) + 1
        for m in re.finditer(r'^"?([^\s#"][^\n]*?)"?:\s*$', text, re.MULTILINE)
    }
    for spec, entry in data.items():
        if spec == "__metadata" or not isinstance(entry, dict):
            continue
        resolution = str(entry.get("resolution", ""))
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


_PNPM_KEY = re.compile(r"^/?(?P<name>@?[^@/]+(?:/[^@/]+)?)[@/](?P<version>[^(/]+)")


def parse_pnpm_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """pnpm-lock.yaml lockfileVersion 5.x, 6.x and 9.x (``packages`` keys hold name and version)."""
    result = ParseResult()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ManifestError("invalid YAML", mark.line + 1 if mark is not None else None) from None
    if not isinstance(data, dict):
        raise ManifestError("not a pnpm lockfile")
    version = str(data.get("lockfileVersion", ""))
    if version.split(".")[0] not in {"5", "6", "7", "8", "9"}:
        result.note(f"unknown lockfileVersion {version!r}; read as 9.0")
    direct: set[str] = set()
    importers = data.get("importers") or {".": data}
    for importer in importers.values() if isinstance(importers, dict) else ():
        if isinstance(importer, dict):
            for key in ("dependencies", "devDependencies", "optionalDependencies"):
                direct |= set(importer.get(key) or {})
    key_lines = {
        m.group(1).strip("'\""): text.count("\n", 0, m.start()) + 1
        for m in re.finditer(r"^  (['\"]?[^\s'\"][^\n]*?['\"]?):\s*$", text, re.MULTILINE)
    }
    for key, entry in (data.get("packages") or {}).items():
        match = _PNPM_KEY.match(str(key))
        if match is None:
            result.note(f"unreadable package key {key!r}", key_lines.get(str(key)))
            continue
        name, pkg_version = match.group("name"), match.group("version")
        resolution = entry.get("resolution", {}) if isinstance(entry, dict) else {}
        reason = None
        if (
            isinstance(resolution, dict)
            and ("tarball" in resolution or "repo" in resolution)
            and "integrity" not in resolution
        ):
            reason = "git or tarball dependency, not a registry release"
        result.packages.append(
            Package(
                ECO,
                name,
                None if reason else pkg_version,
                path,
                key_lines.get(str(key)),
                name in direct,
                reason,
            )
        )
    return result
