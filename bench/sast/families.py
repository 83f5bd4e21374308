"""Writing a generated family of labelled test cases to disk (every generator's last step)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

__all__ = ["write_family"]


def write_family(root: Path, cases: dict[str, dict[str, str]], labels: dict[str, dict[str, object]]) -> None:
    """Replace ``root`` with one folder per case (its files) and ``labels.json``; print a summary."""
    shutil.rmtree(root, ignore_errors=True)
    for case_id, files in cases.items():
        for name, text in files.items():
            (root / case_id).mkdir(parents=True, exist_ok=True)
            (root / case_id / name).write_text(text, encoding="utf-8")
    (root / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True), encoding="utf-8")
    real = sum(1 for v in labels.values() if v["real"])
    print(f"family {root.name}: {len(labels)} cases ({real} real) in {root}")
