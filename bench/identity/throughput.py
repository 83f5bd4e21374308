"""End-to-end throughput and peak memory of ``bastion identity detect``, per log format.

Each measurement is a fresh process (so peak RSS is its own) that imports Bastion, then times one
``bastion identity detect FILE --geo geo.csv`` call: read, decode, parse, geo, detect, write alerts.
Events per CPU second count the CPU time of that call (the interpreter's start and imports, about
0.5 s, are reported apart); the best of ``--repeat`` runs is kept (the machine is shared).

    python bench/identity/throughput.py build/identity/big [--repeat 3]
    git archive 15bf3d7^ src | tar -x -C build/before    # the code before this round, side by side:
    python bench/identity/throughput.py build/identity/big --compare build/before/src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess  # bastion: ignore[sast.bandit.B404] runs this same interpreter on a fixed script
import sys
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
began = time.process_time()
from bastion.cli.main import main
imports = time.process_time() - began
corpus, files, out = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
args = ["identity", "detect", *[f"{corpus}/{f}" for f in files], "--geo", f"{corpus}/geo.csv",
        "--year", "2026", "--format", "table", "-o", out]
cpu, wall = time.process_time(), time.perf_counter()
try:
    main(args)
except SystemExit:
    pass
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
last = open(out, encoding="utf-8").read().splitlines()[-1]  # "N alert(s) from M sign-in event(s)"
events = int(last.split(" from ")[1].split()[0])
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"events": events, "cpu_s": cpu, "wall_s": wall, "imports_cpu_s": imports,
                  "peak_rss_mb": rss}))
"""

FORMATS = {
    "entra": ["entra.jsonl"],
    "cloudtrail": ["cloudtrail.jsonl.gz"],
    "authlog": ["auth.log"],
    "windows": ["windows.jsonl"],
    "all three": ["entra.jsonl", "cloudtrail.jsonl.gz", "auth.log"],
    "google": ["google"],  # the Entra people as Google Workspace login pages (bench/identity/google.py)
    "google merged": ["google", "cloudtrail.jsonl.gz", "auth.log"],
}


def _run(corpus: Path, files: list[str], src: Path | None) -> dict[str, float]:
    env = dict(os.environ)
    if src is not None:  # another Bastion source tree (an older commit, for a side-by-side run)
        env["PYTHONPATH"] = str(src)
    out = corpus / "throughput-alerts.txt"
    done = subprocess.run(  # bastion: ignore[sast.bandit.B603] fixed argv, no shell
        [sys.executable, "-c", _CHILD, str(corpus), ",".join(files), str(out)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    run: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return run


def _best(runs: list[dict[str, float]], stat: str = "best") -> dict[str, float]:
    if stat == "median":  # each measure's median over the runs (the brief's method: load comes and goes)
        best = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    else:
        best = dict(min(runs, key=lambda r: r["cpu_s"]))
    best["events_per_cpu_s"] = round(best["events"] / best["cpu_s"])
    best["events_per_wall_s"] = round(best["events"] / best["wall_s"])
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in best.items()}


def measure(
    corpus: Path, files: list[str], repeat: int, compare: Path | None = None, stat: str = "best"
) -> dict[str, object]:
    """Best (least CPU) or median of ``repeat`` fresh-process runs over ``files`` of ``corpus``; with
    ``compare`` (a ``src`` folder of another commit) its runs alternate with these, so both see the same
    load, and the median of the pairs' CPU ratios is given too."""
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for _ in range(repeat):
        ours.append(_run(corpus, files, None))
        if compare is not None:
            theirs.append(_run(corpus, files, compare))
    result: dict[str, object] = dict(_best(ours, stat))
    if theirs:
        before = _best(theirs, stat)
        pairs = [b["cpu_s"] / a["cpu_s"] for a, b in zip(ours, theirs, strict=True)]
        result["speedup_cpu_pairs_median"] = round(statistics.median(pairs), 2)
        result["before_events_per_cpu_s"] = before["events_per_cpu_s"]
        result["before_peak_rss_mb"] = before["peak_rss_mb"]
        result["speedup_cpu"] = round(before["cpu_s"] / float(result["cpu_s"]), 2)  # type: ignore[arg-type]
    return result


def main() -> None:
    """Print one JSON line per format."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--formats",
        default=",".join(k for k in FORMATS if not k.startswith("google")),
        help=f"Comma-separated subset of: {', '.join(FORMATS)} (google: run bench/identity/google.py first).",
    )
    parser.add_argument("--compare", type=Path, help="src/ of another commit, run alternately (git archive).")
    parser.add_argument(
        "--stat", choices=["best", "median"], default="best", help="Keep the best run (default) or medians."
    )
    args = parser.parse_args()
    for name in args.formats.split(","):
        result = measure(args.corpus, FORMATS[name], args.repeat, args.compare, args.stat)
        print(json.dumps({"format": name, **result}), flush=True)


if __name__ == "__main__":
    main()
