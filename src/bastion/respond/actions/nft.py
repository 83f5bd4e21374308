"""Block an IP address with an nftables set element that times out by itself.

Everything goes through nft's JSON API (``nft -j``): the table ``inet bastion`` holds two sets
(``blocked4``, ``blocked6``, flag ``timeout``) and one input chain that drops their members. The
table is Bastion's own: created on first use and removed by the undo that empties it, so a
plan/apply/undo round trip leaves ``nft list ruleset`` exactly as it was.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bastion.respond.actions.base import ActionError, Plan, Runner, TargetKind
from bastion.respond.safeguards import parse_ip

__all__ = ["NftBlockIp"]

TABLE = "bastion"
FAMILY = "inet"


def _set_name(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return "blocked4" if address.version == 4 else "blocked6"


def table_commands() -> list[dict[str, Any]]:
    """The JSON commands that create the table, both sets and the dropping chain."""
    base = {"family": FAMILY, "table": TABLE}
    commands: list[dict[str, Any]] = [{"add": {"table": {"family": FAMILY, "name": TABLE}}}]
    for name, kind in (("blocked4", "ipv4_addr"), ("blocked6", "ipv6_addr")):
        commands.append({"add": {"set": {**base, "name": name, "type": kind, "flags": ["timeout"]}}})
    commands.append(
        {
            "add": {
                "chain": {
                    **base,
                    "name": "input",
                    "type": "filter",
                    "hook": "input",
                    "prio": -10,
                    "policy": "accept",
                }
            }
        }
    )
    for proto, name in (("ip", "blocked4"), ("ip6", "blocked6")):
        match = {
            "match": {
                "op": "==",
                "left": {"payload": {"protocol": proto, "field": "saddr"}},
                "right": f"@{name}",
            }
        }
        commands.append({"add": {"rule": {**base, "chain": "input", "expr": [match, {"drop": None}]}}})
    return commands


@dataclass
class NftBlockIp:
    """``block-ip``: add the address to the bastion set with a timeout (seconds)."""

    runner: Runner
    timeout_s: int = 3600
    nft: str = "nft"
    kind: TargetKind = TargetKind.IP

    def _address(self, target: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        address = parse_ip(target)
        if address is None:
            raise ActionError(f"block-ip: {target!r} is not one IP address")
        return address

    def _element(self, target: str, *, timeout: bool) -> dict[str, Any]:
        address = self._address(target)
        value: Any = {"elem": {"val": str(address), "timeout": self.timeout_s}} if timeout else str(address)
        return {"element": {"family": FAMILY, "table": TABLE, "name": _set_name(address), "elem": [value]}}

    def _table_exists(self) -> bool:
        done = self.runner.run([self.nft, "-j", "list", "table", FAMILY, TABLE])
        return done.returncode == 0

    def _send(self, commands: list[dict[str, Any]]) -> None:
        done = self.runner.run([self.nft, "-j", "-f", "-"], stdin=json.dumps({"nftables": commands}))
        if done.returncode != 0:
            raise ActionError(
                f"nft: {done.stderr.strip().splitlines()[0] if done.stderr.strip() else 'failed'}"
            )

    def plan(self, target: str) -> Plan:
        """The nft JSON batch that would run."""
        add = {"add": self._element(target, timeout=True)}
        return Plan(
            "block-ip",
            str(self._address(target)),
            f"drop traffic from {self._address(target)} for {self.timeout_s}s (nft set {FAMILY} {TABLE})",
            (
                f"{self.nft} -j list table {FAMILY} {TABLE}  (create table, sets and chain if absent)",
                f"{self.nft} -j -f - <<< {json.dumps({'nftables': [add]})}",
            ),
        )

    def check(self, target: str) -> str:
        """``blocked`` when the address is in its set, else ``absent``."""
        address = self._address(target)
        done = self.runner.run([self.nft, "-j", "list", "set", FAMILY, TABLE, _set_name(address)])
        if done.returncode != 0:
            return "absent"
        try:
            items = json.loads(done.stdout or "{}").get("nftables", [])
        except json.JSONDecodeError:
            raise ActionError("nft: unreadable JSON from 'list set'") from None
        for item in items:
            for elem in item.get("set", {}).get("elem", []):
                value = elem.get("elem", {}).get("val") if isinstance(elem, dict) else elem
                if value == str(address):
                    return "blocked"
        return "absent"

    def apply(self, target: str) -> dict[str, Any]:
        """Create the table if needed, then add the element; remember what existed before."""
        created = not self._table_exists()
        already = False if created else self.check(target) == "blocked"
        commands = (table_commands() if created else []) + (
            [] if already else [{"add": self._element(target, timeout=True)}]
        )
        if commands:
            self._send(commands)
        return {"created_table": created, "already_blocked": already}

    def _members(self, name: str) -> int:
        done = self.runner.run([self.nft, "-j", "list", "set", FAMILY, TABLE, name])
        if done.returncode != 0:
            return 0
        try:
            items = json.loads(done.stdout or "{}").get("nftables", [])
        except json.JSONDecodeError:
            raise ActionError("nft: unreadable JSON from 'list set'") from None
        return sum(len(item.get("set", {}).get("elem", [])) for item in items)

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """Remove the element (unless it was there before); drop Bastion's table once no block is
        left in it, whichever action created it."""
        if not saved.get("already_blocked") and self.check(target) == "blocked":
            self._send([{"delete": self._element(target, timeout=False)}])
        if self._table_exists() and self._members("blocked4") + self._members("blocked6") == 0:
            self._send([{"delete": {"table": {"family": FAMILY, "name": TABLE}}}])
