"""npm audit JSON: report version 1 (npm 6, ``advisories``) and 2 (npm 7+, ``vulnerabilities``).

Version 2 lists every affected package with ``via``: an advisory object where the package itself
is vulnerable, a package name where it is affected only through a dependency. Only the former are
findings (the advisory is reported once, on the package that has it); the latter are in
``metadata["effects"]`` of that package's finding.
"""

from __future__ import annotations

import re
from typing import Any

from bastion.findings import Location
from bastion.imports.build import Builder, cwe_ids
from bastion.imports.fields import arr, entries, get, num, obj, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.imports.tools.vulns import package_message, package_metadata

__all__ = ["PARSER"]

_GHSA = re.compile(r"GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}")


def _detect(doc: Document) -> bool:
    data = doc.data
    if doc.kind is not DocKind.JSON or not isinstance(data, dict):
        return False
    if data.get("auditReportVersion") == 2:
        return True
    return isinstance(data.get("advisories"), dict) and ("actions" in data or "muted" in data)


def _parse(doc: Document, build: Builder) -> None:
    if doc.data.get("auditReportVersion") == 2:
        for name, entry in entries(doc.data["vulnerabilities"], "vulnerabilities").items():
            _v2(build, str(name), obj(entry))
    else:
        for advisory in entries(doc.data["advisories"], "advisories").values():
            _v1(build, obj(advisory))


def _advisory_id(url: str, fallback: str) -> str:
    match = _GHSA.search(url)
    return match.group(0) if match else fallback


def _fix_v2(fix: Any, name: str) -> str:
    if fix is True:
        return f"Run npm audit fix: a compatible version of {name} fixes it."
    if isinstance(fix, dict) and text(fix.get("name")):
        major = " (a semver-major upgrade)" if fix.get("isSemVerMajor") is True else ""
        return f"Upgrade {text(fix.get('name'))} to {text(fix.get('version'))}{major}."
    return f"No fixed version of {name} is known: remove it or mitigate the vulnerability."


def _v2(build: Builder, name: str, entry: dict[str, Any]) -> None:
    effects = texts(entry.get("effects"))
    node = next(iter(texts(entry.get("nodes"))), None)
    for via in arr(entry.get("via")):
        if not isinstance(via, dict) or text(via.get("name")) not in ("", name):
            continue
        url = text(via.get("url"))
        advisory = _advisory_id(url, f"npm-{text(via.get('source'))}")
        score = num(get(via, "cvss", "score"))
        span = text(via.get("range"))
        build.add(
            "vulnerability",
            advisory,
            title=f"Vulnerable dependency: {name} {span} ({advisory})",
            severity=build.severity(via.get("severity"), score),
            location=Location(path=node, purl=f"pkg:npm/{name}"),
            message=package_message(name, span, advisory, [advisory], text(via.get("title"))),
            content=f"npm:{name}\x1f{span}",
            evidence=f"{name} {span}",
            cwe=cwe_ids(arr(via.get("cwe"))),
            fix=_fix_v2(entry.get("fixAvailable"), name),
            help_uri=url,
            metadata=package_metadata(
                "npm",
                name,
                "",
                f"pkg:npm/{name}",
                advisory,
                [advisory],
                [],
                vulnerable_range=span,
                direct=entry.get("isDirect") is True,
                effects=effects,
                cvss_score=score,
                cvss_vector=text(get(via, "cvss", "vectorString")) or None,
            ),
        )


def _v1(build: Builder, advisory: dict[str, Any]) -> None:
    name = text(advisory.get("module_name"))
    cves = texts(advisory.get("cves"))
    url = text(advisory.get("url"))
    native = text(advisory.get("github_advisory_id")) or _advisory_id(url, "") or (cves[0] if cves else "")
    native = native or f"npm-{text(advisory['id'])}"
    patched = text(advisory.get("patched_versions"))
    for found in arr(advisory.get("findings")) or [{}]:
        version = text(get(found, "version"))
        purl = f"pkg:npm/{name}@{version}" if version else f"pkg:npm/{name}"
        build.add(
            "vulnerability",
            native,
            title=f"Vulnerable dependency: {name} {version} ({native})",
            severity=build.severity(advisory.get("severity")),
            location=Location(purl=purl),
            message=package_message(name, version, native, [native, *cves], text(advisory.get("title"))),
            content=f"npm:{name}@{version}",
            evidence=f"{name} {version}".strip(),
            cwe=cwe_ids(texts(advisory.get("cwe"))),
            fix=text(advisory.get("recommendation")) or (f"Upgrade {name} to {patched}." if patched else ""),
            help_uri=url,
            metadata=package_metadata(
                "npm",
                name,
                version,
                purl,
                native,
                [native, *cves],
                [patched] if patched else [],
                paths=texts(get(found, "paths")),
                vulnerable_range=text(advisory.get("vulnerable_versions")) or None,
            ),
        )


PARSER = ToolParser("npm-audit", _detect, _parse)
