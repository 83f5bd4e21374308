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
from dataclasses import dataclass, field
from typing import Any

from bastion.respond.actions.base import ActionError, Plan, Runner, TargetKind
from bastion.respond.safeguards import parse_ip

__all__ = ["NftBlockIp"]

TABLE = "bastion"
FAMILY = "inet"


def _set_name(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return "blocked4" if address.version == 4 else "blocked6"


def table_commands() -> list[dict[str, Any]]:
    """The JSON commands that (re)create the table, both sets and the dropping chain, idempotently:
    ``add`` of an existing table, set or chain is a no-op, and the chain is flushed before its two
    rules are added again, all in the one atomic batch of the apply."""
    base = {"family": FAMILY, "table": TABLE}
    commands: list[dict[str, Any]] = [{"add": {"table": {"family": FAMILY, "name": TABLE}}}]
    for name, kind in (("blocked4", "ipv4_addr"), ("blocked6", "ipv6_addr")):
        commands.append({"add": {"set": {**base, "name": name, "type": kind, "flags": ["timeout"]}}})
    chain = {**base, "name": "input"}
    commands.append(
        {"add": {"chain": {**chain, "type": "filter", "hook": "input", "prio": -10, "policy": "accept"}}}
    )
    commands.append({"flush": {"chain": chain}})
    for proto, name in (("ip", "blocked4"), ("ip6", "blocked6")):
        left = {"payload": {"protocol": proto, "field": "saddr"}}
        match = {"match": {"op": "==", "left": left, "right": f"@{name}"}}
        commands.append({"add": {"rule": {**base, "chain": "input", "expr": [match, {"drop": None}]}}})
    return commands


@dataclass
class NftBlockIp:
    """``block-ip``: add the address to the bastion set with a timeout (seconds).

    An apply is two ``nft`` calls: ``get element`` (is it blocked already?) and one atomic ``-j -f -``
    batch; the check made just before by the responder is reused for the first.
    """

    runner: Runner
    timeout_s: int = 3600
    nft: str = "nft"
    kind: TargetKind = TargetKind.IP
    _checked: tuple[str, str] | None = field(default=None, repr=False)

    def _address(self, target: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        address = parse_ip(target)
        if address is None:
            raise ActionError(f"block-ip: {target!r} is not one IP address")
        return address

    def _element(self, target: str, *, timeout: bool) -> dict[str, Any]:
        address = self._address(target)
        value: Any = {"elem": {"val": str(address), "timeout": self.timeout_s}} if timeout else str(address)
        return {"element": {"family": FAMILY, "table": TABLE, "name": _set_name(address), "elem": [value]}}

    def _send(self, commands: list[dict[str, Any]]) -> None:
        done = self.runner.run([self.nft, "-j", "-f", "-"], stdin=json.dumps({"nftables": commands}))
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            raise ActionError(f"nft: {lines[0] if lines else 'failed'}")

    def plan(self, target: str) -> Plan:
        """The nft JSON batch that would run."""
        address = self._address(target)
        batch = json.dumps({"nftables": [*table_commands(), {"add": self._element(target, timeout=True)}]})
        return Plan(
            "block-ip",
            str(address),
            f"drop traffic from {address} for {self.timeout_s}s (nft set {FAMILY} {TABLE})",
            (
                f"{self.nft} get element {FAMILY} {TABLE} {_set_name(address)} {{ {address} }}",
                f"{self.nft} -j -f - <<< {batch}",
            ),
        )

    def check(self, target: str) -> str:
        """``blocked`` when the address is in its set, else ``absent`` (also when there is no table)."""
        address = self._address(target)
        done = self.runner.run(
            [self.nft, "get", "element", FAMILY, TABLE, _set_name(address), f"{{ {address} }}"]
        )
        state = "blocked" if done.returncode == 0 else "absent"
        self._checked = (str(address), state)
        return state

    def apply(self, target: str) -> dict[str, Any]:
        """Add the element in one atomic batch that also makes sure the table, sets and chain exist."""
        address = str(self._address(target))
        checked = self._checked
        state = checked[1] if checked is not None and checked[0] == address else self.check(target)
        self._checked = None  # the check is reused once, right after it was made
        already = state == "blocked"
        if not already:
            self._send([*table_commands(), {"add": self._element(target, timeout=True)}])
        return {"already_blocked": already}

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
        self._checked = None
        exists = self.runner.run([self.nft, "-j", "list", "table", FAMILY, TABLE]).returncode == 0
        if exists and self._members("blocked4") + self._members("blocked6") == 0:
            self._send([{"delete": {"table": {"family": FAMILY, "name": TABLE}}}])
