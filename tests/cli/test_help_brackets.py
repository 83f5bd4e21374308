"""Help texts show ``[scan]``-style brackets literally: the rich help formatter must neither
swallow them as markup nor print the escaping backslash."""

from __future__ import annotations

import pytest

from bastion.ci import hook
from bastion.cli.main import main

LITERAL = (
    "[scan] table of bastion.toml",
    "[tool.bastion.scan]",
    "[scanners.deps]",
    "[default: high]",
    "[default: 5MB]",
    "[scanners.secrets] rules",
    "[scanners.iac] policies",
    "[env: BASTION_TOKEN]",
    "[stages.NAME]",
)


@pytest.mark.parametrize("entry", ["bastion", "bastion-hook"])
def test_scan_help_brackets_render_literally(
    entry: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # one line per help text: nothing wraps mid-bracket
    run = main if entry == "bastion" else hook.main
    assert run(["scan", "--help"]) == 0
    out = capsys.readouterr().out
    missing = [text for text in LITERAL if text not in out]
    assert missing == []
    assert "\\[" not in out


def test_coverage_help_brackets(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["coverage", "--help"]) == 0
    out = capsys.readouterr().out
    assert "[coverage] table of bastion.toml or [tool.bastion.coverage]" in out and "\\[" not in out
