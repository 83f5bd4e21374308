"""Template-mining benchmark: grouping accuracy and lines/s, Bastion's miner vs drain3 (defaults).

Usage: .venv/bin/python bench/monitor/templates_bench.py [--repeat 5]
Speed: both miners timed in this one process, in turns, best of --repeat runs each.
Ground truths: loghub-2k (original), loghub-2k-corrected (Khan et al. 2022), loghub2-2k (Loghub-2.0).
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import time
from collections import defaultdict
from pathlib import Path

from drain3 import TemplateMiner as Drain3Miner

import bastion.detect.logs.templates as bastion_templates
from bastion.detect.logs.templates import TemplateMiner

DATA = (
    Path(os.environ.get("BASTION_SHARED_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
    / "logs"
)
SYSTEMS = ["HDFS", "BGL", "Linux", "OpenSSH", "Apache", "Hadoop", "Spark", "Zookeeper"]
TRUTHS = {
    "loghub-2k": "loghub-2k/{s}/{s}_2k.log_structured.csv",
    "corrected": "loghub-2k-corrected/{s}/{s}_2k.log_structured_corrected.csv",
    "loghub-2.0": "loghub2-2k/{s}/{s}_2k.log_structured.csv",
}


def grouping_accuracy(pred: list[int], truth: list[str]) -> float:
    """Share of lines whose predicted group is exactly their ground-truth group."""
    groups: dict[int, set[int]] = defaultdict(set)
    true_groups: dict[str, set[int]] = defaultdict(set)
    for i, (p, t) in enumerate(zip(pred, truth, strict=True)):
        groups[p].add(i)
        true_groups[t].add(i)
    ok = sum(len(idx) for idx in groups.values() if true_groups[truth[next(iter(idx))]] == idx)
    return ok / len(pred)


def run_bastion(lines: list[str], **settings: float) -> list[int]:
    """Bastion's miner from a cold start (its token and line-shape caches cleared)."""
    # Miners before the line-shape cache (commit e9b123a) had only the token cache: the same
    # script measures them too (PYTHONPATH pointing at that commit's src/).
    # clear_caches() exists since the shape cache; older miners (the "before" runs) had one cache.
    clear = getattr(bastion_templates, "clear_caches", None) or bastion_templates._VARIABLE_CACHE.clear
    clear()
    return TemplateMiner(**settings).add_all(lines)


def run_drain3(lines: list[str]) -> list[int]:
    """drain3 with its default configuration."""
    miner = Drain3Miner()
    return [miner.add_log_message(line)["cluster_id"] for line in lines]


CLOCK = time.perf_counter
"""Wall clock by default; ``--cpu`` switches to this process's CPU time (steadier on a loaded machine)."""


def best_rates(lines: list[str], repeat: int) -> tuple[float, float]:
    """Best lines/s of Bastion and of drain3 over ``repeat`` runs each, taken in turns (fair under load)."""
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for k, fn in enumerate((run_bastion, run_drain3)):
            t = CLOCK()
            fn(lines)
            best[k] = min(best[k], CLOCK() - t)
    return len(lines) / best[0], len(lines) / best[1]


def main() -> None:
    """Print the accuracy and speed tables."""
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mixed-only", action="store_true", help="only the 16,000-line mixed stream's speed")
    parser.add_argument("--cpu", action="store_true", help="time by process CPU time, not wall clock")
    args = parser.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    contents: dict[str, list[str]] = {}
    truths: dict[tuple[str, str], list[str]] = {}
    for s in SYSTEMS:
        for name, pattern in TRUTHS.items():
            with (DATA / pattern.format(s=s)).open(encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            contents.setdefault(s, [r["Content"] for r in rows])
            truths[s, name] = [r["EventId"] for r in rows]
    if args.mixed_only:
        mixed = [line for s in SYSTEMS for line in contents[s]]
        rate_b, rate_d = best_rates(mixed, args.repeat)
        ratio = rate_b / rate_d
        print(f"mixed stream: Bastion {rate_b:,.0f} lines/s, drain3 {rate_d:,.0f} lines/s, ratio {ratio:.2f}")
        return
    print(
        "| system | "
        + " | ".join(f"Bastion {n} | drain3 {n}" for n in TRUTHS)
        + " | Bastion l/s | drain3 l/s | ratio |"
    )
    print("|---" * (2 + 2 * len(TRUTHS) + 2) + "|")
    sums: dict[str, float] = defaultdict(float)
    all_lines: list[str] = []
    for s in SYSTEMS:
        lines = contents[s]
        all_lines.extend(lines)
        ours, theirs = run_bastion(lines), run_drain3(lines)
        cells = []
        for name in TRUTHS:
            a, b = grouping_accuracy(ours, truths[s, name]), grouping_accuracy(theirs, truths[s, name])
            sums["b" + name] += a
            sums["d" + name] += b
            cells += [f"{a:.3f}", f"{b:.3f}"]
        rate_b, rate_d = best_rates(lines, args.repeat)
        print(f"| {s} | " + " | ".join(cells) + f" | {rate_b:,.0f} | {rate_d:,.0f} | {rate_b / rate_d:.2f} |")
    means = [f"**{sums['b' + n] / len(SYSTEMS):.4f}** | {sums['d' + n] / len(SYSTEMS):.4f}" for n in TRUTHS]
    print("| mean | " + " | ".join(means) + " | | | |")
    rate_b, rate_d = best_rates(all_lines, args.repeat)
    print(
        f"\nAll 16,000 lines in one stream: Bastion {rate_b:,.0f} lines/s, drain3 {rate_d:,.0f} lines/s "
        f"(ratio {rate_b / rate_d:.2f})"
    )
    print("\nSensitivity (mean GA on loghub-2k) of Bastion's two settings around the one default:")
    for settings in ({"max_values": 2}, {"max_values": 3}, {"max_values": 4}, {"max_values": 6},
                     {"similarity": 0.4}, {"similarity": 0.5}, {"similarity": 0.6}):  # fmt: skip
        mean = sum(
            grouping_accuracy(run_bastion(contents[s], **settings), truths[s, "loghub-2k"]) for s in SYSTEMS
        ) / len(SYSTEMS)
        print(f"- {settings}: {mean:.4f}")


if __name__ == "__main__":
    main()
