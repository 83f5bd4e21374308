"""Shared helpers of the respond tests: alerts, playbook files, a fake clock and a fake nft."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bastion.findings import Alert, Severity
from bastion.respond.actions.base import CommandResult

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def alert(
    entity: str = "203.0.113.7",
    kind: str = "ip",
    severity: Severity = Severity.HIGH,
    detector: str = "identity.spray",
    score: float = 0.9,
    **metadata: Any,
) -> Alert:
    """An alert like the identity detector writes."""
    return Alert(
        detector=detector,
        severity=severity,
        score=score,
        entity=entity,
        entity_kind=kind,
        window_start=T0,
        window_end=T0 + timedelta(minutes=5),
        explanation="40 failed sign-ins across 35 accounts in 5 minutes",
        evidence=("sshd[1]: Failed password for invalid user a from 203.0.113.7",),
        techniques=("T1110.003",),
        metadata={"rule_id": "identity.password-spray", **metadata},
    )


def write_playbook(directory: Path, name: str = "pb", **fields: Any) -> Path:
    """Write a playbook YAML (an active block-ip playbook unless ``fields`` say otherwise)."""
    data: dict[str, Any] = {
        "version": 1,
        "id": name,
        "mode": "active",
        "trigger": {"detector": ["identity.*"]},
        "actions": [{"type": "block-ip", "params": {"timeout_s": 600}}],
        "ttl_s": 3600,
        "limits": {"per_minute": 100000, "per_hour": 1000000},
    }
    data.update(fields)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeNft:
    """nft's JSON API over an in-memory ruleset: enough of `nft -j` for the block-ip action."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)
    fail_apply: bool = False

    def ruleset(self) -> str:
        """A stable text of the whole ruleset (what `nft list ruleset` would compare)."""
        return json.dumps(self.tables, sort_keys=True)

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        """Answer like nft would."""
        self.calls.append((tuple(argv), stdin))
        args = list(argv[2:]) if argv[1] == "-j" else list(argv[1:])
        if args[:2] == ["list", "table"]:
            key = f"{args[2]} {args[3]}"
            return (
                CommandResult(0, json.dumps({"nftables": []}))
                if key in self.tables
                else CommandResult(1, "", "No such file or directory")
            )
        if args[:2] == ["list", "set"]:
            table = self.tables.get(f"{args[2]} {args[3]}")
            if table is None or args[4] not in table["sets"]:
                return CommandResult(1, "", "No such file or directory")
            elems = [{"elem": {"val": v, "timeout": t}} for v, t in sorted(table["sets"][args[4]].items())]
            return CommandResult(
                0, json.dumps({"nftables": [{"metainfo": {}}, {"set": {"name": args[4], "elem": elems}}]})
            )
        if args[:2] == ["get", "element"]:
            table = self.tables.get(f"{args[2]} {args[3]}")
            value = args[5].strip("{} ")
            if table is None or value not in table["sets"].get(args[4], {}):
                return CommandResult(1, "", "Error: Could not process rule: No such file or directory")
            return CommandResult(0, f"elements = {{ {value} }}")
        if args[:2] == ["-f", "-"] and stdin is not None:
            if self.fail_apply:
                return CommandResult(1, "", "Error: Could not process rule: Operation not permitted")
            for command in json.loads(stdin)["nftables"]:
                self._apply(command)
            return CommandResult(0)
        return CommandResult(2, "", f"unexpected nft call {args}")

    def _apply(self, command: dict[str, Any]) -> None:
        ((verb, body),) = command.items()
        ((what, spec),) = body.items()
        if what == "table":
            key = f"{spec['family']} {spec['name']}"
            if verb == "add":
                self.tables.setdefault(key, {"sets": {}, "chains": {}, "rules": []})
            else:
                del self.tables[key]
            return
        table = self.tables[f"{spec['family']} {spec['table']}"]
        if what == "set":
            table["sets"].setdefault(spec["name"], {})
        elif what == "chain" and verb == "flush":
            table["rules"] = []
        elif what == "chain":
            table["chains"][spec["name"]] = {k: spec[k] for k in ("type", "hook", "prio", "policy")}
        elif what == "rule":
            table["rules"].append(spec["expr"])
        elif what == "element":
            members = table["sets"][spec["name"]]
            for elem in spec["elem"]:
                if verb == "add":
                    members[elem["elem"]["val"]] = elem["elem"]["timeout"]
                else:
                    del members[elem]
