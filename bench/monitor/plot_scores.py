"""Score distributions of normal vs abnormal HDFS sessions, one panel per model (PNG).

Reads the JSON written by hdfs_sessions.py --json; run with the bench venv (matplotlib):
bench/monitor/.venv/bin/python bench/monitor/plot_scores.py work/hdfs_scores.json scores.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def main() -> None:
    """Draw one histogram panel per model, log-scaled counts, threshold as a line."""
    results = json.loads(Path(sys.argv[1]).read_text())
    names = list(results)
    cols = 3
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        r = results[name]
        normal, abnormal = np.array(r["normal_scores"]), np.array(r["abnormal_scores"])
        both = np.concatenate([normal, abnormal])
        bins = np.linspace(both.min(), np.quantile(both, 0.995) + 1e-9, 40)
        ax.hist(
            np.clip(normal, None, bins[-1]),
            bins=bins,
            alpha=0.6,
            label=f"normal ({len(normal)})",
            color="tab:blue",
        )
        ax.hist(np.clip(abnormal, None, bins[-1]), bins=bins, alpha=0.6, label=f"abnormal ({len(abnormal)})",
                color="tab:red")  # fmt: skip
        ax.axvline(r["threshold"], color="black", linestyle="--", label="threshold")
        ax.set_yscale("log")
        ax.set_title(
            f"{name}: recall {r['recall']:.3f}, FPR {r['fpr']:.4f}, F1@real {r['f1_real']:.3f}", fontsize=9
        )
        ax.set_xlabel("anomaly score (clipped at the 99.5th percentile)")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle("HDFS sessions: train hdfs_train (4,855 normal); test 7,000 normal + 16,838 abnormal")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=90)


if __name__ == "__main__":
    main()
