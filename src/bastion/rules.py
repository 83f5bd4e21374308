"""The one rule contract: what every rule-bearing thing says about each of its rules.

Secrets rules, IaC policies, DAST rules, bandit and semgrep checks, dependency rule families
(and next: Sigma rules, identity detections, catalog and coverage rules) each describe their
rules as :class:`RuleInfo`. ``bastion rules list``, the compliance mapping and the server read
this one shape, so a new rule source is one more ``rules()`` method, not a new reader.
Ground floor: imports only :mod:`bastion.findings`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from bastion.findings import Severity

__all__ = ["RuleInfo", "RuleLevel", "RuleSource", "sort_rules"]


class RuleLevel(enum.Enum):
    """What a rule's findings do to the run, whatever their severity (a rules file sets it per rule)."""

    IGNORE = "IGNORE"
    """Set aside: counted as suppressed, never reported."""
    INFO = "INFO"
    """Reported, never blocks."""
    WARN = "WARN"
    """Reported, never blocks."""
    FAIL = "FAIL"
    """Blocks the release whatever ``--fail-on`` says."""


@runtime_checkable
class RuleSource(Protocol):
    """Anything that lists rules: every scanner, and rule-bearing parts that are no tree scanner
    (DAST of a URL; next, Sigma rules and identity detections)."""

    name: str

    def rules(self) -> Sequence[RuleInfo]:
        """Every rule it can report."""
        ...


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(sorted((mapping or {}).items())))


@dataclass(frozen=True)
class RuleInfo:
    """One rule as every part of Bastion sees it; immutable and hashable by ``id``."""

    id: str
    """Namespaced and unique: ``secrets.aws-access-key``, ``iac.aws.s3-bucket-encryption``,
    ``sast.bandit.B602``, ``dast.csp-missing``. A glob (``deps.*``) names a rule family whose
    members are created from data (advisory ids)."""
    title: str
    """One line saying what the rule finds."""
    severity: Severity | None = None
    """The severity its findings carry; None when it depends on the finding (an advisory's CVSS
    score, a semgrep rule that sets its own)."""
    scanner: str = ""
    """The scanner that runs the rule (``secrets``, ``iac``, ``sast``, ``dast``, ``deps``)."""
    cwe: tuple[int, ...] = ()
    """CWE ids of the weakness, most specific first."""
    attack: tuple[str, ...] = ()
    """MITRE ATT&CK technique ids (``T1552.001``)."""
    fix: str = ""
    """How to fix what the rule finds, in words."""
    help_uri: str = ""
    """A page documenting the rule, or ``""``."""
    controls: tuple[str, ...] = ()
    """Framework references the rule evidences: ``nist-800-53-r5:SC-28``, ``cis-v8:3.11``."""
    equivalent_ids: Mapping[str, str] = field(default_factory=_frozen)
    """The same check in other tools, by tool: ``{"checkov": "CKV_AWS_20", "gitleaks": "aws-access-token"}``;
    inline skips written for those tools are honoured on this rule's findings."""
    description: str = ""
    """Longer explanation, when the source has one."""

    def __post_init__(self) -> None:
        """Normalise containers so equal rules compare and hash equal, whatever was passed."""
        object.__setattr__(self, "cwe", tuple(self.cwe))
        object.__setattr__(self, "attack", tuple(self.attack))
        object.__setattr__(self, "controls", tuple(self.controls))
        object.__setattr__(self, "equivalent_ids", _frozen(self.equivalent_ids))

    def __hash__(self) -> int:
        """Rules are identified by their id."""
        return hash(self.id)

    @property
    def cwe_ids(self) -> list[str]:
        """CWE ids written ``CWE-79``."""
        return [f"CWE-{number}" for number in self.cwe]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with every field, keys in declaration order."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.value if self.severity is not None else None,
            "scanner": self.scanner,
            "cwe": list(self.cwe),
            "attack": list(self.attack),
            "fix": self.fix,
            "help_uri": self.help_uri,
            "controls": list(self.controls),
            "equivalent_ids": dict(self.equivalent_ids),
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleInfo:
        """The inverse of :meth:`to_dict`; raises ``KeyError``/``ValueError`` on a malformed entry."""
        severity = data.get("severity")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            severity=Severity.parse(str(severity)) if severity is not None else None,
            scanner=str(data.get("scanner", "")),
            cwe=tuple(int(c) for c in data.get("cwe", ())),
            attack=tuple(str(a) for a in data.get("attack", ())),
            fix=str(data.get("fix", "")),
            help_uri=str(data.get("help_uri", "")),
            controls=tuple(str(c) for c in data.get("controls", ())),
            equivalent_ids={str(k): str(v) for k, v in dict(data.get("equivalent_ids", {})).items()},
            description=str(data.get("description", "")),
        )


def sort_rules(rules: Iterable[RuleInfo]) -> list[RuleInfo]:
    """Rules ordered by id, the first of any repeated id kept."""
    unique: dict[str, RuleInfo] = {}
    for rule in rules:
        unique.setdefault(rule.id, rule)
    return [unique[key] for key in sorted(unique)]
