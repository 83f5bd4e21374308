"""pre-commit hooks: each hook's entry run the way pre-commit runs it (in the repository root,
no file names); the whole-tree hook catches a secret committed earlier, the staged one does not
look there, the history hook finds one deleted since."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pipeline_helpers import REPO, base_env, make_workspace, stripe_key

from bastion.ci.hook import main as hook_main

HOOKS = REPO / ".pre-commit-hooks.yaml"


@pytest.fixture(scope="module")
def hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}


def _run_hook(hook: dict[str, Any], repo: Path) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(hook["entry"]) + list(hook.get("args", []))
    return subprocess.run(argv, cwd=repo, env=base_env({}), capture_output=True, text=True, check=False)


def test_hook_definitions(hooks: dict[str, dict[str, Any]]) -> None:
    assert set(hooks) == {"bastion-secrets", "bastion-secrets-all", "bastion-secrets-history"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        assert shlex.split(hook["entry"])[0] == "bastion-hook"
    assert "--staged" in hooks["bastion-secrets"]["entry"]
    assert "pre-push" in hooks["bastion-secrets-all"]["stages"]


@pytest.mark.slow  # three hook runs, each a process
def test_whole_tree_hook_catches_an_already_committed_secret(
    hooks: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    repo = make_workspace(tmp_path / "repo", vulnerable=False)
    staged = _run_hook(hooks["bastion-secrets"], repo)
    assert staged.returncode == 0, staged.stdout + staged.stderr  # nothing staged: nothing to block
    whole = _run_hook(hooks["bastion-secrets-all"], repo)
    assert whole.returncode == 1
    assert "secrets.stripe-live-secret-key" in whole.stdout and "app.py:1" in whole.stdout
    assert stripe_key() not in whole.stdout + whole.stderr
    # Deleted in a later commit: only the history hook still sees it.
    (repo / "app.py").write_text("print('clean')\n", encoding="utf-8")
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "commit", "-qam", "remove key"], cwd=repo, check=True)
    assert _run_hook(hooks["bastion-secrets-all"], repo).returncode == 0
    history = _run_hook(hooks["bastion-secrets-history"], repo)
    assert history.returncode == 1 and "secrets.stripe-live-secret-key" in history.stdout


def test_staged_hook_blocks_a_staged_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_workspace(tmp_path / "repo", secret=False, vulnerable=False)
    (repo / "settings.py").write_text(f'KEY = "{stripe_key()}"\n', encoding="utf-8")
    subprocess.run(["git", "add", "settings.py"], cwd=repo, check=True)
    monkeypatch.chdir(repo)
    assert hook_main(["scan", "--scanners", "secrets", "--staged", "--fail-on", "medium", "-q"]) == 1
    assert "settings.py" in capsys.readouterr().out


def test_hook_entry_point_help_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert hook_main(["--help"]) == 0
    assert "scan" in capsys.readouterr().out
    assert hook_main(["scan", "--fail-on", "nonsense", "/nonexistent"]) == 2
