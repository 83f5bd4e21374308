"""Leave-systems-out evaluation of the template miner: GA, PA and FGA on held-out systems only.

Usage: .venv/bin/python bench/monitor/loso_eval.py [--input content|raw] [--drain3]

The eight loghub systems are split into four folds of two. For each fold, every miner setting
in GRID is scored on the six other systems and the best one (highest mean of GA and PA) is
kept; that setting alone is then scored on the fold's two systems. Only those held-out numbers
are reported, so no number comes from data that chose a setting. Ground truth: Loghub-2.0's
re-annotation of the 2k samples (loghub2-2k/).

Metrics (Loghub-2.0, Jiang et al., ISSTA 2024):
- GA: share of lines whose predicted group is exactly the set of lines of their true group.
- FGA: F1 of groups; a predicted group is correct when its lines are exactly one true group.
- PA: share of lines whose template text equals the true template. Two readings are printed:
  ``PA`` compares after :func:`canonical` on both sides (Loghub-2.0's template-correction rules:
  numbers and word-glued variables become ``<*>``, ``<*>`` joined by ``. : / @ #`` or nothing
  collapse to one), ``PA-exact`` only collapses whitespace.

``--input raw`` feeds the raw ``.log`` lines through ``bastion watch``'s own format detection
(no per-system regex) instead of the ground truth's ``Content`` column.

Baseline (an older miner): ``PYTHONPATH=<its src> python bench/monitor/loso_eval.py``; settings it
does not take are dropped, and ``bastion/detect/logs/evaluation.py`` must be copied next to it.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import itertools
import logging
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bastion.detect.logs import templates as bastion_templates
from bastion.detect.logs.evaluation import canonical, exact, grouping_scores, parsing_accuracy
from bastion.detect.logs.templates import TemplateMiner

DATA = (
    Path(os.environ.get("BASTION_SHARED_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
    / "logs"
)
SYSTEMS = ["HDFS", "BGL", "Linux", "OpenSSH", "Apache", "Hadoop", "Spark", "Zookeeper"]
FOLDS = [("HDFS", "Spark"), ("BGL", "Zookeeper"), ("Linux", "Hadoop"), ("OpenSSH", "Apache")]
"""Fixed folds: each pairs a system from the first half of SYSTEMS with one from the second."""

GRID: dict[str, list[Any]] = {
    "similarity": [0.5, 0.6, 0.7, 0.8],
    "max_values": [2, 3, 4],
    "evidence": [4, 8],
}
"""Settings the folds choose from (the miner's keyword arguments)."""


# -- data and miners -------------------------------------------------------------------------
def load(system: str, source: str) -> tuple[list[str], list[str], list[str]]:
    """(lines, true event ids, true templates) of one system's 2k sample."""
    with (DATA / f"loghub2-2k/{system}/{system}_2k.log_structured.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if source == "raw":
        raw = (DATA / f"loghub-2k/{system}/{system}_2k.log").read_text(encoding="utf-8").splitlines()
        lines = [line.rstrip("\r") for line in raw][: len(rows)]
    else:
        lines = [r["Content"] for r in rows]
    return lines, [r["EventId"] for r in rows], [r["EventTemplate"] for r in rows]


def messages(lines: list[str], source: str) -> list[str]:
    """The text the miner sees: ``Content`` as is; raw lines as ``bastion watch`` reads them
    (its format detection on the first 50 lines, then each line's message)."""
    if source != "raw":
        return lines
    from bastion.detect.ingest.records import detect_format

    fmt = detect_format(lines[:50])
    out = []
    for line in lines:
        record = fmt.parse(line)
        out.append(record.message if record is not None else line)
    return out


def supported(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings this miner accepts (an older miner, run for the baseline, has fewer)."""
    accepted = inspect.signature(TemplateMiner).parameters
    return {k: v for k, v in settings.items() if k in accepted}


def run_bastion(lines: list[str], settings: dict[str, Any]) -> tuple[list[int], list[str]]:
    """Event ids and per-line template texts of Bastion's miner, from a cold start."""
    bastion_templates.clear_caches()
    miner = TemplateMiner(**supported(settings))
    ids = miner.add_all(lines)
    return ids, miner.line_templates(lines) if hasattr(miner, "line_templates") else _texts(miner, lines)


def _texts(miner: TemplateMiner, lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        tokens = bastion_templates.mask_key(line)
        template = miner.match_tokens(tokens)
        out.append(bastion_templates.event_text(template, tokens) if template else line)
    return out


def run_drain3(lines: list[str]) -> tuple[list[int], list[str]]:
    """drain3 with its defaults; templates as drain3 reports them at the end."""
    from drain3 import TemplateMiner as Drain3Miner

    miner = Drain3Miner()
    ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
    templates = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return ids, [templates[i] for i in ids]


def score(
    ids: Sequence[object], texts: Sequence[str], truth_ids: Sequence[str], truth_texts: Sequence[str]
) -> dict[str, float]:
    """GA, FGA, PA and PA-exact of one run."""
    ga, fga = grouping_scores(ids, truth_ids)
    return {
        "GA": ga,
        "FGA": fga,
        "PA": parsing_accuracy(texts, truth_texts, canonical),
        "PA-exact": parsing_accuracy(texts, truth_texts, exact),
    }


def main() -> None:
    """Print the held-out table, the settings each fold chose, and drain3 for comparison."""
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", choices=("content", "raw"), default="content")
    parser.add_argument("--drain3", action="store_true", help="also score drain3 (defaults) per system")
    parser.add_argument("--all", action="store_true", help="also print every setting's score on every system")
    args = parser.parse_args()
    started = time.perf_counter()
    data = {s: load(s, args.input) for s in SYSTEMS}
    msgs = {s: messages(data[s][0], args.input) for s in SYSTEMS}
    keys = list(GRID)
    settings_list = [dict(zip(keys, values, strict=True)) for values in itertools.product(*GRID.values())]
    table: dict[tuple[str, int], dict[str, float]] = {}
    for s in SYSTEMS:
        for k, settings in enumerate(settings_list):
            ids, texts = run_bastion(msgs[s], settings)
            table[s, k] = score(ids, texts, data[s][1], data[s][2])
    metrics = ["GA", "PA", "FGA", "PA-exact"]
    print(f"input: {args.input}; grid: {GRID}")
    if args.all:  # for looking only: choosing from this table would be choosing on the test data
        for k, settings in enumerate(settings_list):
            cells = " ".join(f"{s}={table[s, k]['GA']:.3f}/{table[s, k]['PA']:.3f}" for s in SYSTEMS)
            print(settings, cells)
    print("\n| held-out system | fold's chosen setting | " + " | ".join(metrics) + " |")
    print("|---|---|" + "---|" * len(metrics))
    held: dict[str, dict[str, float]] = {}
    chosen = []
    for fold in FOLDS:
        train = [s for s in SYSTEMS if s not in fold]

        def objective(k: int, train: list[str] = train) -> float:
            return sum(table[s, k]["GA"] + table[s, k]["PA"] for s in train) / (2 * len(train))

        best = max(range(len(settings_list)), key=objective)
        chosen.append(settings_list[best])
        for s in fold:
            held[s] = table[s, best]
            cells = " | ".join(f"{held[s][m]:.3f}" for m in metrics)
            print(f"| {s} | {settings_list[best]} | {cells} |")
    means = {m: sum(held[s][m] for s in SYSTEMS) / len(SYSTEMS) for m in metrics}
    print("| **mean (held-out)** | | " + " | ".join(f"**{means[m]:.3f}**" for m in metrics) + " |")
    same = all(c == chosen[0] for c in chosen)
    print(f"\nOne configuration across folds: {'yes, ' + str(chosen[0]) if same else 'no'}")
    if args.drain3:
        print("\n| system | drain3 " + " | drain3 ".join(metrics) + " |")
        print("|---|" + "---|" * len(metrics))
        dsum: dict[str, float] = defaultdict(float)
        for s in SYSTEMS:
            r = score(*run_drain3(msgs[s]), data[s][1], data[s][2])
            for m in metrics:
                dsum[m] += r[m]
            print(f"| {s} | " + " | ".join(f"{r[m]:.3f}" for m in metrics) + " |")
        print("| mean | " + " | ".join(f"{dsum[m] / len(SYSTEMS):.3f}" for m in metrics) + " |")
    print(f"\n({time.perf_counter() - started:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
