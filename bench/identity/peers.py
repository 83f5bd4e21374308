"""Peer rules as baselines on the same corpus, scored like ``evaluate.py``.

- Panther's impossible-travel rule: consecutive successful sign-ins of one user faster than
  900 km/h, with no guard for VPN egress, shared networks or geo accuracy.
- A naive new-country rule: the first sign-in of a user from any country after warm-up.

    python bench/identity/peers.py build/identity/idA
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from bastion.detect.identity.events import Skips
from bastion.detect.identity.geo import GeoDB, distance_km
from bastion.detect.identity.read import read_events

sys.path.insert(0, str(Path(__file__).parent))
from evaluate import _matches


def main() -> None:
    c = Path(sys.argv[1])
    meta = json.loads((c / "meta.json").read_text())
    labels = [json.loads(x) for x in (c / "labels.jsonl").read_text().splitlines()]
    warm = datetime.fromisoformat(meta["day0"]) + timedelta(days=meta["warmup_days"])
    geo = GeoDB()
    geo.load_csv(c / "geo.csv")
    last: dict[str, tuple[datetime, float, float, str]] = {}
    countries: dict[str, set[str]] = {}
    alerts: dict[str, list[dict[str, object]]] = {"panther-impossible-travel": [], "naive-new-country": []}
    logs = [c / "entra.jsonl", c / "cloudtrail.jsonl.gz", c / "auth.log"]
    for e in read_events(logs, Skips(), 2026):
        if not e.success or e.action != "signin":
            continue
        info = geo.lookup(e.ip)
        if info.lat is None or info.lon is None:
            continue
        prev = last.get(e.user)
        last[e.user] = (e.time, info.lat, info.lon, e.ip)
        alert = {"time": e.time.isoformat(), "users": [e.user], "ips": [e.ip]}
        if prev:
            hours = max((e.time - prev[0]).total_seconds(), 60) / 3600
            if distance_km(prev[1], prev[2], info.lat, info.lon) / hours > 900:
                alerts["panther-impossible-travel"].append(alert)
        seen = countries.setdefault(e.user, set())
        if e.time >= warm and info.country not in seen:
            alerts["naive-new-country"].append(alert)
        seen.add(info.country)
    report = {}
    for rule, found in alerts.items():
        kind = "impossible-travel" if "travel" in rule else "new-country"
        attacks = [a for a in labels if a["kind"] == kind]
        recall = sum(any(_matches(x, a) for x in found) for a in attacks) / len(attacks)
        false = [
            x
            for x in found
            if datetime.fromisoformat(str(x["time"])) >= warm and not any(_matches(x, a) for a in labels)
        ]
        report[rule] = {
            "recall": round(recall, 3),
            "false_alerts": len(false),
            "false_per_10k": round(10_000 * len(false) / meta["normal_after_warmup"], 2),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
