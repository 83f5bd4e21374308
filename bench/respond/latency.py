"""Alert-to-action latency of a block-IP playbook, without approval.

Each sample: one JSON line -> Alert -> trigger match -> safeguards (kill switch, breaker,
allow-list of 50 ranges, per-playbook and total limits from the ledger) -> nft check -> intent
record (SQLite commit) -> apply -> applied record (SQLite commit). ``--mode active`` builds and
sends the real nft JSON batch to a recording runner (the command-building path: ``nft`` is not
installed here, so the kernel's own time is not in the number); ``--mode dry-run`` plans only.

    .venv/bin/python bench/respond/latency.py --alerts 2000 --mode active
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bastion.respond.actions.base import RecordingRunner
from bastion.respond.actions.registry import ActionContext
from bastion.respond.alerts import parse_alert
from bastion.respond.engine import Responder
from bastion.respond.ledger import Ledger, Status
from bastion.respond.playbook import Playbook, Safeguards


def main() -> None:
    """Run the benchmark and print p50/p99 in milliseconds."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--mode", choices=["active", "dry-run"], default="active")
    args = parser.parse_args()
    book = Playbook.model_validate(
        {
            "id": "block",
            "mode": args.mode,
            "trigger": {"detector": ["identity.*"], "min_severity": "medium", "entity": {"kind": "ip"}},
            "actions": [{"type": "block-ip", "params": {"timeout_s": 3600}}],
            "limits": {"per_minute": 10**9, "per_hour": 10**9},
        }
    )
    guards = Safeguards.model_validate(
        {
            "allow_ips": [f"10.{n}.0.0/16" for n in range(50)],
            "breaker": {"max_per_minute": 10**9, "max_per_hour": 10**9},
        }
    )
    start = datetime(2026, 12, 7, tzinfo=UTC)
    lines = [
        json.dumps(
            {
                "detector": "identity.spray",
                "severity": "high",
                "score": 0.9,
                "entity": f"198.{18 + n // 65536}.{(n // 256) % 256}.{n % 256}",
                "entity_kind": "ip",
                "window_start": start.isoformat(),
                "window_end": (start + timedelta(minutes=5)).isoformat(),
                "explanation": "password spray",
                "metadata": {"rule_id": "identity.password-spray"},
            }
        )
        for n in range(args.alerts)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        runner = RecordingRunner()
        responder = Responder(
            [book], guards, Ledger(Path(tmp) / "ledger.sqlite"), ActionContext(runner=runner)
        )
        samples = []
        expected = Status.APPLIED if args.mode == "active" else Status.PLANNED
        for n, line in enumerate(lines):
            t0 = time.perf_counter()
            outcomes = responder.handle(parse_alert(line, f"bench:{n}"))
            samples.append((time.perf_counter() - t0) * 1000)
            if outcomes[0].status is not expected:
                raise SystemExit(f"unexpected outcome {outcomes[0]}")
        samples.sort()
        p50 = statistics.median(samples)
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(
            f"mode={args.mode} alerts={len(samples)} p50={p50:.2f} ms p99={p99:.2f} ms "
            f"max={samples[-1]:.2f} ms nft-calls={len(runner.calls)} "
            f"audit-rows={len(responder.ledger.entries())}"
        )


if __name__ == "__main__":
    main()
