"""Block an IP address with iptables, where nftables' ``nft`` is absent.

Bastion's own chain ``BASTION-BLOCK`` in the ``filter`` table (``iptables`` for IPv4,
``ip6tables`` for IPv6) holds one ``-s ADDR -j DROP`` rule per blocked address, and ``INPUT`` jumps
to it first. The chain and the jump are created by the first block and removed by the undo that
empties the chain, so a plan/apply/undo round trip leaves ``iptables-save`` exactly as it was.
iptables has no per-rule timeout: the playbook's TTL (the responder's timed undo) lifts the block,
and the plan says so. The same safeguards apply as for nft: they run before any action is built.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bastion.respond.actions.base import ActionError, CommandResult, Plan, Runner, TargetKind
from bastion.respond.safeguards import parse_ip

__all__ = ["CHAIN", "IptablesBlockIp"]

CHAIN = "BASTION-BLOCK"


@dataclass
class IptablesBlockIp:
    """``block-ip`` through iptables/ip6tables (``-w``: wait for the xtables lock)."""

    runner: Runner
    iptables: str = "iptables"
    ip6tables: str = "ip6tables"
    kind: TargetKind = TargetKind.IP
    _checked: tuple[str, str] | None = field(default=None, repr=False)

    def _address(self, target: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        address = parse_ip(target)
        if address is None:
            raise ActionError(f"block-ip: {target!r} is not one IP address")
        return address

    def _tool(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
        return self.iptables if address.version == 4 else self.ip6tables

    def _source(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
        return f"{address}/{32 if address.version == 4 else 128}"

    def _call(self, tool: str, *args: str) -> CommandResult:
        return self.runner.run([tool, "-w", *args])

    def _must(self, tool: str, *args: str) -> None:
        done = self._call(tool, *args)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            raise ActionError(f"{tool} {' '.join(args)}: {lines[0] if lines else 'failed'}")

    def _steps(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, ...]:
        tool, source = self._tool(address), self._source(address)
        return (
            f"{tool} -w -C {CHAIN} -s {source} -j DROP  (already blocked?)",
            f"{tool} -w -N {CHAIN}  (when the chain is missing)",
            f"{tool} -w -I INPUT 1 -j {CHAIN}  (when INPUT does not jump to it yet)",
            f"{tool} -w -A {CHAIN} -s {source} -j DROP",
        )

    def plan(self, target: str) -> Plan:
        """The iptables commands that would run."""
        address = self._address(target)
        return Plan(
            "block-ip",
            str(address),
            f"drop traffic from {address} ({self._tool(address)} chain {CHAIN}; lifted by the playbook's"
            " TTL undo: iptables has no rule timeout)",
            self._steps(address),
        )

    def check(self, target: str) -> str:
        """``blocked`` when the chain holds the address's DROP rule, else ``absent``."""
        address = self._address(target)
        done = self._call(self._tool(address), "-C", CHAIN, "-s", self._source(address), "-j", "DROP")
        state = "blocked" if done.returncode == 0 else "absent"
        self._checked = (str(address), state)
        return state

    def apply(self, target: str) -> dict[str, Any]:
        """Append the DROP rule; the chain and INPUT's jump to it are made first when missing.
        Three calls when they exist: the check (the responder's, reused once), ``-C INPUT``, ``-A``."""
        address = self._address(target)
        checked = self._checked
        state = checked[1] if checked is not None and checked[0] == str(address) else self.check(target)
        self._checked = None  # the check is reused once, right after it was made
        if state == "blocked":
            return {"already_blocked": True}
        tool = self._tool(address)
        if self._call(tool, "-C", "INPUT", "-j", CHAIN).returncode != 0:
            if self._call(tool, "-n", "-L", CHAIN).returncode != 0:
                self._must(tool, "-N", CHAIN)
            self._must(tool, "-I", "INPUT", "1", "-j", CHAIN)
        self._must(tool, "-A", CHAIN, "-s", self._source(address), "-j", "DROP")
        return {"already_blocked": False}

    def _rules(self, tool: str) -> int | None:
        """DROP rules in the chain (None: no chain)."""
        done = self._call(tool, "-S", CHAIN)
        if done.returncode != 0:
            return None
        return sum(1 for line in done.stdout.splitlines() if line.startswith(f"-A {CHAIN} "))

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """Delete the rule (unless it was there before); once the chain is empty, remove the jump
        and the chain, whichever block created them."""
        address = self._address(target)
        tool = self._tool(address)
        if not saved.get("already_blocked") and self.check(target) == "blocked":
            self._must(tool, "-D", CHAIN, "-s", self._source(address), "-j", "DROP")
        self._checked = None
        if self._rules(tool) == 0:
            while self._call(tool, "-C", "INPUT", "-j", CHAIN).returncode == 0:
                self._must(tool, "-D", "INPUT", "-j", CHAIN)
            self._must(tool, "-X", CHAIN)
