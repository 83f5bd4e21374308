"""Start-up cost of ``bastion`` and ``bastion-hook``: CPU seconds (user + system of the child) and wall
seconds of short commands, for this tree and an older tree side by side, interleaved round by round.

On a shared, loaded machine wall time swings; CPU time is what a command costs and moves far less.

Usage (from the repository root):
    mkdir -p build/startup-base && git archive BASE_COMMIT src | tar -x -C build/startup-base
    .venv/bin/python bench/core/bench_startup.py --rounds 7 --baseline-src build/startup-base/src
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess  # nosec B404 - runs Bastion's own entry points with fixed argument lists
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FIXTURE = "tests/fixtures/iac/terraform"
SCAN = [FIXTURE, "-f", "json", "-o", os.devnull, "-q", "--fail-on", "none", "--jobs", "1"]

COMMANDS: dict[str, list[str]] = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "bastion --help": [str(BIN / "bastion"), "--help"],
    "bastion scan --help": [str(BIN / "bastion"), "scan", "--help"],
    "bastion-hook scan --help": [str(BIN / "bastion-hook"), "scan", "--help"],
    "bastion scan FIXTURE -s iac -f json": [str(BIN / "bastion"), "scan", *SCAN, "-s", "iac"],
    "bastion-hook scan FIXTURE --scanners iac": [
        str(BIN / "bastion-hook"),
        "scan",
        *SCAN,
        "--scanners",
        "iac",
    ],
}


def _cost(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(  # nosec B603 - fixed commands above
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def main() -> int:
    """Print a Markdown table: median CPU and wall seconds per command and tree, and the ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--baseline-src", type=Path, default=None, help="src/ of an older tree")
    args = parser.parse_args()
    trees: dict[str, dict[str, str]] = {"now": dict(os.environ)}
    if args.baseline_src is not None:
        trees["before"] = {**os.environ, "PYTHONPATH": str(args.baseline_src.resolve())}
    cpu: dict[tuple[str, str], list[float]] = {}
    wall: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for label, command in COMMANDS.items():
            for tree, env in trees.items():
                spent, took = _cost(command, env)
                cpu.setdefault((label, tree), []).append(spent)
                wall.setdefault((label, tree), []).append(took)
    header = "| command | " + " | ".join(f"{t} CPU s | {t} wall s" for t in trees)
    print(header + (" | before / now (CPU) |" if "before" in trees else " |"))
    print("|---|" + "---:|" * (2 * len(trees) + ("before" in trees)))
    for label in COMMANDS:
        cells = []
        for tree in trees:
            cells += [
                f"{statistics.median(cpu[label, tree]):.3f}",
                f"{statistics.median(wall[label, tree]):.3f}",
            ]
        ratio = ""
        if "before" in trees:
            ratio = (
                f" {statistics.median(cpu[label, 'before']) / statistics.median(cpu[label, 'now']):.2f}x |"
            )
        print(f"| {label} | " + " | ".join(cells) + " |" + ratio)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
