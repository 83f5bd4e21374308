"""The Markdown report (PR comment, job summary): verdict first, escaped text, a size bound."""

from __future__ import annotations

import re
from dataclasses import replace

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.gate import GateResult
from bastion.report import markdown


def test_verdict_counts_then_findings_worst_first(full: GateResult) -> None:
    text = markdown.render(full)
    lines = text.splitlines()
    assert lines[0] == "## Bastion: ❌ gate failed"
    assert "gate FAILED" in lines[2]
    rows = [line for line in lines if line.count("`") >= 4 and line.startswith("| ")]
    rule_link = "[`secrets.aws-access-key`](https://docs.example.org/rules/secrets.aws-access-key)"
    assert rows[0].startswith(f"| 🟥 critical | {rule_link} | `src/config.py:3`")
    assert "CWE-798" in rows[0]
    order = ["⬜ info", "🟦 low", "🟨 medium", "🟧 high", "🟥 critical"]
    ranks = [order.index(row.split(" | ")[0].removeprefix("| ")) for row in rows]
    assert ranks == sorted(ranks, reverse=True)
    assert "| 🟥 critical | 1 | 1 |" in lines


def test_clean_result(clean: GateResult) -> None:
    text = markdown.render(clean)
    assert text.startswith("## Bastion: ✅ gate passed\n")
    assert "No findings." in text
    assert "| Severity |" not in text


def test_failures_and_unchecked_are_shown(crashed: GateResult) -> None:
    text = markdown.render(crashed)
    assert "### Scanner failures" in text


def _hostile(index: int) -> Finding:
    location = Location(path=f"src/a|b`{index}`.py", start_line=index + 1)
    message = "<img src=x onerror=alert(1)> ping @octocat | [click](https://evil.example) **bold**\nnext"
    return Finding(
        rule_id="sast.x",
        scanner="sast",
        title="Bad <script>",
        severity=Severity.HIGH,
        location=location,
        message=message,
        fingerprint=make_fingerprint("sast.x", location, str(index)),
    )


def test_text_from_the_scanned_code_is_escaped(clean: GateResult) -> None:
    result = replace(clean, findings=[_hostile(0)])
    text = markdown.render(result)
    row = next(line for line in text.splitlines() if "sast.x" in line)
    assert "<img" not in text and "<script>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in row
    assert "@\u200boctocat" in row
    assert "\\[click\\](https:\u200b//evil.example)" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # four cells: no | from the text split the row
    assert "`src/a\\|b'0'.py:1`" in row


def test_size_stays_under_the_comment_limit_and_the_rest_is_counted(clean: GateResult) -> None:
    result = replace(clean, findings=[_hostile(i) for i in range(2000)])
    text = markdown.render(result)
    assert len(text) <= 65_536
    match = re.search(r"… and (\d+) more findings", text)
    assert match is not None
    shown = sum(1 for line in text.splitlines() if line.startswith("| 🟧 high | `sast.x`"))
    assert shown + int(match.group(1)) == 2000


def test_escape_cuts_long_text() -> None:
    assert markdown.escape("x" * 500, 10) == "x" * 9 + "…"


def test_only_plain_https_rule_links(clean: GateResult) -> None:
    unsafe = [
        replace(_hostile(i), help_uri=uri)
        for i, uri in enumerate(["javascript:alert(1)", "https://x.example/a b", "https://x.example/(x)"])
    ]
    safe = replace(_hostile(9), help_uri="https://docs.example.org/rules/x")
    text = markdown.render(replace(clean, findings=[*unsafe, safe]))
    assert "javascript:" not in text and "x.example" not in text
    assert "](https://docs.example.org/rules/x)" in text
