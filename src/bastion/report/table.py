"""Terminal report: findings grouped by severity, then skips, notices and one summary line."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from bastion.findings import Finding, Severity
from bastion.gate import GateResult
from bastion.results import NoticeKind

__all__ = ["clean_text", "render", "summary_line"]

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

# Scanned repositories control finding text; never let them send escape sequences to a terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """``text`` with control characters replaced, safe to print on a terminal."""
    return _CONTROL.sub("\ufffd", text)


NARROW_WIDTH = 90
"""Below this many columns findings are printed one block each instead of in a table."""

# Kinds that can run into thousands on a big tree are counted, not listed.
COUNTED_KINDS = {NoticeKind.BINARY: "binary files skipped"}


def render(result: GateResult, *, color: bool = False, width: int | None = None) -> str:
    """Render the whole report as text (ANSI colours only when ``color``)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=width or 120,
        highlight=False,
        soft_wrap=False,
    )
    narrow = console.width < NARROW_WIDTH
    for severity in sorted(Severity, reverse=True):
        group = [f for f in result.findings if f.severity is severity]
        if group and narrow:
            _print_stacked(console, severity, group)
        elif group:
            console.print(_group_table(severity, group))
    for skip in result.scan.skips:
        if skip.component.strip() in result.scan.scanners:  # a whole scanner: its result is unknown
            console.print(Text(f"WARNING: {clean_text(skip.describe())}", style="bold yellow"))
        else:
            console.print(Text(clean_text(skip.describe()), style="yellow"))
    for failure in result.scan.failures:
        console.print(Text(clean_text(failure.describe()), style="bold red"))
    counted: dict[NoticeKind, int] = {}
    for notice in result.scan.notices:
        if notice.kind in COUNTED_KINDS:
            counted[notice.kind] = counted.get(notice.kind, 0) + 1
        else:
            console.print(Text(clean_text(f"notice: {notice.describe()}"), style="dim"))
    for kind, count in counted.items():
        console.print(Text(f"notice: {count} {COUNTED_KINDS[kind]}", style="dim"))
    console.print(Text(summary_line(result), style="bold red" if result.failed else "bold green"))
    text = buffer.getvalue()
    return text if color else "\n".join(line.rstrip() for line in text.split("\n"))


def _detail(finding: Finding) -> Text:
    detail = Text(clean_text(finding.title), style="bold")
    if finding.message and finding.message != finding.title:
        detail.append(f"\n{clean_text(finding.message)}")
    if finding.fix:
        detail.append(f"\nfix: {clean_text(finding.fix)}", style="green")
    return detail


def _print_stacked(console: Console, severity: Severity, findings: list[Finding]) -> None:
    """One block per finding (rule and place, then the text indented): a terminal too narrow for
    three columns gets every word whole instead of a column a few letters wide."""
    console.print(Text(f"{severity.value.upper()} ({len(findings)})", style=SEVERITY_STYLE[severity]))
    for finding in findings:
        head = Text(clean_text(finding.rule_id), style="bold")
        head.append(f"  {clean_text(finding.location.describe())}")
        console.print(head)
        console.print(Padding(_detail(finding), (0, 0, 0, 2), expand=False))


def _group_table(severity: Severity, findings: list[Finding]) -> Table:
    table = Table(
        title=Text(f"{severity.value.upper()} ({len(findings)})", style=SEVERITY_STYLE[severity]),
        title_justify="left",
        show_lines=False,
        expand=False,
    )
    table.add_column("Rule", overflow="fold")
    table.add_column("Location", overflow="fold")
    table.add_column("Finding", overflow="fold", min_width=24)
    for finding in findings:
        table.add_row(clean_text(finding.rule_id), clean_text(finding.location.describe()), _detail(finding))
    return table


def summary_line(result: GateResult) -> str:
    """``3 findings (1 critical, 2 high) · 1 suppressed · ... · gate failed (fail-on high)``; what
    could not be checked is counted (a scanner that did not run at all is "unknown", never
    clean) and ``--strict`` suggested."""
    counts = result.counts()
    total = len(result.findings)
    parts = [f"{n} {s.value}" for s, n in sorted(counts.items(), reverse=True) if n]
    head = f"{total} finding{'s' if total != 1 else ''}"
    if parts:
        head += f" ({', '.join(parts)})"
    pieces = [
        head,
        f"{len(result.suppressed)} suppressed",
        f"{len(result.baselined)} baselined",
    ]
    if result.below_confidence:
        pieces.append(f"{result.below_confidence} below min confidence")
    scan = result.scan
    unchecked = len(result.unchecked)
    if unchecked:
        whole = sorted({s.component.strip() for s in scan.skips} & set(scan.scanners))
        piece = f"{unchecked} not checked"
        if whole:
            piece += f" ({', '.join(whole)}: unknown)"
        pieces.append(piece if result.strict else f"{piece}, --strict fails on it")
    pieces.append(f"{scan.files_scanned} files in {scan.duration_s:.1f}s")
    fail_on = result.fail_on_label
    verdict = "gate FAILED" if result.failed else "gate passed"
    pieces.append(f"{verdict} (fail-on {fail_on})")
    return " · ".join(pieces)
