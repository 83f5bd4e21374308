"""Golden files: what every fixture imports to, rule id by rule id and place by place.

``pytest tests/imports/test_import_golden.py --update-golden`` rewrites them from the current output;
a change in a mapping (a severity word, a location field, a fingerprint's content) then shows
as a diff of tests/fixtures/imports/golden/ to review.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from import_samples import FIXTURES, GOLDEN, sample_files

from bastion.imports import ImportResult, import_report


def fixture_files() -> list[Path]:
    return sample_files()


def summary(result: ImportResult) -> dict[str, Any]:
    """The facts a golden file pins: every finding's identity, severity, place and mapping."""

    def row(finding: Any) -> dict[str, Any]:
        return {
            "rule_id": finding.rule_id,
            "severity": finding.severity.value,
            "severity_source": finding.metadata["severity_source"],
            "location": finding.location.to_dict(),
            "fingerprint": finding.fingerprint,
            "cwe": list(finding.cwe),
            "cve": finding.metadata.get("cve", []),
            "controls": len(finding.controls),
            "equivalent_ids": finding.metadata.get("equivalent_ids", []),
        }

    return {
        "tool": result.tool,
        "tool_version": result.tool_version,
        "findings": [row(f) for f in result.findings],
        "suppressed": [{"reason": s.reason, **row(s.finding)} for s in result.suppressed],
        "skips": [[s.component, s.reason] for s in result.skips],
        "inventory": len(result.inventory),
        "duplicates": result.duplicates,
    }


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_import_matches_golden(path: Path, update_golden: bool) -> None:
    produced = summary(import_report(path.read_bytes(), path.name))
    golden = GOLDEN / path.relative_to(FIXTURES).with_suffix(".golden.json")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(produced, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}: run pytest --update-golden"
    assert produced == json.loads(golden.read_text(encoding="utf-8"))
