"""Check that two Bastion JSON reports are the same apart from the run's duration.

Used around every speed change of the iac scanner: the findings, notices and skips of the scan
before and after must be identical, byte for byte, once ``duration_s`` (the only field that
depends on the clock) is blanked. Prints the first differing line otherwise.

Usage (from the repository root):
    .venv/bin/python bench/iac/same_output.py build/ref/before.json build/ref/after.json
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

_DURATION = re.compile(r'"duration_s": [0-9.]+')


def _normalised(path: Path) -> list[str]:
    return _DURATION.sub('"duration_s": 0', path.read_text(encoding="utf-8")).splitlines()


def main() -> int:
    """Exit 0 when the reports match, 1 (with the first difference) when they do not."""
    parser = argparse.ArgumentParser()
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    before, after = _normalised(args.before), _normalised(args.after)
    for number, (old, new) in enumerate(zip(before, after, strict=False), start=1):
        if old != new:
            print(f"line {number} differs:\n- {old[:300]}\n+ {new[:300]}")
            return 1
    if len(before) != len(after):
        print(f"lengths differ: {len(before)} vs {len(after)} lines")
        return 1
    print(f"same: {len(before)} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
