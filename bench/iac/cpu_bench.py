"""CPU seconds (user + system, child processes included) of Bastion's iac scan, an older Bastion and
checkov on one corpus, interleaved. On a shared, overloaded machine wall time swings 3x from run to
run; CPU time is what the tools cost and moves far less.

Usage (from the repository root):
    .venv/bin/python bench/iac/cpu_bench.py --corpus bench/iac/corpus --rounds 3 \
        --baseline-src build/baseline/src --checkov build/peers/checkov-venv/bin/checkov
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess  # nosec B404 - runs the tools being compared, fixed argument lists
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BASTION = ROOT / ".venv" / "bin" / "bastion"


def main() -> int:
    """Print the median CPU seconds per tool and the ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=HERE / "corpus")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--checkov", type=Path, default=HERE / ".venv" / "bin" / "checkov")
    args = parser.parse_args()
    scan = ["scan", str(args.corpus), "-s", "iac", "-f", "json", "-q", "--fail-on", "none", "--jobs", "1"]
    tools: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "bastion": ([str(BASTION), *scan, "-o", os.devnull], None),
        "checkov": (
            [
                str(args.checkov),
                "-d",
                str(args.corpus),
                "--skip-download",
                "--framework",
                "terraform",
                "cloudformation",
                "kubernetes",
                "-o",
                "json",
                "--quiet",
                "--compact",
            ],
            None,
        ),
    }
    if args.baseline_src is not None:
        baseline_env = {**os.environ, "PYTHONPATH": str(args.baseline_src.resolve())}
        tools["baseline"] = ([str(BASTION), *scan, "-o", os.devnull], baseline_env)
    # Byte-code as an installed Bastion has it (pip compiles a wheel's modules; checkov's venv has
    # them): without this, a PYTHONDONTWRITEBYTECODE environment compiles every Bastion module from
    # source on every run (about 0.15 s), which checkov never pays. The first round is a warm-up
    # (policy cache, page cache) and is not counted.
    compileall.compile_dir(ROOT / "src", quiet=1)
    if args.baseline_src is not None:
        compileall.compile_dir(args.baseline_src, quiet=1)
    spent: dict[str, list[float]] = {name: [] for name in tools}
    for round_number in range(args.rounds + 1):
        for name, (command, env) in tools.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            # The (command, env) pairs share one taint (tuple elements are not tracked apart): env holds
            # bastion: ignore[sast.taint.subprocess] os.environ; the command is fixed above
            subprocess.run(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
            )  # nosec B603
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if round_number:
                spent[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    median = {name: statistics.median(values) for name, values in spent.items()}
    for name, values in spent.items():
        print(f"{name}: CPU s median {median[name]:.2f} {[round(v, 2) for v in values]}")
    print(f"checkov / bastion: {median['checkov'] / median['bastion']:.1f}x")
    if "baseline" in median:
        print(f"checkov / baseline: {median['checkov'] / median['baseline']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
