"""The DAST rules as data: ``rules.toml`` beside this module, loaded once.

Each rule has a stable id (``dast.<name>``), a title, a severity, a CWE, the OWASP ZAP
plugin id it corresponds to (so ZAP baseline configs carry over), its kind (passive or
active), a description and a fix. :func:`list_rules` is the public listing other parts of
Bastion (framework mappings, docs) read.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bastion.findings import Severity

__all__ = ["RULES_FILE", "DastRule", "get_rule", "list_rules", "rules_by_zap_id"]

RULES_FILE = Path(__file__).with_name("rules.toml")
KINDS = ("passive", "active")


@dataclass(frozen=True)
class DastRule:
    """One DAST rule."""

    id: str
    title: str
    severity: Severity
    cwe: int
    zap_id: int | None
    kind: str
    description: str
    fix: str


@cache
def list_rules() -> tuple[DastRule, ...]:
    """Every DAST rule, in file order; raises ``ValueError`` if the packaged file is malformed."""
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    rules: list[DastRule] = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("rule", [])):
        rule_id = str(raw["id"])
        if not rule_id.startswith("dast.") or rule_id in seen:
            raise ValueError(f"{RULES_FILE}: rule[{index}] id {rule_id!r} is not a unique dast.* id")
        if raw["kind"] not in KINDS:
            raise ValueError(f"{RULES_FILE}: rule {rule_id}: kind must be one of {KINDS}")
        seen.add(rule_id)
        zap = raw.get("zap")
        rules.append(
            DastRule(
                id=rule_id,
                title=str(raw["title"]),
                severity=Severity.parse(str(raw["severity"])),
                cwe=int(raw["cwe"]),
                zap_id=int(zap) if zap is not None else None,
                kind=str(raw["kind"]),
                description=str(raw["description"]),
                fix=str(raw["fix"]),
            )
        )
    return tuple(rules)


def get_rule(rule_id: str) -> DastRule:
    """The rule with ``rule_id``; ``KeyError`` if there is none."""
    for rule in list_rules():
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


def rules_by_zap_id() -> dict[int, list[DastRule]]:
    """Bastion rules per ZAP plugin id."""
    mapping: dict[int, list[DastRule]] = {}
    for rule in list_rules():
        if rule.zap_id is not None:
            mapping.setdefault(rule.zap_id, []).append(rule)
    return mapping
