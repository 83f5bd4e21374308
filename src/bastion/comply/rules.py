"""Every built-in rule id of every installed scanner, asked of each scanner package itself, so
the mapping test and the posture see new rules as soon as a scanner ships them."""

from __future__ import annotations

import importlib.util
import tomllib
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["known_rules"]


def _secrets() -> list[str]:
    from bastion.scan.secrets.generic import GENERIC_RULES
    from bastion.scan.secrets.rules import BUILTIN_RULES, load_ruleset

    return [r.id for r in load_ruleset([BUILTIN_RULES]).rules] + list(GENERIC_RULES)


def _sast() -> list[str]:
    base = resources.files("bastion.scan.sast")
    table: dict[str, Any] = tomllib.loads((base / "bandit_cwe.toml").read_text(encoding="utf-8"))
    ids = [f"sast.bandit.{test}" for test in table.get("tests", {})]
    for entry in (base / "rules").iterdir():
        if entry.name.endswith((".yml", ".yaml")):
            document = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
            ids.extend(f"sast.semgrep.{rule['id']}" for rule in document.get("rules", []))
    taint = yaml.safe_load((base / "taint" / "rules.yml").read_text(encoding="utf-8")) or {}
    ids.extend(f"sast.taint.{sink['id']}" for sink in taint.get("sinks", []))
    return ids


def _iac() -> list[str]:
    from bastion.scan.iac.policy import builtin_policies

    return [p.id for p in builtin_policies()]


def _deps() -> list[str]:
    if importlib.util.find_spec("bastion.scan.deps.rules") is None:
        return []
    from bastion.scan.deps import rules

    return [family.pattern for family in rules.rule_families()]


def _dast() -> list[str]:
    if importlib.util.find_spec("bastion.scan.dast.rules") is None:
        return []
    from bastion.scan.dast import rules

    return [rule.id for rule in rules.list_rules()]


@cache
def known_rules() -> dict[str, tuple[str, ...]]:
    """Scanner name -> its rule ids (deps: its rule-id families, ``deps.CVE-*``)."""
    found = {
        "secrets": _secrets(),
        "sast": _sast(),
        "iac": _iac(),
        "deps": _deps(),
        "dast": _dast(),
        "gate": ["bastion.suppression-without-reason"],
    }
    return {name: tuple(ids) for name, ids in found.items() if ids}
