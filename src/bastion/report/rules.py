"""``bastion rules``: the rule catalog as a table or JSON, and one rule in full."""

from __future__ import annotations

import enum
import io
import json
from collections.abc import Mapping, Sequence
from typing import assert_never

from rich.console import Console
from rich.table import Table

from bastion.errors import UsageError
from bastion.report.table import SEVERITY_STYLE, clean_text
from bastion.rules import RuleInfo

__all__ = ["RulesFormat", "render_rule", "render_rules"]

RULES_VERSION = 1
"""Version of the JSON document ``bastion rules list --format json`` writes."""


class RulesFormat(enum.Enum):
    """An output format of ``bastion rules list``."""

    TABLE = "table"
    JSON = "json"

    @classmethod
    def parse(cls, text: str) -> RulesFormat:
        """The format named ``text``; :class:`UsageError` naming the choices otherwise."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(f.value for f in cls)
            raise UsageError(f"--format: unknown format {text!r} (choose from {choices})") from None


def render_rules(
    rules: Sequence[RuleInfo],
    skipped: Mapping[str, str],
    fmt: RulesFormat,
    *,
    color: bool = False,
    width: int | None = None,
) -> str:
    """Every rule in ``fmt``; ``skipped`` (source -> reason) is listed, never dropped."""
    match fmt:
        case RulesFormat.TABLE:
            return _table(rules, skipped, color=color, width=width)
        case RulesFormat.JSON:
            document = {
                "version": RULES_VERSION,
                "rules": [rule.to_dict() for rule in rules],
                "skipped": [{"source": name, "reason": reason} for name, reason in sorted(skipped.items())],
            }
            return json.dumps(document, indent=2) + "\n"
        case _:
            assert_never(fmt)


def _console(buffer: io.StringIO, color: bool, width: int | None) -> Console:
    return Console(file=buffer, force_terminal=color, no_color=not color, width=width or 120, highlight=False)


def _table(rules: Sequence[RuleInfo], skipped: Mapping[str, str], *, color: bool, width: int | None) -> str:
    buffer = io.StringIO()
    console = _console(buffer, color, width)
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("ID", "SCANNER", "SEVERITY", "CWE", "TITLE"):
        table.add_column(column, overflow="fold")
    for rule in rules:
        severity = rule.severity.value if rule.severity is not None else "varies"
        style = SEVERITY_STYLE.get(rule.severity) if rule.severity is not None else "dim"
        table.add_row(
            clean_text(rule.id),
            rule.scanner,
            f"[{style}]{severity}[/]" if style else severity,
            ",".join(rule.cwe_ids),
            clean_text(rule.title),
        )
    console.print(table)
    for name, reason in sorted(skipped.items()):
        console.print(f"skipped {name}: {clean_text(reason)}", markup=False)
    console.print(f"{len(rules)} rules", markup=False)
    return buffer.getvalue()


def render_rule(rule: RuleInfo) -> str:
    """One rule in full, a ``field: value`` line each, empty fields left out."""
    lines = [
        ("id", rule.id),
        ("title", rule.title),
        ("scanner", rule.scanner),
        ("severity", rule.severity.value if rule.severity is not None else "varies with the finding"),
        ("cwe", ", ".join(rule.cwe_ids)),
        ("attack", ", ".join(rule.attack)),
        ("controls", ", ".join(rule.controls)),
        ("equivalent", ", ".join(f"{tool}: {rid}" for tool, rid in rule.equivalent_ids.items())),
        ("help", rule.help_uri),
        ("fix", rule.fix),
        ("description", rule.description),
    ]
    return "".join(f"{name}: {clean_text(value)}\n" for name, value in lines if value)
