"""Shared helpers for the coverage gate tests: the fixture project and a git repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "coverage" / "project"
REPORTS = PROJECT / "reports"

BASE_OPS = """def add(a, b):
    return a + b


def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("b is zero")
    return a / b
"""


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity; the output."""
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture
def branch_repo(tmp_path: Path) -> Path:
    """A copy of the fixture project whose main branch has the first two functions of ops.py
    and whose feature branch (checked out) adds ``sign`` and ``unused`` (lines 9-21)."""
    repo = tmp_path / "repo"
    shutil.copytree(PROJECT, repo)
    full = (repo / "src/calc/ops.py").read_text(encoding="utf-8")
    (repo / "src/calc/ops.py").write_text(BASE_OPS, encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "feature")
    (repo / "src/calc/ops.py").write_text(full, encoding="utf-8")
    git(repo, "commit", "-qam", "feature")
    return repo
