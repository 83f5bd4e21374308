"""Help texts show ``[scan]``-style brackets literally: the rich help formatter must neither
swallow them as markup nor print the escaping backslash."""

from __future__ import annotations

import re

import click
import pytest
import typer

from bastion.ci import hook
from bastion.cli.main import LazyGroup, app, main

BRACKETED = re.compile(r"\\?\[([A-Za-z_][\w.:]*(?: [\w.:]+)?)\]")
"""A ``[table]`` or ``[default: x]`` in a help text, escaped for rich or not."""

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


def _commands(
    group: click.Group, ctx: click.Context, path: tuple[str, ...]
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(group, LazyGroup) and name not in group.commands:
            command = group.load(name)  # the placeholder carries only the help line
        if command is None or command.hidden:
            continue
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, click.Context(command, parent=ctx), (*path, name)))
    return found


def test_every_commands_help_keeps_its_brackets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The class, not the examples: every option's help with a ``[table]``-like text shows it."""
    monkeypatch.setenv("COLUMNS", "400")
    root = typer.main.get_command(app)
    assert isinstance(root, click.Group)
    checked = 0
    for path, command in _commands(root, click.Context(root), ()):
        texts = [p.help for p in command.params if isinstance(p, click.Option) and p.help]
        wanted = [f"[{m}]" for text in texts for m in BRACKETED.findall(text)]
        if not wanted:
            continue
        assert main([*path, "--help"]) == 0
        out = capsys.readouterr().out
        missing = [text for text in wanted if text not in out]
        assert missing == [], f"bastion {' '.join(path)} --help lost {missing}"
        assert "\\[" not in out
        checked += 1
    assert checked >= 5
