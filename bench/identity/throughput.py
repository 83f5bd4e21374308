"""Where the time goes: CPU seconds to read and parse a corpus, and to run the detections on it.

python bench/identity/throughput.py build/identity/idB3
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path

from bastion.detect.identity.engine import Engine
from bastion.detect.identity.events import Skips
from bastion.detect.identity.geo import GeoDB
from bastion.detect.identity.read import read_events


def main() -> None:
    c = Path(sys.argv[1])
    logs = [c / "entra.jsonl", c / "cloudtrail.jsonl.gz", c / "auth.log"]
    geo = GeoDB()
    geo.load_csv(c / "geo.csv")
    cpu = time.process_time()
    events = list(read_events(logs, Skips(), 2026))
    parse = time.process_time() - cpu
    engine = Engine(geo)
    cpu = time.process_time()
    alerts = sum(1 for _ in engine.run(events))
    detect = time.process_time() - cpu
    tracemalloc.start()  # a second run, for memory only (tracing slows it down)
    sum(1 for _ in Engine(geo).run(events))
    _, peak = tracemalloc.get_traced_memory()
    n = len(events)
    print(
        json.dumps(
            {
                "events": n,
                "alerts": alerts,
                "identities": len(engine.state.profiles),
                "parse_cpu_s": round(parse, 2),
                "parse_events_per_cpu_s": round(n / parse),
                "detect_cpu_s": round(detect, 2),
                "detect_events_per_cpu_s": round(n / detect),
                "detect_peak_mb_beyond_events": round(peak / 2**20, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
