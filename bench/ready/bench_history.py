"""What keeping readiness assessments adds to each ``/ready`` view: the earlier-day lookup and the
day's upsert in its own write transaction, over a table already holding ``--days`` days for
``--audiences`` audiences (one organisation row per audience and day).

    python bench/ready/bench_history.py --url sqlite:///build/ready-history.db --calls 300
    python bench/ready/bench_history.py --url postgresql://postgres@127.0.0.1:5432/DB --calls 300
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bastion.store.db import Store
from bastion.store.ready_history import (
    ORGANISATION,
    ReadyAssessment,
    Snapshot,
    audience_of,
    previous_snapshot,
    record_snapshot,
)

DIMS = {"prepare": 40.0, "detect": 20.0, "respond": 10.0, "recover": 0.0}


def main() -> None:
    """Fill, then time lookup + upsert per simulated view; print median and p95 in ms."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--audiences", type=int, default=50)
    args = parser.parse_args()
    store = Store.open(args.url)
    store.migrate()
    now = datetime.now(UTC)
    audiences = [audience_of("user", range(i + 1)) for i in range(args.audiences)]
    rows = [
        {
            "scope": ORGANISATION,
            "audience_key": a.key,
            "audience_kind": a.kind,
            "project_ids": list(a.project_ids),
            "day": (now - timedelta(days=d)).date(),
            "at": now - timedelta(days=d),
            "verdict": "not ready",
            "overall": 17.5,
            "dimensions": DIMS,
        }
        for a in audiences
        for d in range(1, args.days)
    ]
    with store.write() as session:
        session.execute(insert(ReadyAssessment), rows)
    took = []
    for i in range(args.calls):
        audience = audiences[i % len(audiences)]
        start = time.perf_counter()
        with store.read() as session:
            previous_snapshot(session, ORGANISATION, audience, now.date())
        with store.write() as session:
            record_snapshot(session, ORGANISATION, audience, Snapshot(now, "not ready", 17.5, DIMS))
        took.append((time.perf_counter() - start) * 1000)
    took.sort()
    p95 = took[int(0.95 * (len(took) - 1))]
    print(f"{store.dialect}: {len(rows)} rows kept, {args.calls} views: "
          f"median {statistics.median(took):.2f} ms, p95 {p95:.2f} ms")  # fmt: skip
    store.close()


if __name__ == "__main__":
    main()
