"""``bastion catalog scan``: a repository's uses of catalog products judged against the catalog,
as ``catalog.*`` findings with the upgrade to make."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bastion.catalog.backend import CatalogReader
from bastion.catalog.model import ProductKind, ProductSpec, State, VersionRecord, latest_approved
from bastion.catalog.rules import rule
from bastion.catalog.sources import HandWritten, Usage, UseKind, exact_version, find_usage, normalise_source
from bastion.findings import Finding, JSONValue, Location, Severity, make_fingerprint

__all__ = ["CatalogIndex", "ConsumerReport", "scan_consumer"]


@dataclass(frozen=True)
class _Entry:
    spec: ProductSpec
    versions: dict[str, VersionRecord]

    def latest(self) -> VersionRecord | None:
        """The newest approved, compliant, released version."""
        return latest_approved(self.versions.values())


@dataclass
class CatalogIndex:
    """Products by the key consumers reference them with, and by the resource types they cover;
    built once and shared by every repository scanned."""

    by_key: dict[str, _Entry] = field(default_factory=dict)
    prefixes: list[tuple[str, _Entry]] = field(default_factory=list)
    """CloudFormation template URL prefixes (the version is the next path segment)."""
    covers: dict[str, _Entry] = field(default_factory=dict)

    @classmethod
    def build(cls, backend: CatalogReader) -> CatalogIndex:
        """Read every product and version of ``backend`` once."""
        index = cls()
        for spec in backend.products():
            entry = _Entry(spec, {r.version: r for r in backend.versions(spec.name)})
            key, _ = normalise_source(spec.source)
            if spec.kind in {ProductKind.CLOUDFORMATION, ProductKind.ARM}:
                index.prefixes.append((key.rstrip("/") + "/", entry))
            else:
                index.by_key[key] = entry
            if entry.latest() is not None:
                for kind in spec.covers:
                    index.covers.setdefault(kind, entry)
        index.prefixes.sort(key=lambda item: -len(item[0]))
        return index

    def match(self, use: Usage) -> tuple[_Entry, str | None] | None:
        """The product ``use`` references and the exact version it asks for, or None."""
        entry = self.by_key.get(use.key)
        if entry is not None:
            return entry, use.version
        if use.kind is UseKind.CFN_NESTED_STACK:
            for prefix, candidate in self.prefixes:
                if use.key.startswith(prefix):
                    segment = use.key[len(prefix) :].split("/", 1)[0]
                    return candidate, exact_version(segment)
        return None


@dataclass(frozen=True)
class ConsumerReport:
    """What one repository uses and the findings about it."""

    findings: list[Finding]
    uses: list[tuple[Usage, str, str | None]]
    """Each matched use: the reference, the product name, the version (None when unpinned)."""
    skipped: list[str]
    files: int = 0


def _finding(
    rule_id: str,
    where: Usage | HandWritten,
    message: str,
    fix: str,
    content: str,
    meta: dict[str, JSONValue],
    line: int | None = None,
    path: str = "",
) -> Finding:
    info = rule(rule_id)
    at = line or where.line
    location = Location(path=path or where.path, start_line=at, end_line=at)
    return Finding(
        rule_id=rule_id,
        scanner="catalog",
        title=info.title,
        severity=info.severity or Severity.LOW,  # rules.yml requires one on every rule
        location=location,
        message=message,
        fingerprint=make_fingerprint(rule_id, location, content),
        controls=info.controls,
        fix=fix,
        metadata=meta,
    )


def _upgrade(entry: _Entry, record: VersionRecord | None) -> str:
    target = record.successor if record is not None and record.successor else None
    if target is None:
        latest = entry.latest()
        target = latest.version if latest is not None else None
    if target is None:
        return "no approved, compliant version exists yet; ask the owner " + entry.spec.owner
    return f"upgrade to {entry.spec.name} {target}"


def _constraints(
    use: Usage, entry: _Entry, record: VersionRecord | None, meta: dict[str, JSONValue]
) -> list[Finding]:
    """Literal inputs that the product's constraints, or the used version's template, do not allow."""
    found = []
    for name, value, line in use.inputs:
        checks = [entry.spec.constraints.get(name), record.constraints.get(name) if record else None]
        problem = next((p for c in checks if c is not None and (p := c.violation(value))), None)
        if problem is None:
            continue
        message = f"{entry.spec.name} input {name}: {problem}"
        fix = f"Give {name} a value the product {entry.spec.name} allows."
        content = f"{entry.spec.name}|{name}|{value}"
        found.append(
            _finding("catalog.input-not-allowed", use, message, fix, content, meta, line, use.inputs_path)
        )
    return found


def _judge(use: Usage, entry: _Entry, version: str | None, today: date) -> list[Finding]:
    name = entry.spec.name
    meta: dict[str, JSONValue] = {
        "product": name,
        "version": version,
        "source": use.source,
        "kind": use.kind.value,
    }
    record = entry.versions.get(version) if version is not None else None
    found = _constraints(use, entry, record, meta)
    if version is None:
        asked = f" ({use.requested})" if use.requested else ""
        upgrade = _upgrade(entry, None)
        message = f"{use.source} ({name}) is not pinned to an exact version{asked}; {upgrade}"
        fix = f"Pin {upgrade.removeprefix('upgrade to ')} exactly."
        return [
            *found,
            _finding("catalog.version-unpinned", use, message, fix, f"{name}|{use.requested}", meta),
        ]
    upgrade = _upgrade(entry, record)
    states: list[tuple[str, str]] = []
    if record is None:
        states.append(("catalog.version-unknown", "is not in the catalog"))
    elif record.state is State.RETIRED:
        states.append(("catalog.version-retired", "is retired"))
    elif record.state is State.DEPRECATED:
        until = record.deprecated_on
        when = ""
        if until is not None:
            when = f", support ended {until}" if until < today else f", supported until {until}"
        states.append(("catalog.version-deprecated", f"is deprecated{when}"))
    elif record.state is State.DRAFT:
        states.append(("catalog.version-unapproved", "is a draft, never approved"))
    if record is not None and not record.compliant and record.state is not State.RETIRED:
        why = record.noncompliant_reasons[0] if record.noncompliant_reasons else "fails current policies"
        states.append(("catalog.version-non-compliant", f"is non-compliant ({why})"))
    content = f"{name}@{version}"
    for rule_id, what in states:
        found.append(_finding(rule_id, use, f"{name} {version} {what}; {upgrade}", upgrade, content, meta))
    return found


def scan_consumer(root: Path, index: CatalogIndex, today: date) -> ConsumerReport:
    """Judge every catalog product use under ``root`` and flag hand-written resources an approved
    product provides. Paths in findings are relative to ``root``."""
    uses, resources, skipped, files = find_usage(root)
    findings: list[Finding] = []
    matched: list[tuple[Usage, str, str | None]] = []
    for use in uses:
        hit = index.match(use)
        if hit is None:
            continue
        product, version = hit
        matched.append((use, product.spec.name, version))
        findings.extend(_judge(use, product, version, today))
    for resource in resources:
        provider = index.covers.get(resource.type)
        if provider is None:
            continue
        entry = provider
        latest = entry.latest()
        version = latest.version if latest is not None else "?"
        message = (
            f"{resource.type}.{resource.name} is written by hand; the catalog's approved product "
            f"{entry.spec.name} {version} provides it ({entry.spec.source})"
        )
        fix = f"Use {entry.spec.name} {version} from {entry.spec.source}."
        meta: dict[str, JSONValue] = {
            "product": entry.spec.name,
            "resource": f"{resource.type}.{resource.name}",
        }
        findings.append(
            _finding("catalog.use-product", resource, message, fix, f"{resource.type}.{resource.name}", meta)
        )
    findings.sort(key=lambda f: (f.location.path or "", f.location.start_line or 0, f.rule_id))
    return ConsumerReport(findings, matched, skipped, files)
