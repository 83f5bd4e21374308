"""Bastion's own rule for a foreign tool's check, where Bastion declares one.

Bastion's IaC policies list the checkov, tfsec/Trivy and KICS ids of the same check (``checkov:``,
``tfsec:``, ``kics:`` in ``scan/iac/policies/*.yml``) and its DAST rules the ZAP plugin id. An imported
result of such a check takes that rule's controls (and, where the tool rates nothing, its
severity), so that both tools' findings of one weakness map to the same controls.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bastion.findings import Severity
from bastion.scan.dast.rules import rules_by_zap_id
from bastion.scan.iac.policy import builtin_policies

__all__ = ["Equivalent", "dast_equivalent", "iac_equivalent"]


@dataclass(frozen=True)
class Equivalent:
    """A Bastion rule: its id, severity and CWE ids."""

    rule_id: str
    severity: Severity
    cwe: tuple[int, ...] = ()


@cache
def _iac() -> dict[str, Equivalent]:
    table: dict[str, Equivalent] = {}
    for policy in builtin_policies():
        for peer in (*policy.checkov, *policy.tfsec, *policy.kics):
            table.setdefault(peer.lower(), Equivalent(policy.id, policy.severity, policy.cwe))
    return table


def iac_equivalent(*ids: str) -> Equivalent | None:
    """The Bastion policy whose checkov, tfsec or KICS ids include one of ``ids`` (any case)."""
    table = _iac()
    return next((table[i.lower()] for i in ids if i and i.lower() in table), None)


def dast_equivalent(plugin_id: str) -> Equivalent | None:
    """The Bastion DAST rule for a ZAP plugin id (``10011``), when one lists it."""
    if not plugin_id.isdigit():
        return None
    rules = rules_by_zap_id().get(int(plugin_id))
    return Equivalent(rules[0].id, rules[0].severity, (rules[0].cwe,)) if rules else None
