"""Every built-in rule id of every installed scanner, read from the scanner registry (each
scanner's ``rules()``, the URL scanners' too) and the gate's own rules, so the mapping test and the
posture see new rules as soon as a scanner ships them."""

from __future__ import annotations

from functools import cache

from bastion.gate import GATE_RULES
from bastion.scan.registry import Registry, rule_catalog

__all__ = ["known_rules"]


@cache
def known_rules() -> dict[str, tuple[str, ...]]:
    """Scanner name -> its rule ids (deps: its rule-id families, ``deps.CVE-*``); sources that
    list no rules are left out."""
    catalog = rule_catalog(Registry.from_entry_points())
    found = {name: tuple(rule.id for rule in rules) for name, rules in catalog.by_source.items()}
    found["gate"] = tuple(rule.id for rule in GATE_RULES)
    return {name: ids for name, ids in found.items() if ids}
