"""The sample reports of tests/fixtures/imports (see SOURCE.md there), shared by the tests."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
GOLDEN = FIXTURES / "golden"


def sample_files() -> list[Path]:
    """Every sample report: the files under FIXTURES but SOURCE.md and the golden files."""
    return sorted(
        p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "SOURCE.md" and GOLDEN not in p.parents
    )
