"""``--check``, ``--skip-check`` and ``--severity`` of ``bastion scan``: which findings a run reports.

A check is named the way its user knows it: a Bastion rule id (``iac.aws.s3-encryption``), a glob
over them (``iac.aws.*``, ``secrets.*``), a rule family's member (``deps.CVE-2024-3651``), or the
id another tool gives the same check: checkov and tfsec ids listed by IaC policies
(``CKV_AWS_20``), bandit test ids (``B602``), semgrep ids, ZAP plugin ids, and gitleaks rule ids
(``aws-access-token``, from ``gitleaks_ids.yml``). Foreign ids match case-insensitively. A name that
matches no rule at all is a usage error naming it: a typo must never pass as "no findings".

``--severity`` filters what is reported (``high,critical``, or ``medium+`` for medium and above);
``--fail-on`` still decides the gate over what is reported. Findings set aside by these flags are
counted in one notice, never dropped silently.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from bastion.errors import UsageError
from bastion.findings import Finding, Severity
from bastion.results import Notice, NoticeKind, ScanResult
from bastion.rules import RuleInfo

__all__ = ["CheckSelection", "gitleaks_ids", "parse_severities", "resolve_selection"]

GITLEAKS_IDS = "gitleaks_ids.yml"


@dataclass(frozen=True)
class CheckSelection:
    """What a run reports: rule ids or globs to keep and to leave out, and severities to keep."""

    checks: frozenset[str] = frozenset()
    """Bastion rule ids and globs a finding must match (empty: every rule)."""
    skips: frozenset[str] = frozenset()
    """Bastion rule ids and globs a finding must not match."""
    foreign_checks: frozenset[str] = frozenset()
    """``--check`` names as given, lower-cased, matched against a finding's own equivalent ids."""
    foreign_skips: frozenset[str] = frozenset()
    severities: frozenset[Severity] | None = None
    """Severities reported; None reports every severity."""

    @property
    def active(self) -> bool:
        """Whether the selection can leave anything out."""
        return bool(self.checks or self.skips or self.foreign_checks) or self.severities is not None

    def keeps(self, finding: Finding) -> bool:
        """Whether ``finding`` is reported under this selection."""
        if self.severities is not None and finding.severity not in self.severities:
            return False
        foreign = _finding_equivalents(finding)
        if _matches(finding.rule_id, self.skips) or foreign & self.foreign_skips:
            return False
        if not (self.checks or self.foreign_checks):
            return True
        return _matches(finding.rule_id, self.checks) or bool(foreign & self.foreign_checks)

    def apply(self, scan: ScanResult) -> int:
        """Drop the findings this selection leaves out of ``scan`` (in place), add one notice
        counting them, and return how many were left out."""
        if not self.active:
            return 0
        kept = [f for f in scan.findings if self.keeps(f)]
        dropped = len(scan.findings) - len(kept)
        scan.findings = kept
        if dropped:
            scan.notices.append(
                Notice(
                    NoticeKind.SCANNER,
                    f"{dropped} finding{'s' if dropped != 1 else ''} not reported: outside "
                    "--check/--skip-check/--severity",
                )
            )
        return dropped


def _matches(rule_id: str, patterns: Iterable[str]) -> bool:
    return any(rule_id == p or fnmatch.fnmatchcase(rule_id, p) for p in patterns)


def _finding_equivalents(finding: Finding) -> frozenset[str]:
    """The other tools' ids a finding carries itself (IaC's checkov/tfsec ids, an import's rule)."""
    value = finding.metadata.get("equivalent_ids")
    if not isinstance(value, list):
        return frozenset()
    return frozenset(str(item).lower() for item in value)


def parse_severities(text: str | None) -> frozenset[Severity] | None:
    """``high,critical`` → those two; ``medium+`` → medium and above; None → None.
    :class:`UsageError` naming a severity that does not exist."""
    if text is None:
        return None
    chosen: set[Severity] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        at_least = part.endswith("+")
        try:
            severity = Severity.parse(part.rstrip("+"))
        except ValueError as exc:
            raise UsageError(f"--severity: {exc}") from None
        chosen.update(s for s in Severity if s >= severity) if at_least else chosen.add(severity)
    if not chosen:
        raise UsageError("--severity: give at least one severity, e.g. high,critical or medium+")
    return frozenset(chosen)


@cache
def gitleaks_ids() -> Mapping[str, tuple[str, ...]]:
    """gitleaks rule id → the Bastion rule ids or globs of the same credential (package data)."""
    import yaml  # only when a gitleaks id is given: scans without one never load it

    text = resources.files("bastion.ci").joinpath(GITLEAKS_IDS).read_text(encoding="utf-8")
    data: Any = yaml.safe_load(text)
    table = data.get("gitleaks") if isinstance(data, dict) and data.get("version") == 1 else None
    if not isinstance(table, dict) or not all(
        isinstance(v, list) and all(isinstance(i, str) for i in v) for v in table.values()
    ):
        raise UsageError(f"{GITLEAKS_IDS}: expected version 1 and a gitleaks table of id lists")
    return {str(k).lower(): tuple(v) for k, v in table.items()}


def _foreign_ids(rule: RuleInfo) -> Iterable[str]:
    for ids in rule.equivalent_ids.values():
        yield from (part.strip().lower() for part in ids.split(",") if part.strip())


def _resolve(name: str, rules: Sequence[RuleInfo]) -> tuple[set[str], bool]:
    """The Bastion ids or globs ``name`` stands for, and whether it is a foreign id too."""
    lowered = name.lower()
    found: set[str] = set()
    for rule in rules:
        if fnmatch.fnmatchcase(rule.id, name) or ("*" in rule.id and fnmatch.fnmatchcase(name, rule.id)):
            found.add(name)  # a Bastion id or glob: kept as given (families match their members)
        if any(fnmatch.fnmatchcase(foreign, lowered) for foreign in _foreign_ids(rule)):
            found.add(rule.id)
    for gitleaks_id, targets in gitleaks_ids().items():
        if fnmatch.fnmatchcase(gitleaks_id, lowered):
            found.update(targets)
    if not found:
        return found, False
    return found, name not in found or bool(found - {name})


def resolve_selection(
    checks: Sequence[str], skips: Sequence[str], severity: str | None, rules: Sequence[RuleInfo]
) -> CheckSelection:
    """The selection the flags ask for, against the rule catalog ``rules``; :class:`UsageError`
    naming every check that matches no rule (``bastion rules list`` shows the ids)."""
    resolved: dict[str, tuple[set[str], set[str]]] = {
        "--check": (set(), set()),
        "--skip-check": (set(), set()),
    }
    unknown: list[str] = []
    for flag, names in (("--check", checks), ("--skip-check", skips)):
        ids, foreign = resolved[flag]
        for name in _names(names):
            found, is_foreign = _resolve(name, rules)
            if not found:
                unknown.append(f"{flag} {name}")
            ids.update(found)
            if is_foreign:
                foreign.add(name.lower())
    if unknown:
        raise UsageError(f"unknown check id: {', '.join(unknown)} (bastion rules list shows the ids)")
    return CheckSelection(
        checks=frozenset(resolved["--check"][0]),
        skips=frozenset(resolved["--skip-check"][0]),
        foreign_checks=frozenset(resolved["--check"][1]),
        foreign_skips=frozenset(resolved["--skip-check"][1]),
        severities=parse_severities(severity),
    )


def _names(values: Sequence[str]) -> list[str]:
    """Repeatable and comma-separated: ``--check a,b --check c``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
