"""pip-audit JSON (``pip-audit -f json``): ``dependencies`` with their ``vulns``.

pip-audit rates nothing: every vulnerability is unrated, reported high with
``severity_source = "unrated"`` as Bastion's own unrated advisories are. A dependency pip-audit
could not audit (``skip_reason``) is a visible skip, not a clean package.
"""

from __future__ import annotations

from bastion.findings import Location
from bastion.imports.build import Builder
from bastion.imports.fields import arr, items, obj, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.imports.tools.vulns import package_fix, package_message, package_metadata

__all__ = ["PARSER"]


def _detect(doc: Document) -> bool:
    first = next(iter(arr(obj(doc.data).get("dependencies"))), None) if doc.kind is DocKind.JSON else None
    return isinstance(first, dict) and "name" in first and ("vulns" in first or "skip_reason" in first)


def _parse(doc: Document, build: Builder) -> None:
    for dependency in items(doc.data["dependencies"], "dependencies"):
        dependency = obj(dependency)
        name, version = text(dependency.get("name")), text(dependency.get("version"))
        if "skip_reason" in dependency:
            build.skip(f"pip-audit:{name}", text(dependency.get("skip_reason")) or "not audited")
            continue
        purl = f"pkg:pypi/{name.lower()}@{version}" if name and version else ""
        for vulnerability in items(dependency.get("vulns"), "vulns"):
            vulnerability = obj(vulnerability)
            advisory = text(vulnerability["id"])
            aliases = [advisory, *texts(vulnerability.get("aliases"))]
            fixed = texts(vulnerability.get("fix_versions"))
            description = text(vulnerability.get("description"))
            build.add(
                "vulnerability",
                advisory,
                title=f"Vulnerable dependency: {name} {version} ({advisory})",
                severity=build.severity(None),
                location=Location(purl=purl or None),
                message=package_message(name, version, advisory, aliases, description),
                content=f"PyPI:{name.lower()}@{version}",
                evidence=f"{name} {version}",
                fix=package_fix(name, fixed),
                help_uri=f"https://osv.dev/vulnerability/{advisory}",
                metadata=package_metadata("PyPI", name, version, purl, advisory, aliases, fixed),
            )


PARSER = ToolParser("pip-audit", _detect, _parse)
