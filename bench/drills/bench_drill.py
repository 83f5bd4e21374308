"""Benchmark: a 24-hour exercise replay of a 300-person organisation, all scenarios, default config.

Measures the wall time of each run's replay (telemetry generation plus all four detector families) on
one process, then coverage, time to detect per scenario and false alerts per hour of baseline.

    taskset -c 0 .venv/bin/python bench/drills/bench_drill.py --runs 5 -o build/bench-drills

Writes build/bench-drills/bench.json and the exercise reports; prints a Markdown summary.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from bastion.drills.exercise import load_exercise
from bastion.drills.journal import Journal
from bastion.drills.replay import replay
from bastion.drills.report import document, scoreboard

HERE = Path(__file__).parent


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs (each a fresh seeded schedule)")
    parser.add_argument("-o", "--out", type=Path, default=Path("build/bench-drills"))
    parser.add_argument("--exercise", type=Path, default=HERE / "exercise-300.yml")
    args = parser.parse_args(argv)
    shutil.rmtree(args.out, ignore_errors=True)
    ex = load_exercise(args.exercise)
    ex = replace(ex, runs=args.runs)
    journal = Journal.open(args.out)
    seconds: list[float] = []
    cpu: list[float] = []
    family_s: dict[str, list[float]] = {}
    last = [time.perf_counter()]

    def on_unit(unit: object) -> None:
        now = time.perf_counter()
        family_s.setdefault(getattr(unit, "family", "?"), []).append(now - last[0])
        last[0] = now

    for run in range(args.runs):
        one = replace(ex, runs=run + 1)
        started, cpu_started = time.perf_counter(), time.process_time()
        last[0] = started
        replay(one, journal, on_unit=on_unit)
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    board = scoreboard(ex, journal)
    doc = document(ex, journal, board)
    events = sum(u.events for u in journal.units.values()) / args.runs
    result = {
        "exercise": ex.name,
        "runs": args.runs,
        "users": len(ex.mapping.users),
        "hosts": len(ex.mapping.hosts),
        "hours_per_run": ex.duration_h,
        "events_per_run": events,
        "replay_s_per_run": {"median": statistics.median(seconds), "max": max(seconds), "all": seconds},
        "replay_cpu_s_per_run": {"median": statistics.median(cpu), "max": max(cpu), "all": cpu},
        "family_s_median": {k: statistics.median(v) for k, v in family_s.items()},
        "coverage": doc["coverage"],
        "false_alerts": doc["false_alerts"],
        "scenarios": [
            {"id": s["id"], "status": s["status"], "detected": s["detected"], "assessed": s["assessed"],
             "ttd_median_s": s["ttd"]["median_s"], "ttd_p90_s": s["ttd"]["p90_s"]}
            for s in doc["scenarios"]
        ],
    }  # fmt: skip
    (args.out / "bench.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    out = sys.stdout
    med = statistics.median(seconds)
    out.write(f"replay of {ex.duration_h:g} h, {len(ex.mapping.users)} users: median {med:.1f} s "
              f"per run (max {max(seconds):.1f} s; CPU median {statistics.median(cpu):.1f} s), "
              f"{events:,.0f} events per run\n")  # fmt: skip
    out.write(
        "per family (median s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in result["family_s_median"].items())
        + "\n"
    )
    cov = doc["coverage"]
    out.write(f"coverage {cov['detected']}/{cov['assessed']} scenario runs; "
              f"false alerts {doc['false_alerts']['total']}"
              f" ({doc['false_alerts']['per_hour']:.3f} per hour of baseline)\n\n")  # fmt: skip
    out.write("| scenario | status | detected/assessed | TTD median | TTD p90 |\n|---|---|---|---|---|\n")
    for s in result["scenarios"]:
        med = "-" if s["ttd_median_s"] is None else f"{s['ttd_median_s']:.0f} s"
        p90 = "-" if s["ttd_p90_s"] is None else f"{s['ttd_p90_s']:.0f} s"
        out.write(f"| {s['id']} | {s['status']} | {s['detected']}/{s['assessed']} | {med} | {p90} |\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
