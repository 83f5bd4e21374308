"""Compare the engine's Concurrency.THREAD and Concurrency.PROCESS pools, jobs=1 and 2.

Run from the repo root after ``bash bench/core/make_tree.sh``::

    .venv/bin/python bench/core/bench_concurrency.py                   # all scenarios, 3 reps
    .venv/bin/python bench/core/bench_concurrency.py --only marker --reps 5

Scenarios:

* ``marker``: tests/plugins/marker_scanner.py (pure-Python regex over every kept file,
  CPU-bound, holds the GIL, shardable) over .tree/big (>= 50,000 files).
* ``secrets``: the real secrets scanner (Python regexes behind an Aho-Corasick prefilter,
  shardable) over .tree/big.
* ``sast+secrets``: the real ``sast`` scanner (bandit in-process, semgrep as a subprocess,
  one unit) beside ``secrets`` (sharded) over .tree/sast (~700 .py files): a mixed run.

Each (mode, jobs) runs ``reps`` times, interleaved; the table gives the median and min
wall time of ``run_scan`` (walk included) and the median walk time alone. With jobs=1
the engine runs units inline, so THREAD and PROCESS take the same code path there.
"""

from __future__ import annotations

import argparse
import os
import pickle  # bastion: ignore[sast.bandit.B403] measures the cost of pickling our own ScanTarget
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
for extra in (REPO / "tests" / "plugins", HERE):
    sys.path.insert(0, str(extra))
# Spawned workers (non-fork start methods) need the same path.
os.environ["PYTHONPATH"] = os.pathsep.join([*sys.path[:2], os.environ.get("PYTHONPATH", "")])

from bastion.scan.base import ScanTarget  # noqa: E402
from bastion.scan.engine import Concurrency, EngineOptions, run_scan  # noqa: E402
from bastion.scan.registry import Registration  # noqa: E402
from bastion.scan.walk import WalkOptions, walk  # noqa: E402

SECRETS = Registration("secrets", "bastion.scan.secrets:SecretsScanner")
SAST = Registration("sast", "bastion.scan.sast:SastScanner")

CONFIGS = [
    (Concurrency.THREAD, 1),
    (Concurrency.PROCESS, 1),
    (Concurrency.THREAD, 2),
    (Concurrency.PROCESS, 2),
]


@dataclass
class Scenario:
    name: str
    tree: Path
    registrations: list[Registration]
    times: dict[tuple[Concurrency, int], list[float]] = field(default_factory=dict)
    findings: dict[tuple[Concurrency, int], int] = field(default_factory=dict)
    walk_times: list[float] = field(default_factory=list)


def scenarios(only: set[str] | None) -> list[Scenario]:
    tree = HERE / ".tree"
    out = [
        Scenario("marker", tree / "big", [Registration("marker", "marker_scanner:MarkerScanner")]),
        Scenario("secrets", tree / "big", [SECRETS]),
        Scenario(
            "sast+secrets", tree / "sast", [Registration("sast", "bastion.scan.sast:SastScanner"), SECRETS]
        ),
    ]
    return [s for s in out if only is None or s.name in only]


def run_once(s: Scenario, mode: Concurrency, jobs: int) -> float:
    options = EngineOptions(walk=WalkOptions(), concurrency=mode, jobs=jobs)
    start = time.perf_counter()
    result = run_scan(s.tree, s.registrations, options)
    elapsed = time.perf_counter() - start
    if result.failures:
        raise SystemExit(f"{s.name}: {[f.describe() for f in result.failures]}")
    key = (mode, jobs)
    s.times.setdefault(key, []).append(elapsed)
    s.findings[key] = len(result.findings)
    return elapsed


def describe(s: Scenario) -> str:
    walked = walk(s.tree, WalkOptions())
    target = ScanTarget(walked.root, tuple(walked.files))
    start = time.perf_counter()
    blob = pickle.dumps(target)
    pickle.loads(blob)  # bastion: ignore[sast.bandit.B301,sast.semgrep.python-pickle-load] bytes made above
    round_trip = time.perf_counter() - start
    return (
        f"{s.name}: tree {s.tree} -> {len(walked.files)} files kept, "
        f"{walked.bytes_total / 1e6:.0f} MB; pickled ScanTarget {len(blob) / 1e6:.1f} MB, "
        f"pickle round trip {round_trip:.2f} s (paid once per unit in PROCESS mode)"
    )


def report(s: Scenario, reps: int) -> None:
    walk_med = statistics.median(s.walk_times)
    print(f"\n### {s.name} (reps={reps}, walk alone: median {walk_med:.2f} s)\n")
    print("| mode | jobs | median s | min s | scan part (median - walk) s | findings | speed-up vs jobs=1 |")
    print("|---|---|---|---|---|---|---|")
    inline = statistics.median(s.times[(Concurrency.THREAD, 1)] + s.times[(Concurrency.PROCESS, 1)])
    for key in CONFIGS:
        times = s.times[key]
        med = statistics.median(times)
        print(
            f"| {key[0].value} | {key[1]} | {med:.2f} | {min(times):.2f} | {med - walk_med:.2f} "
            f"| {s.findings[key]} | {inline / med:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", action="append", help="marker, bandit or sast (repeatable)")
    args = parser.parse_args()
    chosen = scenarios(set(args.only) if args.only else None)
    print(f"python {sys.version.split()[0]}, cpus {os.cpu_count()}, start method fork on Linux")
    for s in chosen:
        if not s.tree.is_dir():
            raise SystemExit(f"{s.tree}: run bash bench/core/make_tree.sh first")
        print(describe(s), flush=True)
        for rep in range(args.reps):
            start = time.perf_counter()
            walk(s.tree, WalkOptions())
            s.walk_times.append(time.perf_counter() - start)
            for mode, jobs in CONFIGS:
                elapsed = run_once(s, mode, jobs)
                print(f"  rep {rep + 1} {mode.value:7} jobs={jobs}: {elapsed:.2f} s", flush=True)
        report(s, args.reps)


if __name__ == "__main__":
    main()
