"""Link the SigmaHQ YAML rules behind a Zircolite ruleset into one folder, so both tools run the same rules.

Example (one line): python bench/sigma/select_rules.py
../shared/peers/zircolite/rules/rules_windows_sysmon_high.json build/sigma-bench/rules
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

DATA = Path(os.environ.get("BASTION_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def main() -> None:
    """Link each rule of the Zircolite JSON ruleset (by id) from the SigmaHQ copy."""
    ruleset, out = Path(sys.argv[1]), Path(sys.argv[2])
    wanted = {r["id"] for r in json.loads(ruleset.read_text(encoding="utf-8"))}
    out.mkdir(parents=True, exist_ok=True)
    found = 0
    for path in sorted((DATA / "sigma-rules").rglob("*.yml")):
        m = re.search(r"^id:\s*(\S+)", path.read_text(encoding="utf-8"), re.M)
        if m and m.group(1) in wanted:
            link = out / f"{m.group(1)}.yml"
            if not link.exists():
                link.symlink_to(path.resolve())
            found += 1
    print(f"{found} of {len(wanted)} rules of {ruleset.name} linked into {out}")


if __name__ == "__main__":
    main()
