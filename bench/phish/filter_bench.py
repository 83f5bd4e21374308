"""Precision and recall of "automated" on a labelled mix: Bastion's filter against OpenAEV's rule.

The thresholds (fast_seconds, burst_seconds, beacon_wait_seconds, use_beacon) are chosen by F1 on
the tuning mix (generator A, seed 11) and reported on the held-out mix (generator B, seed 23),
next to the shipped botfilter.yml and OpenAEV's rule (user-agent list or a hit within 10 s).

    .venv/bin/python bench/phish/filter_bench.py --recipients 4000 -o build/phish/filter.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mix import Labelled, generate

from bastion.phish.botfilter import EventView, FilterRules, classify, load_rules, openaev_rule

SCORED = ("open", "click", "attachment", "submit", "report")


def _score(mix: list[Labelled], predicted: dict[int, bool]) -> dict[str, float]:
    tp = fp = fn = tn = 0
    for item in mix:
        if item.event.kind not in SCORED:
            continue
        guess = predicted[item.event.id]
        tp += guess and item.automated
        fp += guess and not item.automated
        fn += not guess and item.automated
        tn += not guess and not item.automated
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}  # fmt: skip


def _click_rate(mix: list[Labelled], predicted: dict[int, bool]) -> dict[str, float]:
    """Share of recipients counted as clickers: the truth, and what a filter leaves."""
    recipients = {i.event.recipient for i in mix}
    truth = {i.event.recipient for i in mix if i.event.kind in ("click", "attachment") and not i.automated}
    kept = {
        i.event.recipient
        for i in mix
        if i.event.kind in ("click", "attachment") and not predicted[i.event.id]
    }
    return {"true_pct": round(100 * len(truth) / len(recipients), 2),
            "measured_pct": round(100 * len(kept) / len(recipients), 2)}  # fmt: skip


def _open_rate(mix: list[Labelled], predicted: dict[int, bool]) -> dict[str, float]:
    """Share of recipients counted as having opened: the truth, and what a filter leaves."""
    recipients = {i.event.recipient for i in mix}
    truth = {i.event.recipient for i in mix if i.event.kind == "open" and not i.automated}
    kept = {i.event.recipient for i in mix if i.event.kind == "open" and not predicted[i.event.id]}
    return {"true_open_pct": round(100 * len(truth) / len(recipients), 2),
            "measured_open_pct": round(100 * len(kept) / len(recipients), 2)}  # fmt: skip


def bastion(rules: FilterRules) -> Callable[[list[Labelled]], dict[int, bool]]:
    """Bastion's classifier with ``rules``."""

    def run(mix: list[Labelled]) -> dict[int, bool]:
        return {c.event.id: c.automated for c in classify([i.event for i in mix], rules)}

    return run


def openaev(mix: list[Labelled]) -> dict[int, bool]:
    """OpenAEV's rule on each request alone."""
    return {i.event.id: openaev_rule(i.event) for i in mix}


def _views(mix: list[Labelled]) -> list[EventView]:
    return [i.event for i in mix]


def tune(mix: list[Labelled], base: FilterRules) -> tuple[FilterRules, list[dict[str, object]]]:
    """The grid point with the best F1 on ``mix``."""
    grid = []
    for fast, burst, wait, beacon in itertools.product(
        (2, 3, 5, 8, 10), (1, 2, 3, 5), (30, 120, 600), (True, False)
    ):
        rules = base.model_copy(
            update={
                "fast_seconds": fast,
                "burst_seconds": burst,
                "beacon_wait_seconds": wait,
                "use_beacon": beacon,
            }
        )
        score = _score(mix, bastion(rules)(mix))
        grid.append({"fast_seconds": fast, "burst_seconds": burst, "beacon_wait_seconds": wait,
                     "use_beacon": beacon, **score})  # fmt: skip
    best = max(grid, key=lambda g: (g["f1"], g["precision"]))
    chosen = base.model_copy(
        update={k: best[k] for k in ("fast_seconds", "burst_seconds", "beacon_wait_seconds", "use_beacon")}
    )
    return chosen, grid


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=4000)
    parser.add_argument("-o", "--output", type=Path, default=Path("build/phish/filter.json"))
    args = parser.parse_args()
    tuning = generate("tune", 11, args.recipients)
    heldout = generate("heldout", 23, args.recipients)
    heldout2 = generate("heldout2", 37, args.recipients)
    shipped = load_rules()
    chosen, grid = tune(tuning, shipped)
    without_apple = shipped.model_copy(
        update={"networks": tuple(n for n in shipped.networks if not n.name.startswith("Apple"))}
    )
    rows = []
    mixes = (
        ("tuning (A, seed 11)", tuning),
        ("held-out (B, seed 23)", heldout),
        ("held-out (C, seed 37)", heldout2),
    )
    for mix_name, mix in mixes:
        for name, run in (
            ("bastion (tuned on A)", bastion(chosen)),
            ("bastion (shipped botfilter.yml)", bastion(shipped)),
            ("bastion (shipped, no Apple network)", bastion(without_apple)),
            ("openaev (UA list + 10 s)", openaev),
        ):
            predicted = run(mix)
            rows.append(
                {
                    "mix": mix_name,
                    "filter": name,
                    **_score(mix, predicted),
                    **_click_rate(mix, predicted),
                    **_open_rate(mix, predicted),
                }
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    chosen_settings = chosen.model_dump(
        include={"fast_seconds", "burst_seconds", "beacon_wait_seconds", "use_beacon"}
    )
    args.output.write_text(
        json.dumps({"chosen": chosen_settings, "rows": rows, "grid": grid}, indent=2) + "\n"
    )
    print(f"chosen on the tuning mix: {chosen_settings}")
    header = ("mix", "filter", "precision", "recall", "F1", "click %", "measured", "open %", "measured")
    print("{:<24}{:<38}{:>10}{:>8}{:>8}{:>9}{:>10}{:>8}{:>10}".format(*header))
    for row in rows:
        print(f"{row['mix']:<24}{row['filter']:<38}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}"
              f"{row['true_pct']:>9.2f}{row['measured_pct']:>10.2f}"
              f"{row['true_open_pct']:>8.2f}{row['measured_open_pct']:>10.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
