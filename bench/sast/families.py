"""Writing a generated family of labelled test cases to disk (every generator's last step)."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["run_families", "write_family"]


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


def run_families(
    generate: Callable[[str], tuple[dict[str, dict[str, str]], dict[str, dict[str, object]]]],
    default: Sequence[str],
) -> None:
    """The command line of a generator whose families need no seed: ``--out DIR`` and ``--family F``
    (repeatable; default ``default``)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("build/sast/cases"))
    parser.add_argument("--family", action="append", default=[])
    args = parser.parse_args()
    for fam in args.family or list(default):
        cases, labels = generate(fam)
        write_family(args.out / fam, cases, labels)
