"""The deps scanner: known-vulnerable dependencies from lockfiles, manifests, SBOMs and environments."""

from __future__ import annotations

from bastion.scan.deps.rules import RuleFamily, rule_families
from bastion.scan.deps.scanner import DepsScanner

__all__ = ["DepsScanner", "RuleFamily", "rule_families"]
