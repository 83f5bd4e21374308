"""SPDX 2.x JSON: an inventory of packages, and findings only where it references advisories.

An SBOM lists what is there, not what is wrong with it: its ``packages`` become the import's
inventory (name, version, purl, licence) and no finding. SPDX 2.3 lets a package reference a
security advisory about itself (``externalRefs`` of category ``SECURITY``, type ``advisory``);
each such reference is a finding of the advisory for that package, unrated (SPDX carries no
severity). A ``cpe23Type`` reference only names the package and is not a finding.
"""

from __future__ import annotations

from typing import Any

from bastion.findings import Location
from bastion.imports.build import Builder
from bastion.imports.fields import arr, items, obj, text
from bastion.imports.model import Component, DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.imports.tools.vulns import package_metadata

__all__ = ["PARSER"]


def _detect(doc: Document) -> bool:
    return (
        doc.kind is DocKind.JSON
        and isinstance(doc.data, dict)
        and text(doc.data.get("spdxVersion")).startswith("SPDX-")
    )


def _refs(package: dict[str, Any], category: str, kind: str) -> list[str]:
    return [
        text(ref.get("referenceLocator"))
        for ref in (obj(r) for r in arr(package.get("externalRefs")))
        if text(ref.get("referenceCategory")).replace("_", "-").upper() == category
        and text(ref.get("referenceType")) == kind
        and text(ref.get("referenceLocator"))
    ]


def _parse(doc: Document, build: Builder) -> None:
    build.version = text(doc.data.get("spdxVersion"))
    advisories = 0
    for package in (obj(p) for p in items(doc.data.get("packages"), "packages")):
        name, version = text(package.get("name")), text(package.get("versionInfo"))
        purl = next(iter(_refs(package, "PACKAGE-MANAGER", "purl")), "")
        licence = text(package.get("licenseConcluded")) or text(package.get("licenseDeclared"))
        build.component(
            Component(name, version, purl, (licence,) if licence and licence != "NOASSERTION" else ())
        )
        for locator in _refs(package, "SECURITY", "advisory"):
            advisory = locator.rstrip("/").rsplit("/", 1)[-1] or locator
            advisories += 1
            build.add(
                "vulnerability",
                advisory,
                title=f"Vulnerable dependency: {name} {version} ({advisory})",
                severity=build.severity(None),
                location=Location(purl=purl or None),
                message=f"The SPDX document references advisory {advisory} for {name} {version}",
                content=f"{purl or name}@{version}",
                evidence=f"{name} {version}".strip(),
                help_uri=locator,
                metadata=package_metadata("", name, version, purl, advisory, [advisory], []),
            )
    packages = len(arr(doc.data.get("packages")))
    build.notice(
        f"SPDX document: {packages} packages read as an inventory; an SBOM is no finding, "
        f"{advisories} security advisory reference(s) imported as findings"
    )


PARSER = ToolParser("spdx", _detect, _parse)
