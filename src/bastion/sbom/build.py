"""Writing an SBOM: CycloneDX 1.6 JSON (cyclonedx.py) and SPDX 2.3 JSON from a tree's manifests.

The inventory is the deps scanner's: every package a manifest declares, with its purl,
the file and line that declares it, and whether it is direct. Packages without an exact
version (unpinned, git or path sources) are listed without one and reported as notes.
"""

from __future__ import annotations

import enum
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import assert_never

from bastion import __version__
from bastion.errors import UsageError
from bastion.results import Notice, Skip
from bastion.sbom.cyclonedx import cyclonedx_document, document_text, where
from bastion.sbom.vex import VulnerabilityCheck, add_vulnerabilities
from bastion.scan.base import ScanContext, ScanTarget
from bastion.scan.deps.model import Package
from bastion.scan.deps.options import DepsOptions
from bastion.scan.deps.scanner import collect_packages
from bastion.scan.walk import WalkOptions, walk

__all__ = ["Inventory", "SbomFormat", "cyclonedx_json", "inventory", "render", "spdx_json"]

TOOL = f"bastion-{__version__}"


@dataclass
class Inventory:
    """The packages of a tree and what could not be read."""

    name: str
    packages: list[Package] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Problems with files: unreadable, invalid or skipped manifests (the SBOM may miss packages)."""
    package_notes: list[str] = field(default_factory=list)
    """Packages listed without an exact version (unpinned, git or path sources), one line each."""


def inventory(path: Path, *, python_env: str | None = None, max_file_size: int = 50_000_000) -> Inventory:
    """Every package declared under ``path`` (a directory or one manifest), deduplicated by purl and file."""
    walked = walk(path, WalkOptions(max_file_size=max_file_size))
    root = walked.root
    context = ScanContext("deps")
    packages = collect_packages(
        ScanTarget(root, tuple(walked.files)), context, DepsOptions(python_env=python_env)
    )
    result = Inventory(path.resolve().name or "project")
    seen: set[tuple[str, str]] = set()
    for package in packages:
        key = (package.purl, package.path)
        if key not in seen:
            seen.add(key)
            result.packages.append(package)
    result.notes = [_notice_line(n) for n in (*walked.notices, *context.notices)]
    result.notes += [_skip_line(s, context.scanner) for s in context.skips]
    result.package_notes = [
        f"{p.path}:{p.line or '?'} {p.name}: {p.skip_reason}" for p in result.packages if p.skip_reason
    ]
    return result


def _without_file_name(path: str | None, message: str) -> str:
    """``message`` without a leading ``<file name>: `` that would repeat ``path`` (pom.xml: pom.xml: ...)."""
    if path:
        name = PurePosixPath(path).name
        if message.lower().startswith(f"{name.lower()}: "):
            return message[len(name) + 2 :]
    return message


def _notice_line(notice: Notice) -> str:
    message = _without_file_name(notice.path, notice.message)
    return f"{notice.path}: {message}" if notice.path else message


def _skip_line(skip: Skip, scanner: str) -> str:
    subject = skip.component.removeprefix(f"{scanner} ")
    return f"{subject}: {_without_file_name(subject, skip.reason)}"


def cyclonedx_json(
    inv: Inventory, now: datetime | None = None, vulns: VulnerabilityCheck | None = None
) -> str:
    """CycloneDX 1.6 JSON for ``inv``; one component per purl, manifests as properties; with
    ``vulns``, the components' known vulnerabilities (VEX) or a property saying none were checked."""
    document = cyclonedx_document(inv.name, inv.packages, now)
    if vulns is not None:
        add_vulnerabilities(document, vulns)
    return document_text(document)


_SPDX_ID = re.compile(r"[^A-Za-z0-9.-]+")


def spdx_json(inv: Inventory, now: datetime | None = None) -> str:
    """SPDX 2.3 JSON for ``inv``: a root package DESCRIBED by the document, DEPENDS_ON each package."""
    created = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    root_id = "SPDXRef-Root-" + (_SPDX_ID.sub("-", inv.name).strip("-") or "project")
    packages: list[dict[str, object]] = [
        {
            "SPDXID": root_id,
            "name": inv.name,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "primaryPackagePurpose": "APPLICATION",
        }
    ]
    relationships: list[dict[str, str]] = [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": root_id}
    ]
    ids: dict[str, str] = {}
    for package in inv.packages:
        if package.purl in ids:
            continue
        spdx_id = f"SPDXRef-Package-{len(ids) + 1}-" + _SPDX_ID.sub("-", package.name).strip("-")
        ids[package.purl] = spdx_id
        entry: dict[str, object] = {
            "SPDXID": spdx_id,
            "name": package.name,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "primaryPackagePurpose": "LIBRARY",
            "sourceInfo": f"declared in {where(package)}",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": package.purl,
                }
            ],
        }
        if package.version:
            entry["versionInfo"] = package.version
        packages.append(entry)
        kind = "DEPENDS_ON" if package.scope is None else "OPTIONAL_DEPENDENCY_OF"
        if kind == "DEPENDS_ON":
            relationships.append(
                {"spdxElementId": root_id, "relationshipType": kind, "relatedSpdxElement": spdx_id}
            )
        else:
            relationships.append(
                {"spdxElementId": spdx_id, "relationshipType": kind, "relatedSpdxElement": root_id}
            )
    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": inv.name,
        "documentNamespace": f"https://spdx.org/spdxdocs/{_SPDX_ID.sub('-', inv.name)}-{uuid.uuid4()}",
        "creationInfo": {"created": created, "creators": [f"Tool: {TOOL}"]},
        "documentDescribes": [root_id],
        "packages": packages,
        "relationships": relationships,
    }
    return json.dumps(document, indent=2) + "\n"


class SbomFormat(enum.Enum):
    """An output format of ``bastion sbom``."""

    CYCLONEDX = "cyclonedx"
    """CycloneDX 1.6 JSON."""
    SPDX = "spdx"
    """SPDX 2.3 JSON."""

    @classmethod
    def parse(cls, text: str) -> SbomFormat:
        """The format named ``text`` (any case); :class:`UsageError` naming the choices otherwise."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(f.value for f in cls)
            raise UsageError(f"--format: choose from {choices} (got {text!r})") from None


def render(
    inv: Inventory, fmt: SbomFormat, now: datetime | None = None, vulns: VulnerabilityCheck | None = None
) -> str:
    """``inv`` as an SBOM document in ``fmt``; ``vulns`` (CycloneDX only) adds the vulnerabilities.

    Raises :class:`UsageError` for ``vulns`` with a format that has no place for them."""
    match fmt:
        case SbomFormat.CYCLONEDX:
            return cyclonedx_json(inv, now, vulns)
        case SbomFormat.SPDX:
            if vulns is not None:
                raise UsageError("--vulns: only with --format cyclonedx (SPDX 2.3 has no vulnerabilities)")
            return spdx_json(inv, now)
        case _:
            assert_never(fmt)
