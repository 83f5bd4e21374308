"""pyproject.toml ranges are checked through the lockfile that pins them, not reported unpinned."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bastion.cli.main import app

PYPROJECT = """[project]
name = "demo"
version = "1"
dependencies = ["Jinja2>=2.10", "pyyaml>=5", "requests>=2"]
"""
LOCK = """# locked with hashes
jinja2==2.10 \\
    --hash=sha256:74c935a1b8bb9a3947c50a54766a969d4846290e1e788ea44c1392163723c3bd
PyYAML==5.3 \\
    --hash=sha256:e9f45bd5b92c7974e59bcd2dcc8631a6b6cc380a904725fce7bc08872e691615
"""


def _scan(root: Path, advisory_db: Path) -> dict[str, object]:
    out = root.parent / f"{root.name}.json"
    result = CliRunner().invoke(
        app,
        ["scan", str(root), "--scanners", "deps", "--format", "json", "-o", str(out), "--fail-on", "none"],
        env={"BASTION_ADVISORY_DB": str(advisory_db)},
    )
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(out.read_text())
    return report


def _unpinned(report: dict[str, object]) -> set[str]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return {f["metadata"]["package"] for f in findings if f["rule_id"] == "deps.unpinned-dependency"}


def test_ranges_pinned_by_a_lock_below_the_project_are_checked_there(
    tmp_path: Path, advisory_db: Path
) -> None:
    root = tmp_path / "proj"
    (root / "requirements").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "requirements" / "dev.txt").write_text(LOCK)
    report = _scan(root, advisory_db)
    assert _unpinned(report) == {"requests"}  # the one range no lockfile pins
    findings = report["findings"]
    assert isinstance(findings, list)
    locked = {f["location"]["path"] for f in findings if f["rule_id"] != "deps.unpinned-dependency"}
    assert locked <= {"requirements/dev.txt"}


def test_a_lock_of_another_project_does_not_cover_the_range(tmp_path: Path, advisory_db: Path) -> None:
    root = tmp_path / "mono"
    (root / "app").mkdir(parents=True)
    (root / "other").mkdir()
    (root / "app" / "pyproject.toml").write_text(PYPROJECT)
    (root / "other" / "requirements.txt").write_text(LOCK)
    assert _unpinned(_scan(root, advisory_db)) == {"Jinja2", "pyyaml", "requests"}
