"""Self-consistency of version matching over the whole PyPA advisory database.

Every PyPA record lists the affected versions explicitly *and* gives ECOSYSTEM ranges. For each
listed version this evaluates the ranges alone (Bastion's PEP 440 order and the OSV algorithm)
and counts agreements; it also checks that each range's ``fixed`` version is *not* affected.

    .venv/bin/python bench/deps/check_ranges.py
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from bastion.advisories.records import decode, parse_record
from bastion.advisories.versions import UnsupportedVersion, is_affected

DATA = (
    Path(os.environ.get("BASTION_SHARED_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
    / "advisories"
    / "pypa"
    / "vulns"
)


def main() -> int:
    """Print agreement counts as JSON, with up to 10 examples of each disagreement."""
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for file in sorted(DATA.rglob("*.yaml")):
        advisory = parse_record(decode(file.read_bytes(), str(file)), str(file))
        if advisory.withdrawn:
            counts["withdrawn_records"] += 1
            continue
        for entry in advisory.affected:
            ranges = [r for r in entry.ranges if r.get("type") == "ECOSYSTEM"]
            if not ranges:
                continue
            for version in entry.versions:
                try:
                    verdict = is_affected("PyPI", version, ranges, [])
                except UnsupportedVersion:
                    counts["listed_unparsable"] += 1
                    continue
                key = "listed_in_range" if verdict else "listed_outside_range"
                counts[key] += 1
                if not verdict:
                    examples.setdefault(key, []).append(f"{advisory.id} {entry.name} {version}")
            for range_ in ranges:
                for event in range_.get("events", ()):
                    fixed = event.get("fixed")
                    if not isinstance(fixed, str):
                        continue
                    try:
                        verdict = is_affected("PyPI", fixed, ranges, [])
                    except UnsupportedVersion:
                        counts["fixed_unparsable"] += 1
                        examples.setdefault("fixed_unparsable", []).append(f"{advisory.id} {fixed}")
                        continue
                    counts["fixed_affected" if verdict else "fixed_not_affected"] += 1
                    if verdict:
                        examples.setdefault("fixed_affected", []).append(
                            f"{advisory.id} {entry.name} {fixed}"
                        )
    print(
        json.dumps({"counts": dict(counts), "examples": {k: v[:10] for k, v in examples.items()}}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
