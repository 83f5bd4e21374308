"""The ``catalog.*`` rule family, read from ``rules.yml`` (validated by pydantic) as :class:`RuleInfo`."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.findings import Severity
from bastion.rules import RuleInfo

__all__ = ["CatalogRules", "catalog_rules", "rule"]

NIST, CIS, ISO = "nist-800-53-r5", "cis-v8", "iso27001-2022"
"""Framework prefixes of ``Finding.controls``, as the compliance catalog names them."""


class _RuleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^catalog\.[a-z0-9-]+$")
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


def parse_rules(text: str, where: str = "bastion/catalog/rules.yml") -> dict[str, RuleInfo]:
    """The rules of a rules file's ``text``; ``ValueError`` naming ``where`` if it is broken."""
    try:
        document = _RuleFile.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ValueError(f"{where}: {exc.errors()[0]['msg']}") from None
    found: dict[str, RuleInfo] = {}
    for entry in document.rules:
        if entry.id in found:
            raise ValueError(f"{where}: rule {entry.id} listed twice")
        controls = (
            *(f"{NIST}:{c}" for c in entry.nist),
            *(f"{CIS}:{c}" for c in entry.cis),
            *(f"{ISO}:{c}" for c in entry.iso),
        )
        found[entry.id] = RuleInfo(
            id=entry.id,
            title=entry.title,
            severity=entry.severity,
            scanner="catalog",
            fix=entry.fix,
            controls=controls,
        )
    return found


@cache
def catalog_rules() -> dict[str, RuleInfo]:
    """Every catalog rule by id."""
    return parse_rules(resources.files("bastion.catalog").joinpath("rules.yml").read_text(encoding="utf-8"))


def rule(rule_id: str) -> RuleInfo:
    """The rule ``rule_id``; ``KeyError`` for an id the data does not define."""
    return catalog_rules()[rule_id]


class CatalogRules:
    """The catalog rule family as a :class:`~bastion.rules.RuleSource` (``bastion rules list``)."""

    name = "catalog"

    def rules(self) -> Sequence[RuleInfo]:
        """Every ``catalog.*`` rule."""
        return list(catalog_rules().values())
