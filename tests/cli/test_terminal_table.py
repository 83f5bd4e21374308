"""The table on a terminal: as wide as COLUMNS says, colour only on a TTY and never with NO_COLOR
or --no-color; no escape sequences when piped."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.cli.output import DEFAULT_WIDTH, terminal_width, use_color

AWS_KEY_ID = "ACCARYFKRUSWHCIOAAJN"  # the rule file's own generated example, grants nothing
ESC = "\x1b["


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "settings.py").write_text(
        f'token = "{AWS_KEY_ID}"\n# a long line of words so the table has text to wrap or fold here\n',
        encoding="utf-8",
    )
    return root


def _table(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["scan", str(root), "-s", "secrets", "--fail-on", "none", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("columns", [50, 100, 180])
def test_table_fits_columns(
    columns: int, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    out = _table(_tree(tmp_path), capsys)
    assert "secrets.aws-access-key-id" in out
    assert max(len(line) for line in out.splitlines()) <= columns
    assert ESC not in out  # not a terminal: no colour
    if columns < 90:
        assert "┃" not in out  # narrow: one block per finding, words whole
        assert "AWS access key ID" in out


def _on_pty(root: Path, env: dict[str, str], *args: str) -> str:
    """Run ``bastion scan`` with stdout on a pseudo-terminal and return what it printed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(  # bastion: ignore[sast.bandit.B603] this interpreter, fixed arguments
        [sys.executable, "-m", "bastion", "scan", str(root), "-s", "secrets", "--fail-on", "none", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the follower side closed: the process is done
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_on_a_terminal_unless_no_color(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "TERM", "COLUMNS"}}
    env["TERM"] = "xterm-256color"
    assert ESC in _on_pty(root, env)
    plain = _on_pty(root, {**env, "NO_COLOR": "1"})
    assert "secrets.aws-access-key-id" in plain and ESC not in plain
    assert ESC not in _on_pty(root, env, "--no-color")


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_width_and_colour_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert terminal_width(_Stream(False)) == DEFAULT_WIDTH
    assert use_color(_Stream(True)) and not use_color(_Stream(False))
    assert not use_color(_Stream(True), no_color=True)
    monkeypatch.setenv("TERM", "dumb")
    assert not use_color(_Stream(True))
    monkeypatch.setenv("COLUMNS", "7")
    assert terminal_width(_Stream(False)) == 20
    monkeypatch.setenv("COLUMNS", "wide")
    assert terminal_width(_Stream(False)) == DEFAULT_WIDTH
