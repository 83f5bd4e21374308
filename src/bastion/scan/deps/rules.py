"""The deps scanner's rule families: stable rule-id patterns for the compliance mapping."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UNPINNED_RULE", "RuleFamily", "rule_families", "vulnerability_rule_id"]

UNPINNED_RULE = "deps.unpinned-dependency"


@dataclass(frozen=True)
class RuleFamily:
    """A set of rule ids that share meaning (and controls)."""

    pattern: str
    """fnmatch-style pattern over rule ids."""
    title: str
    description: str
    cwe: tuple[int, ...] = ()


def vulnerability_rule_id(advisory_id: str) -> str:
    """``deps.<id>``, the id being the canonical one (CVE, else GHSA, else the record's own)."""
    return f"deps.{advisory_id}"


def rule_families() -> tuple[RuleFamily, ...]:
    """Every family of rule ids the deps scanner emits, most specific first."""
    return (
        RuleFamily(
            UNPINNED_RULE,
            "Unpinned dependency",
            "A pyproject.toml dependency with no exact version: builds are not reproducible "
            "and the checked version is unknown.",
            (1104,),
        ),
        RuleFamily(
            "deps.CVE-*",
            "Known vulnerable dependency (CVE)",
            "A dependency version affected by a published vulnerability with a CVE id.",
            (1395,),
        ),
        RuleFamily(
            "deps.GHSA-*",
            "Known vulnerable dependency (GitHub advisory without CVE)",
            "A dependency version affected by a GitHub-reviewed advisory that has no CVE id.",
            (1395,),
        ),
        RuleFamily(
            "deps.*",
            "Known vulnerable dependency (other advisory id)",
            "A dependency version affected by an OSV advisory known only by its database id "
            "(PYSEC, RUSTSEC, GO, ...).",
            (1395,),
        ),
    )
