"""CycloneDX JSON with ``vulnerabilities`` (a VEX document, or a BOM carrying them).

``components`` are the inventory. Each vulnerability becomes one finding per component it
``affects`` (a ``bom-ref`` of the document, or a BOM-Link whose fragment is the purl). Its VEX
``analysis.state`` decides what it is: ``exploitable``, ``in_triage`` or none are findings;
``not_affected``, ``false_positive`` and ``resolved`` are kept as suppressed, with the
justification and detail as the reason. Severity is the highest of the ``ratings``.
"""

from __future__ import annotations

from typing import Any

from bastion.findings import Location, Severity
from bastion.imports.build import Builder, cwe_ids
from bastion.imports.fields import arr, get, items, num, obj, text, texts
from bastion.imports.model import Component, DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.imports.tools.vulns import package_metadata

__all__ = ["PARSER"]

_SET_ASIDE = frozenset({"not_affected", "false_positive", "resolved", "resolved_with_pedigree"})


def _detect(doc: Document) -> bool:
    return (
        doc.kind is DocKind.JSON and isinstance(doc.data, dict) and doc.data.get("bomFormat") == "CycloneDX"
    )


def _components(build: Builder, items: list[Any], refs: dict[str, dict[str, Any]]) -> None:
    for item in items:
        item = obj(item)
        ref = text(item.get("bom-ref"))
        if ref:
            refs[ref] = item
        licenses = [
            text(get(x, "license", "id")) or text(get(x, "license", "name")) or text(get(x, "expression"))
            for x in arr(item.get("licenses"))
        ]
        build.component(
            Component(
                text(item.get("name")),
                text(item.get("version")),
                text(item.get("purl")),
                tuple(x for x in licenses if x),
            )
        )
        _components(build, arr(item.get("components")), refs)


def _parse(doc: Document, build: Builder) -> None:
    refs: dict[str, dict[str, Any]] = {}
    _components(build, items(doc.data.get("components"), "components"), refs)
    for vulnerability in items(doc.data.get("vulnerabilities"), "vulnerabilities"):
        _vulnerability(build, obj(vulnerability), refs)


def _severity(build: Builder, ratings: list[Any]) -> tuple[Severity, str]:
    rated = [build.severity(get(r, "severity"), num(get(r, "score"))) for r in ratings]
    known = [r for r in rated if r[1] in ("tool", "cvss")]
    return max(known, key=lambda r: r[0].rank) if known else build.severity(None)


def _vulnerability(build: Builder, v: dict[str, Any], refs: dict[str, dict[str, Any]]) -> None:
    advisory = text(v["id"])
    analysis = obj(v.get("analysis"))
    state = text(analysis.get("state"))
    reason = None
    if state in _SET_ASIDE:
        reason = "; ".join(
            p
            for p in (f"VEX {state}", text(analysis.get("justification")), text(analysis.get("detail")))
            if p
        )
    scores = [s for r in arr(v.get("ratings")) if (s := num(get(r, "score"))) is not None]
    aliases = [advisory, *(text(get(r, "id")) for r in arr(v.get("references")) if text(get(r, "id")))]
    for affected in arr(v.get("affects")) or [{}]:
        ref = text(get(affected, "ref"))
        component = refs.get(ref, {})
        purl = text(component.get("purl")) or (
            ref.split("#", 1)[1] if "#pkg:" in ref else ref if ref.startswith("pkg:") else ""
        )
        name = text(component.get("name")) or purl.split("/")[-1].split("@")[0].split("?")[0]
        version = text(component.get("version")) or (
            purl.split("@", 1)[1].split("?")[0] if "@" in purl else ""
        )
        build.add(
            "vulnerability",
            advisory,
            title=f"Vulnerable dependency: {name} {version} ({advisory})",
            severity=_severity(build, arr(v.get("ratings"))),
            location=Location(purl=purl or None),
            message=f"{name} {version} is affected by {advisory}: {text(v.get('description'))}".strip(),
            content=f"{purl or ref}",
            evidence=f"{name} {version}".strip(),
            cwe=cwe_ids(arr(v.get("cwes"))),
            fix=text(v.get("recommendation")),
            help_uri=text(get(v, "source", "url"))
            or next(iter(texts([get(a, "url") for a in arr(v.get("advisories"))])), ""),
            metadata=package_metadata(
                purl.split("/")[0].removeprefix("pkg:") if purl else "",
                name,
                version,
                purl,
                advisory,
                aliases,
                [],
                cvss_score=max(scores) if scores else None,
                vex_state=state or None,
                vex_response=texts(analysis.get("response")) or None,
            ),
            suppressed=reason,
        )


PARSER = ToolParser("cyclonedx", _detect, _parse)
