"""From deps findings to an upgrade plan: one target version per vulnerable package.

The deps scanner has already computed, for each vulnerable package, the smallest version that
no known advisory affects (``metadata["smallest_fix"]``); the plan groups its findings by
package and manifest, and orders them the way a reviewer should read them: known-exploited
first, then by severity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bastion.findings import Finding, Severity

__all__ = ["Advisory", "Upgrade", "plan_upgrades"]


@dataclass(frozen=True)
class Advisory:
    """One vulnerability an upgrade removes."""

    id: str
    """Canonical id (the CVE when there is one)."""
    aliases: tuple[str, ...]
    severity: Severity
    kev: bool
    """In CISA's Known Exploited Vulnerabilities catalog."""
    fixed_versions: tuple[str, ...]
    url: str


@dataclass(frozen=True)
class Upgrade:
    """One vulnerable package, where it is declared, and the version that fixes all it has."""

    ecosystem: str
    """OSV spelling: PyPI, npm, Maven, Go, crates.io, RubyGems..."""
    package: str
    current: str
    target: str | None
    """Smallest version without any known vulnerability; None when no single version is known."""
    path: str
    """The file the scanner found the package in (a manifest or a lockfile), relative to the root."""
    line: int | None
    direct: bool | None
    advisories: tuple[Advisory, ...]

    @property
    def kev(self) -> bool:
        """Whether any advisory it fixes is known exploited."""
        return any(a.kev for a in self.advisories)

    @property
    def severity(self) -> Severity:
        """The worst severity among its advisories."""
        return max(a.severity for a in self.advisories)

    def sort_key(self) -> tuple[int, int, str, str]:
        """Known-exploited first, then worst severity, then by name and file."""
        return (0 if self.kev else 1, -self.severity.rank, self.package.lower(), self.path)


def plan_upgrades(findings: Iterable[Finding]) -> list[Upgrade]:
    """One :class:`Upgrade` per (file, ecosystem, package, version) among ``findings``'s
    vulnerable-dependency findings (other findings are ignored)."""
    groups: dict[tuple[str, str, str, str], list[Finding]] = {}
    for finding in findings:
        meta = finding.metadata
        if finding.scanner != "deps" or not meta.get("advisory") or not finding.location.path:
            continue
        key = (
            finding.location.path,
            str(meta["ecosystem"]),
            str(meta["package"]),
            str(meta["installed_version"]),
        )
        groups.setdefault(key, []).append(finding)
    upgrades = []
    for (path, ecosystem, package, current), group in groups.items():
        targets = {f.metadata.get("smallest_fix") for f in group}
        target = next(iter(targets)) if len(targets) == 1 else None
        advisories = tuple(
            Advisory(
                id=str(f.metadata["advisory"]),
                aliases=tuple(str(a) for a in f.metadata.get("aliases", ())),
                severity=f.severity,
                kev=f.metadata.get("kev") is True,
                fixed_versions=tuple(str(v) for v in f.metadata.get("fixed_versions", ())),
                url=f.help_uri,
            )
            for f in sorted(group, key=lambda f: (-f.severity.rank, str(f.metadata["advisory"])))
        )
        direct = group[0].metadata.get("direct")
        upgrades.append(
            Upgrade(
                ecosystem=ecosystem,
                package=package,
                current=current,
                target=str(target) if target else None,
                path=path,
                line=group[0].location.start_line,
                direct=direct if isinstance(direct, bool) else None,
                advisories=advisories,
            )
        )
    return sorted(upgrades, key=Upgrade.sort_key)
