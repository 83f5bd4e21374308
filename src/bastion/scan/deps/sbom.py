"""Reading an SBOM (CycloneDX JSON or SPDX 2.x JSON) back into packages for ``bastion scan --sbom``.

A source of packages like the manifest parsers beside it (``parsers/``), so it lives in the deps
scanner: the scanner reads SBOMs without reaching up into :mod:`bastion.sbom`, which writes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from bastion.errors import InputError
from bastion.scan.deps.model import Package, ParseResult
from bastion.structured import read_text

__all__ = ["read_sbom"]

ECOSYSTEM_OF_PURL = {
    "pypi": "PyPI",
    "npm": "npm",
    "maven": "Maven",
    "golang": "Go",
    "cargo": "crates.io",
    "gem": "RubyGems",
    "composer": "Packagist",
    "nuget": "NuGet",
}


def _package(purl_text: str, where: str, line: int | None, result: ParseResult) -> Package | None:
    try:
        purl = PackageURL.from_string(purl_text)
    except ValueError as exc:
        result.note(f"invalid purl {purl_text!r} ({exc})", line)
        return None
    ecosystem = ECOSYSTEM_OF_PURL.get(purl.type)
    if ecosystem is None:
        ecosystem = purl.type
    if purl.type == "maven":
        name = f"{purl.namespace}:{purl.name}" if purl.namespace else purl.name
    elif purl.namespace:
        name = f"{purl.namespace}/{purl.name}"
    else:
        name = purl.name
    reason = None if purl.version else "no version in the purl"
    return Package(ecosystem, name, purl.version, where, line, None, reason)


def _cyclonedx(data: dict[str, Any], where: str, text: str, result: ParseResult) -> None:
    def walk(components: Any) -> None:
        for component in components or ():
            if not isinstance(component, dict):
                continue
            purl = component.get("purl")
            if isinstance(purl, str):
                package = _package(purl, where, _line_of(text, purl), result)
                if package is not None:
                    result.packages.append(package)
            else:
                result.note(f"component {component.get('name', '?')!r} has no purl; not checked", None)
            walk(component.get("components"))

    walk(data.get("components"))


def _spdx(data: dict[str, Any], where: str, text: str, result: ParseResult) -> None:
    for package in data.get("packages") or ():
        if not isinstance(package, dict):
            continue
        refs = [
            r.get("referenceLocator")
            for r in package.get("externalRefs") or ()
            if isinstance(r, dict) and r.get("referenceType") == "purl"
        ]
        if not refs:
            if package.get("primaryPackagePurpose") not in {"APPLICATION", "SOURCE"}:
                result.note(f"package {package.get('name', '?')!r} has no purl reference; not checked", None)
            continue
        found = _package(str(refs[0]), where, _line_of(text, str(refs[0])), result)
        if found is not None:
            result.packages.append(found)


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(json.dumps(needle))
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def read_sbom(path: Path) -> ParseResult:
    """Packages of a CycloneDX or SPDX JSON SBOM; :class:`InputError` when it is neither."""
    text = read_text(path, what="SBOM")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: SBOM is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    result = ParseResult()
    if isinstance(data, dict) and data.get("bomFormat") == "CycloneDX":
        _cyclonedx(data, path.name, text, result)
    elif isinstance(data, dict) and str(data.get("spdxVersion", "")).startswith("SPDX-2"):
        _spdx(data, path.name, text, result)
    else:
        raise InputError(f"{path}: not a CycloneDX or SPDX 2.x JSON SBOM")
    return result
