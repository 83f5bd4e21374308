"""Rule levels (IGNORE, INFO, WARN, FAIL) from a rules file, Bastion's or ZAP's baseline format.

ZAP's baseline scan reads a tab-separated file, one rule per line::

    10020<TAB>FAIL<TAB>(Anti-clickjacking Header)
    10096<TAB>IGNORE<TAB>(Timestamp Disclosure)
    10027<TAB>OUTOFSCOPE<TAB>https://example.com/legacy/.*

Bastion reads that file as it is: a numeric id is a ZAP plugin id and applies to the
Bastion rules with that ``zap`` id (``rules.toml``); a ``dast.*`` id names a Bastion rule
directly; ``*`` means every rule. ``OUTOFSCOPE`` takes a URL regex instead of a level and
drops that rule's findings on matching URLs. A ZAP id with no Bastion rule applies to the
alerts imported from ZAP (``--zap``), whose rule id is ``dast.zap.<id>``. A ``.toml`` file may say the same as
``[rules] "dast.csp-missing" = "FAIL"`` and ``[[out_of_scope]] rule = "*" url = "regex"``.

FAIL findings block the release whatever ``--fail-on`` says, WARN and INFO findings are
reported but never block, IGNORE findings are set aside (counted as suppressed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.errors import ConfigError
from bastion.findings import Finding, Severity
from bastion.results import Suppressed
from bastion.rules import RuleLevel
from bastion.scan.dast.rules import list_rules, rules_by_zap_id
from bastion.structured import read_text, read_toml

__all__ = ["RuleLevels", "load_levels", "render_levels"]

ZAP_PREFIX = "dast.zap."
"""Rule ids of ZAP alerts with no Bastion rule: ``dast.zap.<plugin id>``."""
ZAP_NAMES = {
    10096: "Timestamp Disclosure",
    10017: "Cross-Domain JavaScript Source File Inclusion",
    10109: "Modern Web Application",
    10049: "Storable and Cacheable Content",
    10050: "Retrieved from Cache",
    10031: "User Controllable HTML Element Attribute",
    10111: "Authentication Request Identified",
    10112: "Session Management Response Identified",
}
"""ZAP passive rules with no Bastion equivalent, named in the notice about them."""


@dataclass
class RuleLevels:
    """Levels per Bastion rule id, out-of-scope URL patterns, and notices about the file."""

    levels: dict[str, RuleLevel] = field(default_factory=dict)
    out_of_scope: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    """(rule id or ``*``, URL regex)."""
    notices: list[str] = field(default_factory=list)

    def set(self, rule_ids: list[str], level: RuleLevel) -> None:
        """Set ``level`` for each rule id."""
        for rule_id in rule_ids:
            self.levels[rule_id] = level

    def apply(self, findings: list[Finding]) -> tuple[list[Finding], list[Suppressed]]:
        """Split ``findings`` into the reported and the set-aside ones."""
        kept: list[Finding] = []
        dropped: list[Suppressed] = []
        for finding in findings:
            url = finding.location.url or ""
            scope = next(
                (
                    rx.pattern
                    for rid, rx in self.out_of_scope
                    if rid in ("*", finding.rule_id) and rx.search(url)
                ),
                None,
            )
            if scope is not None:
                dropped.append(Suppressed(finding, f"rules file: OUTOFSCOPE {scope}"))
            elif self.levels.get(finding.rule_id) is RuleLevel.IGNORE:
                dropped.append(Suppressed(finding, "rules file: IGNORE"))
            else:
                kept.append(finding)
        return kept, dropped


def _targets(raw_id: str, where: str, levels: RuleLevels) -> list[str]:
    """Bastion rule ids a file's id stands for."""
    known = {rule.id for rule in list_rules()}
    if raw_id in known or (raw_id.startswith(ZAP_PREFIX) and raw_id[len(ZAP_PREFIX) :].isdigit()):
        return [raw_id]
    if raw_id == "*":
        return sorted(known)
    if raw_id.isdigit():
        rules = rules_by_zap_id().get(int(raw_id), [])
        if not rules:
            name = ZAP_NAMES.get(int(raw_id), "")
            label = f"{raw_id} ({name})" if name else raw_id
            levels.notices.append(
                f"{where}: ZAP rule {label} has no Bastion equivalent; "
                "it applies to alerts imported with --zap only"
            )
            return [f"{ZAP_PREFIX}{raw_id}"]
        return [rule.id for rule in rules]
    raise ConfigError(f"{where}: unknown rule id {raw_id!r} (a dast.* rule id, a ZAP plugin id, or *)")


def _level(text: str, where: str) -> RuleLevel:
    try:
        return RuleLevel(text.strip().upper())
    except ValueError:
        raise ConfigError(
            f"{where}: unknown level {text!r} (IGNORE, INFO, WARN, FAIL or OUTOFSCOPE)"
        ) from None


def _scope_regex(text: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(text.strip())
    except re.error as exc:
        raise ConfigError(f"{where}: invalid OUTOFSCOPE regex {text!r}: {exc}") from None


def load_levels(path: Path) -> RuleLevels:
    """Read a rules file; :class:`ConfigError` naming the file and line for anything wrong."""
    if path.suffix == ".toml":
        return _from_toml(path, read_toml(path, what="rules file", error=ConfigError))
    text = read_text(path, what="rules file", error=ConfigError)
    levels = RuleLevels()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = re.split(r"\t+", stripped) if "\t" in stripped else stripped.split(None, 2)
        where = f"{path}:{number}"
        if len(parts) < 2:
            raise ConfigError(f"{where}: expected 'id<TAB>LEVEL[<TAB>name]', got {stripped[:80]!r}")
        raw_id, action = parts[0].strip(), parts[1].strip()
        if action.upper() == "OUTOFSCOPE":
            if len(parts) < 3:
                raise ConfigError(f"{where}: OUTOFSCOPE needs a URL regex as third field")
            rx = _scope_regex(parts[2], where)
            ids = ["*"] if raw_id == "*" else _targets(raw_id, where, levels)
            levels.out_of_scope.extend((rule_id, rx) for rule_id in ids)
            continue
        levels.set(_targets(raw_id, where, levels), _level(action, where))
    return levels


def _from_toml(path: Path, data: dict[str, Any]) -> RuleLevels:
    levels = RuleLevels()
    unknown = sorted(set(data) - {"rules", "out_of_scope"})
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (expected [rules] and [[out_of_scope]])")
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise ConfigError(f"{path}: rules: expected a table of rule id = level")
    for raw_id, action in rules.items():
        where = f"{path}: rules.{raw_id}"
        levels.set(_targets(str(raw_id), where, levels), _level(str(action), where))
    for index, entry in enumerate(data.get("out_of_scope", [])):
        where = f"{path}: out_of_scope[{index}]"
        if not isinstance(entry, dict) or "url" not in entry:
            raise ConfigError(f"{where}: expected a table with rule and url")
        raw_id = str(entry.get("rule", "*"))
        ids = ["*"] if raw_id == "*" else _targets(raw_id, where, levels)
        rx = _scope_regex(str(entry["url"]), where)
        levels.out_of_scope.extend((rule_id, rx) for rule_id in ids)
    return levels


def render_levels(levels: RuleLevels, threshold: Severity | None) -> str:
    """A rules file with a line per Bastion rule, like ``zap-baseline.py -g``: the level set in
    ``levels``, else FAIL for rules at or above ``threshold`` and WARN below it."""
    lines = [
        "# Bastion DAST rule levels: id<TAB>IGNORE|INFO|WARN|FAIL<TAB>(title); ZAP plugin ids work too.",
        f"# Generated with --fail-on {threshold.value if threshold else 'none'}; edit and pass with --rules.",
    ]
    for rule in list_rules():
        level = levels.levels.get(rule.id)
        if level is None:
            level = RuleLevel.FAIL if threshold is not None and rule.severity >= threshold else RuleLevel.WARN
        zap = f" [ZAP {rule.zap_id}]" if rule.zap_id is not None else ""
        lines.append(f"{rule.id}\t{level.value}\t({rule.title}){zap}")
    lines.extend(f"{rule_id}\tOUTOFSCOPE\t{rx.pattern}" for rule_id, rx in levels.out_of_scope)
    return "\n".join(lines) + "\n"
