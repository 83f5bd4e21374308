"""``--history DIR``: keep each run's posture JSON and compare the run with the ones before."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.atomic import write_text
from bastion.errors import InputError
from bastion.structured import read_json

__all__ = ["Trend", "load_history", "save_run", "trend"]

_NAME = re.compile(r"^posture-\d{8}T\d{6}Z(-\d+)?\.json$")


@dataclass
class Trend:
    """Scores over time and what changed since the previous run."""

    points: list[dict[str, Any]] = field(default_factory=list)
    """One per run, oldest first: ``{"generated": ..., "scores": {framework: score}}``."""
    regressed: dict[str, list[str]] = field(default_factory=dict)
    """Framework -> controls that passed last run and fail now."""
    fixed: dict[str, list[str]] = field(default_factory=dict)
    """Framework -> controls that failed last run and pass now."""
    previous: str | None = None
    """When the previous run was."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "points": self.points,
            "regressed": self.regressed,
            "fixed": self.fixed,
            "previous": self.previous,
        }


def load_history(directory: Path) -> list[dict[str, Any]]:
    """Every run kept in ``directory``, oldest first; unreadable files are an error naming them."""
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise InputError(f"{directory}: --history must be a directory")
    runs: list[dict[str, Any]] = []
    for path in sorted(directory.iterdir()):
        if not _NAME.match(path.name):
            continue
        data = read_json(path, what="posture file")
        if isinstance(data, dict) and isinstance(data.get("frameworks"), dict):
            runs.append(data)
    runs.sort(key=lambda run: str(run.get("generated", "")))
    return runs


def save_run(directory: Path, posture: dict[str, Any]) -> Path:
    """Write ``posture`` as the newest run in ``directory`` (created if missing)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{directory}: cannot create history directory: {exc.strerror or exc}") from None
    stamp = str(posture["generated"]).replace("-", "").replace(":", "").split("+")[0]
    path = directory / f"posture-{stamp}Z.json"
    counter = 1
    while path.exists():
        path = directory / f"posture-{stamp}Z-{counter}.json"
        counter += 1
    write_text(path, json.dumps(posture, indent=1) + "\n", what="posture file")
    return path


def _statuses(run: dict[str, Any], framework: str) -> dict[str, str]:
    controls = run.get("frameworks", {}).get(framework, {}).get("controls", [])
    return {str(c["id"]): str(c["status"]) for c in controls if isinstance(c, dict) and "id" in c}


def trend(runs: list[dict[str, Any]], current: dict[str, Any]) -> Trend:
    """Scores of ``runs`` then ``current``, and the controls that changed since the last run."""
    result = Trend()
    for run in [*runs, current]:
        scores = {
            name: body.get("summary", {}).get("score") for name, body in run.get("frameworks", {}).items()
        }
        result.points.append({"generated": run.get("generated"), "scores": scores})
    if not runs:
        return result
    last = runs[-1]
    result.previous = str(last.get("generated"))
    for framework in current.get("frameworks", {}):
        before, now = _statuses(last, framework), _statuses(current, framework)
        regressed = [c for c, s in now.items() if s == "fail" and before.get(c) == "pass"]
        fixed = [c for c, s in now.items() if s == "pass" and before.get(c) == "fail"]
        if regressed:
            result.regressed[framework] = regressed
        if fixed:
            result.fixed[framework] = fixed
    return result
