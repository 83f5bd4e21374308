"""The coverage tests' fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from coverage_helpers import BASE_OPS, PROJECT, git


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
