"""Re-run every repro of issue 13 as an outside tester and print RESULTS.md's table.

    .venv/bin/python bench/trust/rerun.py [--only 1,9,deps] > build/trust-rerun.md

Each check runs the real ``bastion`` command or talks HTTP to ``bastion serve`` on 127.0.0.1
(see harness.py); the workspace is a temporary directory removed at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases_deps
import cases_scan
import cases_server
from harness import Row, Server, Workspace, start_server

SCAN: dict[str, Callable[[Workspace], list[Row]]] = {
    "4": cases_scan.item4,
    "5": cases_scan.item5,
    "6": cases_scan.item6,
    "10": cases_scan.item10,
    "12": cases_scan.item12,
    "13": cases_scan.item13,
    "14": cases_scan.item14,
    "15": cases_scan.item15,
    "17": cases_scan.item17,
    "deps": cases_deps.dependency_extraction,
    "sbom": cases_deps.cyclonedx,
}
SERVED: dict[str, Callable[[Workspace, Server], list[Row]]] = {
    "1": cases_server.item1,
    "2": cases_server.item2,
    "3": cases_server.item3,
    "7": cases_server.item7,
    "11": cases_server.item11,
    "16": cases_server.item16,
    "8": cases_server.item8,
    "9": cases_server.item9,
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> int:
    """Run the checks; print a markdown table; exit 1 when any line does not hold."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated items (1..17, deps, sbom)")
    wanted = {x.strip() for x in parser.parse_args().only.split(",") if x.strip()}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bastion-trust-") as temp:
        ws = Workspace(Path(temp), {"NO_COLOR": "1", "COLUMNS": "200"})
        server = start_server(ws) if not wanted or wanted & set(SERVED) else None
        try:
            for key, check in [*SCAN.items(), *SERVED.items()]:
                if wanted and key not in wanted:
                    continue
                started = time.perf_counter()
                try:
                    found = check(ws, server) if key in SERVED else check(ws)  # type: ignore[call-arg,arg-type]
                except Exception as exc:  # a broken repro is a line that does not hold, not a crash
                    traceback.print_exc(file=sys.stderr)
                    found = [Row(key, "(repro crashed)", "-", f"{type(exc).__name__}: {exc}"[:200], False)]
                rows.extend(found)
                print(f"item {key}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        finally:
            if server is not None:
                server.stop()
    print("| item | command | expected | observed | holds |")
    print("|---|---|---|---|---|")
    for row in rows:
        cells = (row.item, row.command, row.expected, row.observed, "yes" if row.holds else "**NO**")
        print("| " + " | ".join(_cell(c) for c in cells) + " |")
    return 0 if all(row.holds for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
