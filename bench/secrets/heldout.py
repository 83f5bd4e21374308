"""Bastion alone on a freshly generated labeled corpus (a seed never used before): precision, recall
and F1 at every confidence floor, scored exactly as ``run_bench.py corpus`` scores (its ``score``).

For the issue's held-out target without the peers' venv. Only counts and rule ids are printed.

Usage (from the repository root):
    .venv/bin/python bench/secrets/make_corpus.py --seed SEED --out build/secrets-heldout
    .venv/bin/python bench/secrets/heldout.py build/secrets-heldout
"""

from __future__ import annotations

import argparse
import subprocess  # nosec B404 - runs Bastion on the corpus, fixed argument list
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_bench  # the scoring of the main benchmark, reused as is


def main() -> int:
    """Scan the corpus once and print the scores at low, medium and high confidence."""
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    tree = args.corpus / "tree"
    out = args.corpus / "bastion.json"
    subprocess.run(run_bench.bastion_cmd(tree, out), check=True)  # nosec B603
    for floor in ("low", "medium", "high"):
        score = run_bench.score(run_bench.parse_bastion(out, tree, floor), args.corpus)
        print(
            f"min confidence {floor}: TP {score.tp} FP {score.fp} FN {score.fn} "
            f"precision {score.precision} recall {score.recall} F1 {score.f1}"
        )
        if floor != "high":
            rules = Counter(m["rule"] for fp in score.fp_list for m in fp["meta"])
            missed = Counter(fn["type"] for fn in score.fn_list)
            print(f"  false positives by rule: {dict(rules.most_common(8))}")
            print(f"  misses by type: {dict(missed.most_common(8))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
