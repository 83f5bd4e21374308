"""Packaging hygiene: what only benchmarks use is an extra, not a run dependency."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _name(requirement: str) -> str:
    return requirement.split(";")[0].split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()


def test_benchmark_peers_are_a_bench_extra() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    run = {_name(r) for r in project["dependencies"]}
    assert "drain3" not in run
    assert "torch" not in run
    assert "drain3" in {_name(r) for r in project["optional-dependencies"]["bench"]}
