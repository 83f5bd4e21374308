"""``bastion rules list|show``: every rule of every scanner, read from the scanner registry."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from bastion.cli.output import EXIT_CLEAN, command

if TYPE_CHECKING:
    from bastion.rules import RuleInfo

__all__ = ["register"]

HELP = """List the rules every installed scanner can report, or show one rule in full.

Rules come from each scanner's own rules() (plug-ins too) and the DAST and gate rules; a plug-in that
does not load is listed as skipped. Rule families (deps.CVE-*) stand for their advisory ids.

Example: bastion rules list --scanner secrets
Example: bastion rules list --format json > rules.json
Example: bastion rules show sast.bandit.B602
"""


def register(app: typer.Typer) -> None:
    """Add ``bastion rules`` to ``app``."""
    group = typer.Typer(help=HELP, no_args_is_help=True)
    group.command("list", help="List every rule (ID, scanner, severity, CWE, title).")(command(list_rules))
    group.command("show", help="Show one rule in full. Example: bastion rules show dast.csp-missing")(
        command(show_rule)
    )
    app.add_typer(group, name="rules")


def list_rules(
    scanner: list[str] | None = typer.Option(
        None, "--scanner", "-s", help="Only this scanner's rules; repeatable or comma-separated."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> int:
    """Print the rule catalog."""
    from bastion.report.rules import RulesFormat, render_rules
    from bastion.rules import sort_rules
    from bastion.scan.registry import Registry, rule_catalog

    output = RulesFormat.parse(fmt)
    names = [n.strip() for value in scanner or [] for n in value.split(",") if n.strip()] or None
    catalog = rule_catalog(Registry.from_entry_points(), names)
    rules = catalog.rules if names else sort_rules([*catalog.rules, *_rules_of_no_scanner()])
    color = output is RulesFormat.TABLE and sys.stdout.isatty()
    sys.stdout.write(render_rules(rules, catalog.skipped, output, color=color))
    return EXIT_CLEAN


def show_rule(rule_id: str = typer.Argument(..., help="Rule id, e.g. secrets.aws-access-key-id.")) -> int:
    """Print one rule (a family such as deps.CVE-* answers for its advisory ids)."""
    from bastion.errors import UsageError
    from bastion.report.rules import render_rule
    from bastion.scan.registry import Registry, rule_catalog

    catalog = rule_catalog(Registry.from_entry_points())
    wanted = rule_id.strip()
    rule = catalog.find(wanted) or next((r for r in _rules_of_no_scanner() if r.id == wanted), None)
    if rule is None:
        raise UsageError(f"no rule {rule_id!r} (bastion rules list shows them all)")
    sys.stdout.write(render_rule(rule))
    return EXIT_CLEAN


def _rules_of_no_scanner() -> list[RuleInfo]:
    """Rules that no tree scanner runs: the gate's, the coverage gate's and the service catalog's."""
    from bastion.catalog.rules import catalog_rules
    from bastion.coverage.rules import coverage_rules
    from bastion.gate import GATE_RULES

    return [*GATE_RULES, *coverage_rules().values(), *catalog_rules().values()]
