"""Shared fixtures of the drill tests: a small organisation, exercise files, one replay of the library."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.drills.exercise import Exercise, load_exercise
from bastion.drills.journal import Journal
from bastion.drills.replay import replay

ExerciseFactory = Callable[..., Path]
UNDER_THRESHOLD = Path(__file__).with_name("fixtures") / "ssh-guessing-under-threshold.yml"
"""A scenario every default threshold misses, on purpose: what the scoring and tuning tests need."""


def write_exercise(directory: Path, **fields: Any) -> Path:
    """An exercise file in ``directory`` for a small organisation (40 users, 20 hosts), beside a copy
    of :data:`UNDER_THRESHOLD` that its ``scenarios`` may name by file name."""
    (directory / UNDER_THRESHOLD.name).write_bytes(UNDER_THRESHOLD.read_bytes())
    mapping = directory / "org.yml"
    mapping.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "users": [f"u{i:02d}@drill.example" for i in range(40)],
                "hosts": [f"pc-{i:02d}.drill.example" for i in range(20)],
            }
        ),
        encoding="utf-8",
    )
    doc: dict[str, Any] = {
        "version": 1,
        "name": "test exercise",
        "scenarios": ["all"],
        "duration_h": 12,
        "schedule": {"mode": "random", "seed": 11},
        "mapping": "org.yml",
        "baseline": {"signins_per_user_day": 8, "processes_per_host_day": 20, "web_requests_per_hour": 120},
    }
    doc.update(fields)
    path = directory / "exercise.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def exercise_file(tmp_path: Path) -> ExerciseFactory:
    """Write an exercise (fields override the defaults) and return its path."""

    def make(**fields: Any) -> Path:
        return write_exercise(tmp_path, **fields)

    return make


@pytest.fixture(scope="module")
def library_run(
    tmp_path_factory: pytest.TempPathFactory, advisory_db: Path
) -> Iterator[tuple[Exercise, Journal]]:
    """Every scenario of the library replayed once (with the fixture advisory database of
    tests/conftest.py, so the deps scanner is assessed)."""
    base = tmp_path_factory.mktemp("library")
    db = advisory_db
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BASTION_ADVISORY_DB", str(db))
        ex = load_exercise(write_exercise(base))
        journal = replay(ex, Journal.open(base / "out"))
        yield ex, journal
