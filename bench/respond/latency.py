"""Alert-to-action latency of a block-IP playbook, without approval.

Each sample: one JSON line -> Alert -> trigger match -> safeguards (kill switch, breaker,
allow-list of 50 ranges, per-playbook and total limits from the ledger) -> nft check -> intent
record (SQLite commit) -> apply -> applied record (SQLite commit). ``--mode active`` builds and
sends the real nft JSON batch to a recording runner (the command-building path: ``nft`` is not
installed here, so the kernel's own time is not in the number); ``--mode dry-run`` plans only;
``--nft PATH`` runs that real nft binary for every command, in a throwaway network namespace;
``--iptables PATH`` does the same with the iptables fallback (the chain grows one rule per address).

    .venv/bin/python bench/respond/latency.py --alerts 2000 --mode active
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bastion.respond.actions.base import CommandResult, RecordingRunner, SubprocessRunner
from bastion.respond.actions.registry import ActionContext
from bastion.respond.alerts import parse_alert
from bastion.respond.engine import Responder
from bastion.respond.ledger import Ledger, Status
from bastion.respond.playbook import Playbook, Safeguards

NOT_BLOCKED = {"nft get element": CommandResult(1, "", "Error: No such file or directory")}
"""The recording runner's answer to the check, so that every apply sends its batch."""


@dataclass
class NamespacedRunner(SubprocessRunner):
    """Runs every command inside the network namespace of ``pid`` (a throwaway one)."""

    pid: int = 0
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        """nsenter into the namespace, then run."""
        self.calls.append(tuple(argv))
        return super().run(["nsenter", f"--net=/proc/{self.pid}/ns/net", *argv], stdin)


def main() -> None:
    """Run the benchmark and print p50/p99 in milliseconds."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--mode", choices=["active", "dry-run"], default="active")
    parser.add_argument(
        "--nft", help="run this real nft binary inside a fresh network namespace (needs root)"
    )
    parser.add_argument(
        "--iptables", help="run the iptables fallback with this real binary in a fresh network namespace"
    )
    args = parser.parse_args()
    real = args.nft or args.iptables
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
    namespace = subprocess.Popen(["unshare", "--net", "sleep", "3600"]) if real else None
    if real:
        params = {"nft": args.nft} if args.nft else {"firewall": "iptables", "iptables": args.iptables}
        spec = book.actions[0].model_copy(update={"params": params})
        book = book.model_copy(update={"actions": (spec,)})
        time.sleep(0.2)
    with tempfile.TemporaryDirectory() as tmp:
        runner: RecordingRunner | NamespacedRunner = (
            NamespacedRunner(pid=namespace.pid) if namespace is not None else RecordingRunner(NOT_BLOCKED)
        )
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
        if namespace is not None:
            namespace.kill()
            namespace.wait()
        print(
            f"mode={args.mode}{' real-nft' if args.nft else ''}{' real-iptables' if args.iptables else ''} "
            f"alerts={len(samples)} p50={p50:.2f} ms p99={p99:.2f} ms "
            f"max={samples[-1]:.2f} ms commands={len(runner.calls)} "
            f"audit-rows={len(responder.ledger.entries())}"
        )


if __name__ == "__main__":
    main()
