"""The container image definition, linted structurally (images cannot be built here): pinned
base, non-root user, exec-form entry point, no secrets or remote ADD, a lean build context."""

from __future__ import annotations

import re
from typing import Any

import pathspec
from dockerfile_parse import DockerfileParser
from pipeline_helpers import REPO

DIGEST = re.compile(r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}(\s+AS\s+\w+)?$", re.IGNORECASE)


def _instructions() -> list[dict[str, Any]]:
    parser = DockerfileParser(path=str(REPO / "Dockerfile"))
    return list(parser.structure)


def test_every_base_image_is_pinned_by_digest() -> None:
    bases = [i["value"] for i in _instructions() if i["instruction"] == "FROM"]
    assert len(bases) == 2
    for base in bases:
        assert DIGEST.match(base), base


def test_final_stage_runs_as_a_non_root_user() -> None:
    instructions = _instructions()
    last_from = max(n for n, i in enumerate(instructions) if i["instruction"] == "FROM")
    users = [i["value"] for i in instructions[last_from:] if i["instruction"] == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert instructions[-1]["instruction"] in {"CMD", "ENTRYPOINT", "HEALTHCHECK"}
    entry = next(i["value"] for i in instructions if i["instruction"] == "ENTRYPOINT")
    assert entry == '["bastion"]'  # exec form: signals reach bastion


def test_no_remote_add_no_secrets_no_pip_cache() -> None:
    instructions = _instructions()
    assert not [i for i in instructions if i["instruction"] == "ADD"]
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert not re.search(r"(?i)(password|token|secret)\s*=", text)
    runs = " ".join(i["value"] for i in instructions if i["instruction"] == "RUN")
    assert "pip install --no-cache-dir --require-hashes -r requirements/run.txt" in runs
    assert "rm -rf /var/lib/apt/lists/*" in runs and "--no-install-recommends" in runs


def test_build_context_keeps_what_the_build_copies_and_drops_the_rest() -> None:
    ignore = pathspec.GitIgnoreSpec.from_lines(
        (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    )
    copied = [
        i["value"].split()[0]
        for i in _instructions()
        if i["instruction"] == "COPY" and "--from" not in i["value"]
    ]
    assert copied == ["requirements/run.txt", "pyproject.toml", "src"]
    for needed in ("requirements/run.txt", "pyproject.toml", "README.md", "src/bastion/__init__.py"):
        assert not ignore.match_file(needed), needed
    for dropped in (
        ".git/config",
        ".venv/bin/python",
        "tests/conftest.py",
        "build/x",
        "src/bastion/__pycache__/a.pyc",
    ):
        assert ignore.match_file(dropped), dropped
