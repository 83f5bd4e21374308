"""The coverage gate's rules, read from ``rules.yml`` (validated by pydantic) as :class:`RuleInfo`."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.findings import Severity
from bastion.rules import RuleInfo

__all__ = ["coverage_rules", "rule"]

NIST, CIS, ISO = "nist-800-53-r5", "cis-v8", "iso27001-2022"
"""Framework prefixes of ``Finding.controls``, as the compliance catalog names them."""


class _RuleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^coverage\.[a-z0-9-]+$")
    title: str = Field(min_length=5)
    severity: Severity
    nist: list[str] = Field(min_length=1)
    cis: list[str] = Field(min_length=1)
    iso: list[str] = Field(min_length=1)
    fix: str = Field(min_length=10)

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        return Severity.parse(value) if isinstance(value, str) else value


class _RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    rules: list[_RuleEntry] = Field(min_length=1)


@cache
def coverage_rules() -> dict[str, RuleInfo]:
    """Every coverage rule by id; ``ValueError`` naming the file if the shipped data is broken."""
    text = resources.files("bastion.coverage").joinpath("rules.yml").read_text(encoding="utf-8")
    try:
        document = _RuleFile.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ValueError(f"bastion/coverage/rules.yml: {exc.errors()[0]['msg']}") from None
    found: dict[str, RuleInfo] = {}
    for entry in document.rules:
        if entry.id in found:
            raise ValueError(f"bastion/coverage/rules.yml: rule {entry.id} listed twice")
        controls = (
            *(f"{NIST}:{c}" for c in entry.nist),
            *(f"{CIS}:{c}" for c in entry.cis),
            *(f"{ISO}:{c}" for c in entry.iso),
        )
        found[entry.id] = RuleInfo(
            id=entry.id,
            title=entry.title,
            severity=entry.severity,
            scanner="coverage",
            fix=entry.fix,
            controls=controls,
        )
    return found


def rule(rule_id: str) -> RuleInfo:
    """The rule ``rule_id``; ``KeyError`` for an id the data does not define."""
    return coverage_rules()[rule_id]
