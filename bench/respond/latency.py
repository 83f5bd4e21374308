"""Alert-to-action latency of a block-IP playbook, without approval.

Each sample: one JSON line -> Alert -> trigger match -> safeguards (kill switch, breaker,
allow-list of 50 ranges, per-playbook and total limits from the ledger) -> nft check -> intent
record (SQLite commit) -> apply -> applied record (SQLite commit). ``--mode active`` builds and
sends the real nft JSON batch to a recording runner (the command-building path: ``nft`` is not
installed here, so the kernel's own time is not in the number); ``--mode dry-run`` plans only;
``--nft PATH`` runs that real nft binary for every command, in a throwaway network namespace;
``--iptables PATH`` does the same with the iptables fallback (the chain grows one rule per address);
``--libnft`` runs nft's commands through libnftables in this process (the whole benchmark re-runs
itself inside a fresh network namespace; BASTION_LIBNFTABLES / LD_LIBRARY_PATH find the library).

    .venv/bin/python bench/respond/latency.py --alerts 2000 --mode active
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bastion.respond.actions.base import CommandResult, RecordingRunner, SubprocessRunner
from bastion.respond.actions.libnft import load_libnftables
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
    parser.add_argument(
        "--libnft",
        action="store_true",
        help="nft through libnftables in process, in a fresh network namespace",
    )
    args = parser.parse_args()
    if args.libnft and os.environ.get("BASTION_BENCH_NETNS") != "1":
        # bastion: ignore[sast.bandit.B603] fixed argv: this script again, inside a new namespace
        done = subprocess.run(
            ["unshare", "--net", sys.executable, *sys.argv], env={**os.environ, "BASTION_BENCH_NETNS": "1"}
        )
        raise SystemExit(done.returncode)
    library = load_libnftables() if args.libnft else None
    if args.libnft and library is None:
        raise SystemExit(
            "--libnft: libnftables could not be loaded (set LD_LIBRARY_PATH or BASTION_LIBNFTABLES)"
        )
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
        runner: RecordingRunner | NamespacedRunner | SubprocessRunner = (
            NamespacedRunner(pid=namespace.pid)
            if namespace is not None
            else SubprocessRunner()
            if library is not None
            else RecordingRunner(NOT_BLOCKED)
        )
        ctx = ActionContext(runner=runner, nft_library=library)
        responder = Responder([book], guards, Ledger(Path(tmp) / "ledger.sqlite"), ctx)
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
        commands = str(len(runner.calls)) if hasattr(runner, "calls") else "in-process"
        executor = " real-nft" if args.nft else " real-iptables" if args.iptables else ""
        executor = " libnftables" if library is not None else executor
        print(
            f"mode={args.mode}{executor} "
            f"alerts={len(samples)} p50={p50:.2f} ms p99={p99:.2f} ms "
            f"max={samples[-1]:.2f} ms commands={commands} "
            f"audit-rows={len(responder.ledger.entries())}"
        )


if __name__ == "__main__":
    main()
