"""The deps scanner: manifests -> packages -> advisory matches -> findings.

Every package it cannot check (unpinned, git/path source, unknown version order) is a
visible skip record, never silently passed; ``bastion scan --strict`` fails on them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bastion.advisories import (
    AdvisoryDatabaseError,
    Matcher,
    UnsupportedVersion,
    VulnerabilityMatch,
    resolve_database,
    smallest_fix,
)
from bastion.advisories.records import canonical_ecosystem
from bastion.advisories.versions import SUPPORTED_ECOSYSTEMS
from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.results import NoticeKind
from bastion.rules import RuleInfo
from bastion.scan.base import ScanContext, ScannerDefaults, ScanTarget
from bastion.scan.deps.locked import drop_locked_ranges
from bastion.scan.deps.model import ManifestError, Package, ParseResult
from bastion.scan.deps.options import DepsOptions, parse_options
from bastion.scan.deps.parsers import Workspace, parser_for
from bastion.scan.deps.rules import UNPINNED_RULE, rule_families, vulnerability_rule_id
from bastion.scan.deps.sbom import read_sbom

__all__ = ["DepsScanner", "collect_packages", "family_rules"]

SCANNER = "deps"
_CWE = re.compile(r"CWE-(\d+)")


def collect_packages(target: ScanTarget, context: ScanContext, options: DepsOptions) -> list[Package]:
    """Every package declared by the target's manifests (or the SBOM / environment options)."""
    results: list[tuple[str, ParseResult]] = []
    if options.sbom is not None:
        sbom = Path(options.sbom)
        results.append((sbom.name, read_sbom(sbom)))
    else:
        workspace = Workspace(target.root, {f.relpath for f in target.files})
        for file in target.files:
            parser = parser_for(file.relpath, file.abspath)
            if parser is None:
                continue
            text = context.read_text(file)
            if text is None:
                continue
            try:
                results.append((file.relpath, parser.parse(text, file.relpath, workspace)))
            except ManifestError as exc:
                where = f" (line {exc.line})" if exc.line else ""
                context.skip_file(
                    file.relpath, f"{parser.prefix(file.relpath)}{exc}{where}; file not checked"
                )
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
                context.skip_file(
                    file.relpath, f"{parser.prefix(file.relpath)}unreadable ({exc}); file not checked"
                )
    if options.python_env is not None:
        from bastion.scan.deps.env import environment_packages

        results.append((f"env:{options.python_env}", environment_packages(options.python_env)))
    packages: list[Package] = []
    seen: set[tuple[str, str, str, str | None, int | None]] = set()
    for path, result in results:
        for message, line in result.notices:
            where = f" (line {line})" if line else ""
            context.notice(NoticeKind.SCANNER, f"{message}{where}", path)
        for package in result.packages:
            key = (package.path, package.ecosystem, package.name, package.version, package.line)
            if key not in seen and (options.include_dev or package.scope is None):
                seen.add(key)
                packages.append(package)
    return drop_locked_ranges(packages)


def family_rules() -> tuple[RuleInfo, ...]:
    """The deps rule families as :class:`RuleInfo`; a family id is a glob (``deps.CVE-*``) over the
    advisory ids it stands for, and a vulnerability's severity comes from its advisory."""
    return tuple(
        RuleInfo(
            id=family.pattern,
            title=family.title,
            severity=Severity.INFO if family.pattern == UNPINNED_RULE else None,
            scanner=SCANNER,
            cwe=family.cwe,
            fix=(
                "Pin the dependency in a lockfile"
                if family.pattern == UNPINNED_RULE
                else "Upgrade to a fixed version named by the advisory"
            ),
            description=family.description,
        )
        for family in rule_families()
    )


class DepsScanner(ScannerDefaults):
    """Known-vulnerable dependencies from lockfiles and manifests, matched against the OSV database."""

    name = SCANNER
    description = "vulnerable dependencies (OSV advisory database + CISA KEV)"

    def rules(self) -> Sequence[RuleInfo]:
        """The rule families (advisory ids are data: one rule per family, not per advisory)."""
        return family_rules()

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Validate ``[scanners.deps]`` before any scanning; :class:`ConfigError` if invalid."""
        parse_options(options)

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        """Yield one finding per (package, vulnerability); skips for packages that cannot be checked."""
        options = parse_options(context.options)
        packages = collect_packages(target, context, options)
        if not packages:
            return
        database = resolve_database(options.database)
        if not database.is_file():
            checkable = [p for p in packages if p.skip_reason is None and p.version is not None]
            for package in packages:
                if package.skip_reason is not None or package.version is None:
                    yield from _unversioned(package, context)
            if checkable:
                context.skip(
                    SCANNER,
                    f"no advisory database at {database}; run `bastion db update` "
                    f"(or `bastion db import PATH` offline); {len(checkable)} packages not checked",
                )
            return
        with Matcher(database, unrated=options.unrated) as matcher:
            covered = _stale_notice(matcher, database, options.stale_days, context)
            uncovered: dict[str, int] = {}
            for package in packages:
                ecosystem = canonical_ecosystem(package.ecosystem)
                versioned = package.skip_reason is None and package.version is not None
                if versioned and ecosystem in SUPPORTED_ECOSYSTEMS and ecosystem not in covered:
                    uncovered[ecosystem] = uncovered.get(ecosystem, 0) + 1
                    continue
                yield from _check(package, matcher, context)
            for ecosystem, count in sorted(uncovered.items()):
                context.skip(
                    f"deps {ecosystem}",
                    f"advisory database {database} holds no {ecosystem} advisories; {count} "
                    f"package{'s' if count != 1 else ''} not checked "
                    f"(run `bastion db update -e {ecosystem}`)",
                )


def _stale_notice(matcher: Matcher, database: Path, stale_days: int, context: ScanContext) -> frozenset[str]:
    """Notice an empty or stale database; returns the ecosystems it holds advisories for."""
    status = matcher.status()
    covered = frozenset(e.ecosystem for e in status.ecosystems if e.advisories > 0)
    oldest = status.oldest_update
    if oldest is None:
        context.notice(
            NoticeKind.SCANNER, f"advisory database {database} holds no advisories; run `bastion db update`"
        )
        return covered
    age = (datetime.now(UTC) - oldest).days
    if age > stale_days:
        context.notice(
            NoticeKind.SCANNER,
            f"advisory database is {age} days old (older than {stale_days}); run `bastion db update`",
        )
    return covered


def _skip(context: ScanContext, package: Package, reason: str) -> None:
    where = f"{package.path}:{package.line}" if package.line else package.path
    context.skip(f"deps {package.ecosystem}/{package.name} ({where})", reason)


def _unversioned(package: Package, context: ScanContext) -> Iterator[Finding]:
    """A package without a checkable version: an info finding (pyproject.toml) or a skip record."""
    reason = package.skip_reason or "no version"
    if package.path.endswith("pyproject.toml") and reason.startswith("version not pinned"):
        yield _unpinned(package, reason)
    else:
        _skip(context, package, reason)


def _check(package: Package, matcher: Matcher, context: ScanContext) -> Iterator[Finding]:
    if package.skip_reason is not None or package.version is None:
        yield from _unversioned(package, context)
        return
    if package.ecosystem not in SUPPORTED_ECOSYSTEMS:
        _skip(context, package, f"no version order known for ecosystem {package.ecosystem}")
        return
    try:
        matches = matcher.find(package.ecosystem, package.name, package.version)
    except UnsupportedVersion as exc:
        _skip(context, package, str(exc))
        return
    except AdvisoryDatabaseError:
        raise
    if not matches:
        return
    upgrade = smallest_fix(matcher, package.ecosystem, package.name, package.version, matches)
    for match in matches:
        yield _finding(package, match, upgrade)


def _location(package: Package) -> Location:
    return Location(path=package.path, start_line=package.line, end_line=package.line, purl=package.purl)


def _unpinned(package: Package, reason: str) -> Finding:
    location = _location(package)
    return Finding(
        rule_id=UNPINNED_RULE,
        scanner=SCANNER,
        title="Unpinned dependency",
        severity=Severity.INFO,
        location=location,
        message=f"{package.name}: {reason}; the version that gets installed is not checked here "
        "(commit a lockfile to have it checked)",
        fingerprint=make_fingerprint(UNPINNED_RULE, location, package.name),
        fix=f"Pin {package.name} in a lockfile (poetry.lock, uv.lock, pdm.lock or requirements.txt with ==)",
        metadata={"ecosystem": package.ecosystem, "package": package.name},
    )


def describe_match(package: Package, match: VulnerabilityMatch, upgrade: str | None) -> tuple[str, str]:
    """(message, fix) for one vulnerable package."""
    parts = [f"{package.name} {package.version} is affected by {match.id}"]
    if match.aliases:
        parts[0] += f" (also {', '.join(match.aliases)})"
    if match.summary:
        parts[0] += f": {match.summary}"
    parts.append(
        f"fixed in {', '.join(match.fixed_versions)}" if match.fixed_versions else "no fixed version is known"
    )
    if match.severity_source == "unrated":
        parts.append(
            f"no advisory rates it: counted as {match.severity.value} until reviewed "
            "([scanners.deps] unrated sets this level)"
        )
    elif match.severity_source == "cwe":
        parts.append(f"severity {match.severity.value} from its weakness ({', '.join(match.cwes)})")
    age = match.age_days()
    if age is not None and match.published is not None:
        parts.append(f"public for {age} days (published {match.published.isoformat()})")
    if match.kev:
        parts.append(match.kev_text())
    if upgrade:
        fix = f"Upgrade {package.name} to {upgrade}, the smallest version without any known vulnerability"
    elif match.fixed_versions:
        fix = (
            f"Upgrade {package.name} to one of {', '.join(match.fixed_versions)}; no single version fixes "
            "every known vulnerability of it"
        )
    else:
        fix = f"No fixed version of {package.name} is known: remove it or mitigate {match.id}"
    return "; ".join(parts), fix


def _finding(package: Package, match: VulnerabilityMatch, upgrade: str | None) -> Finding:
    rule_id = vulnerability_rule_id(match.id)
    location = _location(package)
    message, fix = describe_match(package, match, upgrade)
    record = match.records[0]
    kev = ", known exploited" if match.kev else ""
    return Finding(
        rule_id=rule_id,
        scanner=SCANNER,
        title=f"Vulnerable dependency: {package.name} {package.version} ({match.id}{kev})",
        severity=match.severity,
        location=location,
        message=message,
        fingerprint=make_fingerprint(
            rule_id, location, f"{package.ecosystem}:{package.name}@{package.version}"
        ),
        evidence=f"{package.name} {package.version}",
        cwe=tuple(int(m.group(1)) for c in match.cwes if (m := _CWE.fullmatch(c))),
        fix=fix,
        help_uri=f"https://osv.dev/vulnerability/{record}",
        metadata={
            "ecosystem": package.ecosystem,
            "package": package.name,
            "purl": package.purl,
            "installed_version": package.version,
            "fixed_versions": list(match.fixed_versions),
            "smallest_fix": upgrade,
            "advisory": match.id,
            "aliases": list(match.aliases),
            "records": list(match.records),
            "published": match.published.isoformat() if match.published else None,
            "age_days": match.age_days(),
            "kev": match.kev,
            "kev_date_added": match.kev_date_added,
            "kev_ransomware": match.kev_ransomware,
            "cvss_score": match.score,
            "cvss_vector": match.vector,
            "severity_source": match.severity_source,
            "direct": package.direct,
            "scope": package.scope,
        },
    )
