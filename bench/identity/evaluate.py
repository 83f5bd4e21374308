"""Score ``bastion identity detect`` on a generated corpus: recall per kind, false alerts per 10,000
normal sign-ins, time to detect, kind accuracy and throughput (one process, so one core).

    python bench/identity/evaluate.py build/identity/idA [--min-severity medium]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bastion.cli.main import main as bastion

SLACK = timedelta(hours=1)
ALERT_KIND = {"brute-force-slow": "brute-force"}
"""Labelled kinds whose alerts carry another kind's name (low-and-slow guessing is a brute force)."""
"""An alert matches an attack when it shares a user or an address and falls in [start, end + SLACK]."""


def _late(alert: dict[str, object], attack: dict[str, object]) -> bool:
    """An alert raised after the attack's window that names its user *and* one of its addresses (the
    attacker's: normal life never uses them), e.g. impossible travel when the victim next signs in at
    home. Not a false alert of normal life, not a detection in time either: counted apart."""
    if datetime.fromisoformat(str(alert["time"])) <= datetime.fromisoformat(str(attack["end"])):
        return False
    return bool(set(alert["users"]) & set(attack["users"]) and set(alert["ips"]) & set(attack["ips"]))  # type: ignore[arg-type]


def _matches(alert: dict[str, object], attack: dict[str, object]) -> bool:
    t = datetime.fromisoformat(str(alert["time"]))
    start, end = datetime.fromisoformat(str(attack["start"])), datetime.fromisoformat(str(attack["end"]))
    if not start - timedelta(seconds=1) <= t <= end + SLACK:  # CloudTrail and syslog keep whole seconds
        return False
    return bool(set(alert["users"]) & set(attack["users"]) or set(alert["ips"]) & set(attack["ips"]))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--min-severity", default="medium")
    parser.add_argument(
        "--windows", action="store_true", help="Read the SSH system's events as Windows Security JSON lines."
    )
    parser.add_argument(
        "--google",
        action="store_true",
        help="Read the Entra system's events as Google Workspace login pages (bench/identity/google.py).",
    )
    args = parser.parse_args()
    c: Path = args.corpus
    meta = json.loads((c / "meta.json").read_text())
    labels = [json.loads(x) for x in (c / "labels.jsonl").read_text().splitlines()]
    suffix = ("-windows" if args.windows else "") + ("-google" if args.google else "")
    out = c / f"alerts{suffix}.jsonl"
    ssh = c / ("windows.jsonl" if args.windows else "auth.log")
    logs = [str(c / ("google" if args.google else "entra.jsonl")), str(c / "cloudtrail.jsonl.gz"), str(ssh)]
    if args.google:  # sign-ins to accounts the domain does not have are not in Google's log
        meta["events"] -= json.loads((c / "google-summary.json").read_text())["dropped_unknown_accounts"]
    began, cpu = time.perf_counter(), time.process_time()
    bastion(
        [
            "identity",
            "detect",
            *logs,
            "--geo",
            str(c / "geo.csv"),
            "--year",
            "2026",
            "--format",
            "jsonl",
            "-o",
            str(out),
            "--min-severity",
            "low",
        ]
    )
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    alerts = [json.loads(x) for x in out.read_text().splitlines()]
    floor = ["info", "low", "medium", "high", "critical"].index(args.min_severity)
    counted = [
        a for a in alerts if ["info", "low", "medium", "high", "critical"].index(a["severity"]) >= floor
    ]
    warm = datetime.fromisoformat(meta["day0"]) + timedelta(days=meta["warmup_days"])
    per_kind: dict[str, list[int]] = {}
    late_kind: dict[str, list[int]] = {}
    delays: list[float] = []
    right_kind = detected = 0
    for attack in labels:
        hits = [a for a in counted if _matches(a, attack)]
        per_kind.setdefault(attack["kind"], []).append(1 if hits else 0)
        caught = bool(hits) or any(_late(a, attack) for a in counted)
        late_kind.setdefault(attack["kind"], []).append(1 if caught else 0)
        if hits:
            detected += 1
            first = min(hits, key=lambda a: a["time"])
            delays.append(
                (
                    datetime.fromisoformat(first["time"]) - datetime.fromisoformat(attack["start"])
                ).total_seconds()
            )
            kind = ALERT_KIND.get(attack["kind"], attack["kind"])
            right_kind += any(a["kind"] == kind for a in hits)
    unmatched = [
        a
        for a in counted
        if datetime.fromisoformat(a["time"]) >= warm and not any(_matches(a, attack) for attack in labels)
    ]
    late = [a for a in unmatched if any(_late(a, attack) for attack in labels)]
    false = [a for a in unmatched if a not in late]
    low_false = [
        a
        for a in alerts
        if a["severity"] == "low"
        and datetime.fromisoformat(a["time"]) >= warm
        and not any(_matches(a, attack) for attack in labels)
    ]
    normal = meta["normal_after_warmup"]
    report = {
        "corpus": str(c),
        "seed": meta["seed"],
        "org": meta["org"],
        "events": meta["events"],
        "normal_signins_after_warmup": normal,
        "recall": {k: round(sum(v) / len(v), 3) for k, v in sorted(per_kind.items())},
        "attacks": {k: len(v) for k, v in sorted(per_kind.items())},
        "false_alerts": len(false),
        "false_per_10k": round(10_000 * len(false) / normal, 2),
        "false_by_kind": dict(Counter(a["kind"] for a in false)),
        "late_alerts": len(late),
        "late_by_kind": dict(Counter(a["kind"] for a in late)),
        "false_per_10k_counting_late": round(10_000 * len(unmatched) / normal, 2),
        "recall_with_late": {k: round(sum(v) / len(v), 3) for k, v in sorted(late_kind.items())},
        "low_notes_not_attacks_per_10k": round(10_000 * len(low_false) / normal, 2),
        "low_by_kind": dict(Counter(a["kind"] for a in low_false)),
        "kind_accuracy": round(right_kind / max(detected, 1), 3),
        "time_to_detect_s": {
            "median": statistics.median(delays) if delays else None,
            "p90": sorted(delays)[int(0.9 * (len(delays) - 1))] if delays else None,
        },
        "wall_s": round(wall, 2),
        "events_per_s": round(meta["events"] / wall),
        "cpu_s": round(cpu, 2),
        "events_per_cpu_s": round(meta["events"] / cpu),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
