"""Bastion's Sigma matcher beside Zircolite 3.7.0 and pySigma's SQLite backend, same rules, same events.

    taskset -c 0 .venv/bin/python bench/sigma/run_bench.py --events build/sigma-bench/events.jsonl \\
        --rules build/sigma-bench/rules --zircolite-events 10000 --reference-events 2000

One core: this process pins itself to CPU 0 and Zircolite runs under ``taskset -c 0`` with
``--no-parallel``. Times are CPU seconds (user + system) and wall seconds; events/s is events over
CPU seconds, so a busy shared machine slows both sides alike. Writes a JSON summary (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from itertools import islice
from pathlib import Path

from bastion.detect.sigma.engine import SigmaEngine
from bastion.detect.sigma.events import ReadSkips, read_events
from bastion.detect.sigma.loader import load_rules

PEERS = Path(os.environ.get("BASTION_PEERS", Path(__file__).resolve().parents[3] / "shared" / "peers"))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bastion(rules: Path, events: Path, limit: int | None) -> dict:
    """Load the rules, then read and match the events; counts per rule id."""
    c0 = _cpu()
    ruleset = load_rules([rules])
    c1, w1 = _cpu(), time.perf_counter()
    engine = SigmaEngine(ruleset)
    counts: Counter[str] = Counter()
    skips = ReadSkips()
    stream = read_events([events], skips)
    for event in islice(stream, limit) if limit else stream:
        hits, _ = engine.process(event)
        for hit in hits:
            counts[hit.rule.id] += 1
    c2, w2 = _cpu(), time.perf_counter()
    n = engine.events
    return {
        "rules_loaded": len(ruleset.rules),
        "rules_refused": [r.line() for r in ruleset.refused],
        "events": n,
        "load_cpu_s": round(c1 - c0, 2),
        "match_cpu_s": round(c2 - c1, 2),
        "match_wall_s": round(w2 - w1, 2),
        "events_per_cpu_s": round(n / (c2 - c1)),
        "end_to_end_events_per_cpu_s": round(n / (c2 - c0)),
        "predicates_per_event": round(engine.index.tested / max(n, 1), 2),
        "alerts": sum(counts.values()),
        "counts": dict(counts),
    }


def zircolite(events: Path, n: int, workdir: Path) -> dict:
    """Run Zircolite (its own venv) on the first ``n`` events, one core, no parallelism."""
    sample = workdir / f"zircolite-{n}.jsonl"
    with events.open() as src, sample.open("w") as dst:
        dst.writelines(islice(src, n))
    out = workdir / "zircolite-out.json"
    python = os.environ.get("ZIRCOLITE_PYTHON", str(Path("build/peers/zircolite-venv/bin/python").absolute()))
    cmd = ["taskset", "-c", "0", python, "zircolite.py", "-e", str(sample), "-j", "-P", "-q",
           "-r", "rules/rules_windows_sysmon_high.json", "-o", str(out)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    subprocess.run(cmd, cwd=PEERS / "zircolite", check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - w0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    detections = json.loads(out.read_text())
    return {
        "events": n,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "events_per_cpu_s": round(n / cpu),
        "counts": {d["id"]: d["count"] for d in detections},
        "sample": str(sample),
    }


def reference(rules: Path, events: Path, n: int) -> dict:
    """pySigma's SQLite backend (rules converted to SQL) on the first ``n`` events; per-event agreement."""
    from bastion.detect.sigma.reference import SqliteReference

    c0 = _cpu()
    ref = SqliteReference([rules])
    c1 = _cpu()
    evs = list(islice(read_events([events]), n))
    c2 = _cpu()
    want = ref.match(evs)
    c3 = _cpu()
    engine = SigmaEngine(load_rules([rules]))
    differ = 0
    examples = []
    for event, ids in zip(evs, want, strict=True):
        got = sorted({r.id for r in engine.index.match(event)})
        if got != sorted(set(ids)):
            differ += 1
            if len(examples) < 5:
                examples.append({"source": event.source, "bastion": got, "reference": sorted(set(ids))})
    return {
        "events": n,
        "rules_converted": len({r.id for r in ref.rules}),
        "convert_cpu_s": round(c1 - c0, 2),
        "match_cpu_s": round(c3 - c2, 2),
        "events_per_cpu_s": round(n / (c3 - c2)),
        "events_differing": differ,
        "examples": examples,
    }


def main() -> None:
    """Run the three and print/write the summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=Path, required=True)
    ap.add_argument("--rules", type=Path, required=True)
    ap.add_argument("--zircolite-events", type=int, default=10_000)
    ap.add_argument("--reference-events", type=int, default=2_000)
    ap.add_argument("--skip-zircolite", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("build/sigma-bench/summary.json"))
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    result: dict = {"cpu": os.cpu_count(), "python": sys.version.split()[0]}
    result["bastion_full"] = bastion(args.rules, args.events, None)
    if not args.skip_zircolite:
        z = zircolite(args.events, args.zircolite_events, args.out.parent.absolute())
        b = bastion(args.rules, Path(z["sample"]), None)
        both = set(z["counts"]) | set(b["counts"])
        diff = {k: (b["counts"].get(k, 0), z["counts"].get(k, 0)) for k in both
                if b["counts"].get(k, 0) != z["counts"].get(k, 0)}  # fmt: skip
        result["zircolite"] = {k: v for k, v in z.items() if k != "counts"}
        result["bastion_same_sample"] = {k: v for k, v in b.items() if k != "counts"}
        result["rules_count_differs_vs_zircolite"] = diff
        result["ratio_vs_zircolite"] = round(b["events_per_cpu_s"] / z["events_per_cpu_s"], 1)
        result["ratio_full_vs_zircolite"] = round(
            result["bastion_full"]["events_per_cpu_s"] / z["events_per_cpu_s"], 1
        )
    if args.reference_events:
        result["pysigma_sqlite"] = reference(args.rules, args.events, args.reference_events)
    result["bastion_full"].pop("counts")
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
