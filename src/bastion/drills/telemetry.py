"""Scenario steps rendered into concrete telemetry at known times, with the organisation's names.

Placeholders in a scenario's strings: ``{victim}``, ``{attacker_ip}``, ``{host}`` and any other role
(from the mapping file's ``roles``, else the scenario's ``entities`` defaults, else picked from the
organisation with the run's seed), ``{i}`` (the repetition), ``{org_user}`` (the i-th user of the
organisation), ``{spray_ip}`` (the i-th address of a botnet pool), ``{domain}`` and ``{time}`` (the
line's time stamp in its stream's format). An unknown placeholder is an error naming the scenario.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bastion.detect.identity.events import SignIn
from bastion.detect.ingest.records import Record
from bastion.drills.exercise import Organisation
from bastion.drills.scenario import Scenario, Telemetry
from bastion.errors import InputError

__all__ = ["FileChange", "Injection", "Item", "render", "stamp"]

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_PER_ITEM = ("i", "org_user", "spray_ip", "time")


@dataclass(frozen=True, slots=True)
class FileChange:
    """A file added (``content``) or removed (``content`` None) in the scanned tree."""

    path: str
    content: str | None


@dataclass(slots=True)
class Item:
    """One piece of telemetry for one detector family."""

    time: datetime
    family: str
    """``identity``, ``sigma``, ``watch`` or ``scan``."""
    payload: SignIn | dict[str, Any] | str | FileChange | Record
    scenario: str = ""
    """The scenario that produced it; '' for the baseline."""
    stream: str = ""
    """For lines: ``web`` or ``app``."""


@dataclass(frozen=True)
class Injection:
    """One scenario as played in one run: when, and the names it used."""

    scenario: str
    run: int
    start: datetime
    end: datetime
    entities: frozenset[str] = field(default_factory=frozenset)
    """Every user, address, host and path its telemetry named: alerts about them are its own."""


def stamp(t: datetime, stream: str) -> str:
    """``t`` as the stream writes it: access log (web) or Apache error log (app)."""
    if stream == "web":
        return t.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return t.strftime("%a %b %d %H:%M:%S %Y")


def spray_ip(i: int) -> str:
    """The i-th address of a botnet pool (documentation ranges, never routed)."""
    return f"198.51.100.{i % 250 + 1}" if i % 2 else f"203.0.113.{i % 250 + 1}"


class _Filler:
    def __init__(self, scenario: Scenario, roles: Mapping[str, str]) -> None:
        self.scenario = scenario
        self.roles = roles
        self.used: set[str] = set()

    def fill(self, text: str, per: Mapping[str, str]) -> str:
        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in per:
                value = per[name]
            elif name in self.roles:
                value = self.roles[name]
            else:
                raise InputError(f"{self.scenario.path or self.scenario.id}: unknown placeholder {{{name}}}")
            if name != "time" and name != "i":
                self.used.add(value)
            return value

        return _PLACEHOLDER.sub(sub, text)

    def deep(self, value: Any, per: Mapping[str, str]) -> Any:
        if isinstance(value, str):
            return self.fill(value, per)
        if isinstance(value, Mapping):
            return {k: self.deep(v, per) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v, per) for v in value]
        return value


def roles_for(scenario: Scenario, org: Organisation, rng: random.Random) -> dict[str, str]:
    """The scenario's roles: the mapping file's, else the scenario's defaults, else drawn from the
    organisation (``victim`` a user, ``host`` a host)."""
    roles = {"domain": org.domain}
    roles.update(scenario.entities)
    roles.update({k: v for k, v in org.roles.items() if k in scenario.entities or k in ("victim", "host")})
    if "victim" not in roles and org.users:
        roles["victim"] = rng.choice(org.users)
    if "host" not in roles and org.hosts:
        roles["host"] = rng.choice(org.hosts)
    return roles


def _signin(fields: Mapping[str, Any], t: datetime) -> SignIn:
    lat, lon = fields.get("lat"), fields.get("lon")
    return SignIn(
        time=t,
        user=str(fields.get("user", "")),
        ip=str(fields.get("ip", "")),
        success=bool(fields.get("success", False)),
        reason=str(fields.get("reason", "")),
        action=str(fields.get("action", "signin")),
        app=str(fields.get("app", "")),
        client=str(fields.get("client", "")),
        device=str(fields.get("device", "")),
        country=str(fields.get("country", "")),
        city=str(fields.get("city", "")),
        lat=float(lat) if lat is not None else None,
        lon=float(lon) if lon is not None else None,
        source="drill",
    )


def _with_time(event: dict[str, Any], t: datetime) -> dict[str, Any]:
    system = event.get("Event", {}).get("System")
    if isinstance(system, dict):
        system["TimeCreated"] = {"#attributes": {"SystemTime": t.isoformat().replace("+00:00", "Z")}}
    return event


def _items(tel: Telemetry, at: datetime, filler: _Filler, org: Organisation, sid: str) -> Iterator[Item]:
    for i in range(tel.repeat):
        t = at + timedelta(seconds=tel.every_s * i)
        per = {"i": str(i), "spray_ip": spray_ip(i)}
        if org.users:
            per["org_user"] = org.users[i % len(org.users)]
        match tel.kind:
            case "signin":
                yield Item(t, "identity", _signin(filler.deep(dict(tel.fields), per), t), sid)
            case "event":
                yield Item(t, "sigma", _with_time(filler.deep(dict(tel.event), per), t), sid)
            case "line":
                per["time"] = stamp(t, tel.stream)
                family = "sigma" if tel.stream == "web" else "watch"
                yield Item(t, family, filler.fill(tel.text, per), sid, tel.stream)
            case "file":
                path = filler.fill(tel.path, per)
                yield Item(t, "scan", FileChange(path, filler.fill(tel.content, per)), sid)
                if tel.remove_after_s is not None:
                    yield Item(t + timedelta(seconds=tel.remove_after_s), "scan", FileChange(path, None), sid)
            case _:  # pragma: no cover - the schema allows only the four kinds
                raise InputError(f"{sid}: unknown telemetry kind {tel.kind!r}")


def render(
    scenario: Scenario, start: datetime, org: Organisation, run: int, seed: int
) -> tuple[list[Item], Injection]:
    """The scenario's telemetry from ``start``, and the injection record that scores it."""
    rng = random.Random(f"{seed}:{run}:{scenario.id}")  # bastion: ignore[sast.bandit.B311] not a secret
    filler = _Filler(scenario, roles_for(scenario, org, rng))
    items: list[Item] = []
    for step in scenario.steps:
        at = start + timedelta(seconds=step.at_s)
        for tel in step.telemetry:
            items.extend(_items(tel, at, filler, org, scenario.id))
    items.sort(key=lambda x: x.time)
    end = max((x.time for x in items), default=start)
    for item in items:
        if isinstance(item.payload, FileChange):
            filler.used.add(item.payload.path)
        elif isinstance(item.payload, SignIn):
            filler.used.update(v for v in (item.payload.user, item.payload.ip) if v)
    return items, Injection(scenario.id, run, start, end, frozenset(filler.used))
