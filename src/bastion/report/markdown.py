"""Markdown report: a pull-request comment or a CI job summary (GitHub, GitLab, Azure DevOps).

Verdict and counts first, then the findings worst first, then what was not checked, so the
part a reviewer needs survives when a host truncates a long comment. Text from the scanned
code (messages, paths) is escaped: no HTML, no table breakage, no @-mentions, no links
the repository chose. The whole document stays under :data:`MAX_CHARS` (GitHub rejects PR
comments over 65,536 characters); findings that do not fit are counted, never dropped silently.
"""

from __future__ import annotations

import re

from bastion.findings import Finding, Severity
from bastion.gate import GateResult
from bastion.report.table import summary_line

__all__ = ["MAX_CHARS", "render"]

MAX_CHARS = 60_000
"""Below GitHub's 65,536-character limit for a comment, with room for a host's own header."""

SEVERITY_MARK = {
    Severity.CRITICAL: "🟥 critical",
    Severity.HIGH: "🟧 high",
    Severity.MEDIUM: "🟨 medium",
    Severity.LOW: "🟦 low",
    Severity.INFO: "⬜ info",
}

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SAFE_URL = re.compile(r"https://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~%/?=&#+-]*)?")
"""A rule's documentation link, used as a link target only when it is a plain https URL."""
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def escape(text: str, limit: int = 300) -> str:
    """``text`` safe inside a Markdown table cell: one line, HTML and Markdown syntax escaped,
    @-mentions defused, cut to ``limit`` characters."""
    flat = _CONTROL.sub(" ", text).replace("\r", " ").replace("\n", " ").strip()
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _SPECIAL.sub(r"\\\1", flat)
    # A zero-width space defuses @-mentions and the bare-URL autolinks GitHub would make.
    return flat.replace("@", "@\u200b").replace("://", ":\u200b//")


def _code(text: str) -> str:
    """An inline code span that cannot be closed early by the text itself."""
    flat = _CONTROL.sub(" ", text).replace("\n", " ").replace("`", "'").replace("|", "\\|")
    return f"`{flat}`" if flat else "-"


def render(result: GateResult) -> str:
    """The report as GitHub-flavoured Markdown."""
    verdict = "❌ gate failed" if result.failed else "✅ gate passed"
    lines = [f"## Bastion: {verdict}", "", f"**{escape(summary_line(result), 1000)}**", ""]
    counts = result.counts()
    if result.findings:
        lines += ["| Severity | Findings | Blocking |", "|---|---:|---:|"]
        blocking = dict.fromkeys(Severity, 0)
        for finding in result.blocking:
            blocking[finding.severity] += 1
        lines += [
            f"| {SEVERITY_MARK[s]} | {counts[s]} | {blocking[s]} |"
            for s in sorted(Severity, reverse=True)
            if counts[s]
        ]
        lines.append("")
    tail = _tail(result)
    budget = MAX_CHARS - sum(len(line) + 1 for line in lines) - sum(len(line) + 1 for line in tail) - 200
    lines += _findings(result, budget)
    lines += tail
    return "\n".join(lines).rstrip() + "\n"


def _findings(result: GateResult, budget: int) -> list[str]:
    if not result.findings:
        return ["No findings."]
    ordered = sorted(result.findings, key=lambda f: (-f.severity.rank, f.rule_id, f.location.describe()))
    lines = ["### Findings", "", "| Severity | Rule | Location | Finding |", "|---|---|---|---|"]
    used = sum(len(line) + 1 for line in lines)
    shown = 0
    for finding in ordered:
        row = _row(finding)
        if used + len(row) + 1 > budget:
            break
        lines.append(row)
        used += len(row) + 1
        shown += 1
    if shown < len(ordered):
        lines += ["", f"_… and {len(ordered) - shown} more findings: see the full report (SARIF or JSON)._"]
    return [*lines, ""]


def _row(finding: Finding) -> str:
    text = f"**{escape(finding.title, 150)}**"
    if finding.message and finding.message != finding.title:
        text += f"<br>{escape(finding.message)}"
    if finding.fix:
        text += f"<br>Fix: {escape(finding.fix, 200)}"
    if finding.cwe:
        text += "<br>" + ", ".join(f"CWE-{number}" for number in finding.cwe)
    rule = _code(finding.rule_id)
    if _SAFE_URL.fullmatch(finding.help_uri):
        rule = f"[{rule}]({finding.help_uri})"
    cells = (SEVERITY_MARK[finding.severity], rule, _code(finding.location.describe()), text)
    return "| " + " | ".join(cells) + " |"


def _tail(result: GateResult) -> list[str]:
    lines: list[str] = []
    unchecked = result.unchecked
    failures = [failure.describe() for failure in result.scan.failures]
    if failures:
        lines += ["### Scanner failures", ""] + [f"- {escape(line, 500)}" for line in failures] + [""]
    if unchecked:
        shown = unchecked[:50]
        lines += [f"<details><summary>Not checked ({len(unchecked)})</summary>", ""]
        lines += [f"- {escape(line, 300)}" for line in shown]
        if len(unchecked) > len(shown):
            lines.append(f"- … and {len(unchecked) - len(shown)} more")
        lines += ["", "</details>", ""]
    if result.suppressed or result.baselined:
        lines.append(
            f"_{len(result.suppressed)} suppressed in the code or config, {len(result.baselined)} accepted "
            "in the baseline: not shown._"
        )
    return lines
