"""Trivy JSON (``trivy fs|image|config|k8s --format json``): vulnerabilities, misconfigurations
and secrets per target.

Schema 2 (``SchemaVersion`` with ``Results``), the legacy list of results, and the Kubernetes
reports (``ClusterName`` with ``Resources[].Results``, or before Trivy 0.38 with
``Vulnerabilities[].Results`` and ``Misconfigurations[].Results``) are read alike; a finding in a
cluster names its resource (``default/Deployment/redis``) in ``metadata["resource"]`` and its
fingerprint. Only failed misconfigurations are findings;
a vulnerability Trivy marks ``not_affected`` is kept as suppressed with that reason. Trivy
masks the secrets it reports (``*****``); the builder scrubs the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bastion.findings import Location
from bastion.imports.build import Builder, cwe_ids
from bastion.imports.equivalents import iac_equivalent
from bastion.imports.fields import arr, get, items, num, obj, path_of, pos_int, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.imports.tools.vulns import package_fix, package_message, package_metadata
from bastion.scan.sast.common import evidence_text, redact_literals

__all__ = ["PARSER"]

_CLUSTER_KEYS = ("Resources", "Vulnerabilities", "Misconfigurations")
"""Lists of Kubernetes resources, each with its own ``Results``, in ``trivy k8s`` reports."""
_SET_ASIDE = {"not_affected": "Trivy: the vendor states the package is not affected"}


def _detect(doc: Document) -> bool:
    if doc.kind is not DocKind.JSON:
        return False
    data = doc.data
    if isinstance(data, dict):
        if "ClusterName" in data:  # trivy k8s: Resources, or (before 0.38) Vulnerabilities/Misconfigurations
            return any(key in data for key in _CLUSTER_KEYS)
        return "SchemaVersion" in data and ("Results" in data or "Resources" in data)
    first = data[0] if isinstance(data, list) and data else None
    return isinstance(first, dict) and "Target" in first and "Vulnerabilities" in first


def _results(data: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """Every result with the Kubernetes resource it belongs to ("" outside k8s reports)."""
    if isinstance(data, list):
        yield from ((obj(r), "") for r in items(data, "results"))
        return
    yield from ((obj(r), "") for r in items(data.get("Results"), "Results"))
    for key in _CLUSTER_KEYS:
        for resource in items(data.get(key), key):
            parts = (
                text(get(resource, "Namespace")),
                text(get(resource, "Kind")),
                text(get(resource, "Name")),
            )
            name = "/".join(part for part in parts if part)
            yield from ((obj(r), name) for r in items(get(resource, "Results"), f"{key}[].Results"))


def _parse(doc: Document, build: Builder) -> None:
    data = doc.data
    if isinstance(data, dict):
        build.version = text(get(data, "Trivy", "Version"))
        if text(data.get("ClusterName")):
            build.notice(f"Kubernetes cluster {text(data.get('ClusterName'))}")
    for result, resource in _results(data):
        target = text(result.get("Target"))
        for vulnerability in items(result.get("Vulnerabilities"), "Vulnerabilities"):
            _vulnerability(build, obj(vulnerability), result, target, resource)
        for misconfiguration in items(result.get("Misconfigurations"), "Misconfigurations"):
            _misconfiguration(build, obj(misconfiguration), target, resource)
        for secret in items(result.get("Secrets"), "Secrets"):
            _secret(build, obj(secret), target)


def _score(vulnerability: dict[str, Any]) -> float | None:
    scores = [
        score
        for entry in obj(vulnerability.get("CVSS")).values()
        for score in (num(get(entry, "V3Score")), num(get(entry, "V40Score")))
        if score is not None
    ]
    return max(scores) if scores else None


def _purl(build: Builder, kind: str, name: str, version: str, lang: bool) -> str:
    """A package URL for a result Trivy gave none (``pkg:deb/debian/apt@1.8.2.1``)."""
    purl_type = build.spec.purl_types.get(kind)
    if not purl_type or not name or not version:
        return ""
    return f"pkg:{purl_type}/{name}@{version}" if lang else f"pkg:{purl_type}/{kind}/{name}@{version}"


def _vulnerability(
    build: Builder, v: dict[str, Any], result: dict[str, Any], target: str, resource: str
) -> None:
    advisory = text(v["VulnerabilityID"])
    name, version = text(v.get("PkgName")), text(v.get("InstalledVersion"))
    lang = text(result.get("Class")) == "lang-pkgs"
    purl = text(get(v, "PkgIdentifier", "PURL")) or _purl(
        build, text(result.get("Type")), name, version, lang
    )
    location = Location(
        path=path_of(v.get("PkgPath")) or (path_of(target) if lang else None), purl=purl or None
    )
    fixed = [f.strip() for f in text(v.get("FixedVersion")).split(",") if f.strip()]
    aliases = [advisory, *texts(v.get("VendorIDs"))]
    score = _score(v)
    status = text(v.get("Status"))
    build.add(
        "vulnerability",
        advisory,
        title=f"Vulnerable dependency: {name} {version} ({advisory})",
        severity=build.severity(v.get("Severity"), score),
        location=location,
        message=package_message(name, version, advisory, aliases, text(v.get("Title"))),
        content=f"{target}\x1f{resource}\x1f{name}@{version}",
        evidence=f"{name} {version}",
        cwe=cwe_ids(arr(v.get("CweIDs"))),
        fix=package_fix(name, fixed),
        help_uri=text(v.get("PrimaryURL")),
        metadata=package_metadata(
            text(result.get("Type")),
            name,
            version,
            purl,
            advisory,
            aliases,
            fixed,
            target=target,
            resource=resource or None,
            cvss_score=score,
            status=status or None,
            published=text(v.get("PublishedDate")) or None,
        ),
        suppressed=_SET_ASIDE.get(status),
    )


def _misconfiguration(build: Builder, m: dict[str, Any], target: str, resource: str) -> None:
    status = text(m.get("Status")).upper()
    if status and status != "FAIL":
        return
    check = text(m["ID"])
    cause = obj(m.get("CauseMetadata"))
    equivalent = iac_equivalent(check, text(m.get("AVDID")), text(m.get("LongID")))
    location = Location(
        path=path_of(target),
        start_line=pos_int(cause.get("StartLine")),
        end_line=pos_int(cause.get("EndLine")),
    )
    title = text(m.get("Title")) or check
    lines = [obj(line) for line in arr(get(cause, "Code", "Lines"))]
    code = [text(line.get("Content")) for line in lines if line.get("IsCause") is True]
    build.add(
        "misconfiguration",
        check,
        title=title,
        severity=build.severity(m.get("Severity")),
        location=location,
        message=text(m.get("Message")) or text(m.get("Description")),
        content=f"{resource}\x1f{text(cause.get('Resource'))}\x1f{text(m.get('Message'))}",
        evidence=redact_literals(evidence_text(code)),
        fix=text(m.get("Resolution")),
        help_uri=text(m.get("PrimaryURL")),
        metadata={"resource": text(cause.get("Resource")) or resource or None, "type": text(m.get("Type"))},
        equivalent=equivalent,
    )


def _secret(build: Builder, s: dict[str, Any], target: str) -> None:
    rule = text(s["RuleID"])
    match = text(s.get("Match"))
    location = Location(
        path=path_of(target), start_line=pos_int(s.get("StartLine")), end_line=pos_int(s.get("EndLine"))
    )
    title = text(s.get("Title")) or rule
    build.add(
        "secret",
        rule,
        title=title,
        severity=build.severity(s.get("Severity")),
        location=location,
        message=f"{title} found by Trivy rule {rule}",
        content=match,
        evidence=match,
        fix="Revoke and rotate the secret, then remove it from the code and its history.",
        metadata={"secret_category": text(s.get("Category"))} if s.get("Category") else None,
    )


PARSER = ToolParser("trivy", _detect, _parse)
