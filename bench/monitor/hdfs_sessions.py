"""HDFS session benchmark: train on hdfs_train normals, test on robust_log normals + hdfs_test_abnormal.

Usage: .venv/bin/python bench/monitor/hdfs_sessions.py [--models pca,sequence,...] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path

import numpy as np

from bastion.detect.logs.registry import MODELS, make_model

DATA = (
    Path(os.environ.get("BASTION_SHARED_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
    / "logs"
    / "hdfs-sequences"
)
REAL_NORMALS = 553_366
PUBLISHED = {"pca": 0.79, "invariants": 0.91, "logclustering": 0.80, "deeplog": 0.96}


def read_plain(path: Path) -> list[list[int]]:
    """One session a line, space-separated event ids."""
    return [[int(t) for t in line.split()] for line in path.read_text().splitlines() if line.strip()]


def read_robust_normals() -> list[list[int]]:
    """Normal sessions (label 0) of robust_log_train/valid."""
    out = []
    for name in ("robust_log_train.csv", "robust_log_valid.csv"):
        with (DATA / name).open() as f:
            rows = csv.DictReader(f)
            out.extend([int(t) for t in row["Sequence"].split()] for row in rows if row["label"] == "0")
    return out


def main() -> None:
    """Run every model and print one table row each."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--json")
    args = parser.parse_args()
    train = read_plain(DATA / "hdfs_train")
    normals = read_robust_normals()
    abnormal = read_plain(DATA / "hdfs_test_abnormal")
    print(f"train {len(train)} normal-test {len(normals)} abnormal-test {len(abnormal)}")
    print("| model | recall | FPR | precision@real | F1@real | published F1 | fit s | score s |")
    print("|---|---|---|---|---|---|---|---|")
    results = {}
    for name in args.models.split(","):
        model = make_model(name)
        t0 = time.perf_counter()
        model.fit(train)
        t1 = time.perf_counter()
        pn = model.predict(normals)
        pa = model.predict(abnormal)
        t2 = time.perf_counter()
        recall = float(np.mean(pa))
        fpr = float(np.mean(pn))
        tp = recall * len(abnormal)
        precision = tp / (tp + fpr * REAL_NORMALS) if tp else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        results[name] = {
            "recall": recall,
            "fpr": fpr,
            "precision_real": precision,
            "f1_real": f1,
            "normal_scores": model.score(normals).tolist(),
            "abnormal_scores": model.score(abnormal).tolist(),
            "threshold": model.threshold,
        }
        pub = PUBLISHED.get(name, "-")
        cells = [f"{recall:.4f}", f"{fpr:.5f}", f"{precision:.4f}", f"{f1:.4f}", str(pub)]
        print(f"| {name} | " + " | ".join(cells) + f" | {t1 - t0:.1f} | {t2 - t1:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
