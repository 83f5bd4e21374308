"""Telling link scanners and previewers from people, with the reason, without hiding anything.

Mail-security gateways and chat previewers open every link of a message, often within seconds
of delivery. Each tracked event is classified with every reason that applies; an event with a
reason is *automated*: kept and shown, but left out of human rates. Signals (rules as data in
``botfilter.yml``):

- the user agent names a scanner, previewer, proxy or HTTP library;
- the request comes from a known scanner network;
- a ``HEAD`` request, or a browser prefetch (``Purpose``/``Sec-Purpose: prefetch``);
- an open or click within ``fast_seconds`` of delivery;
- a landing page that never ran its script or never returned its cookie within
  ``beacon_wait_seconds`` (a page load without JavaScript or cookies);
- several different links of one message hit within ``burst_seconds`` from one address (a
  scanner follows every link; a person follows one).

The anchor is OpenAEV's rule (a user-agent list, or a hit within 10 s): :func:`openaev_rule`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bastion.errors import InputError
from bastion.structured import read_yaml_mapping
from bastion.validation import first_error, reason_of

__all__ = [
    "OPENAEV_USER_AGENTS",
    "Classified",
    "EventView",
    "FilterRules",
    "classify",
    "load_rules",
    "openaev_rule",
]

RULES_FILE = Path(__file__).with_name("botfilter.yml")
LINK_KINDS = ("click", "report", "attachment")
"""Event kinds that are a followed link of the message (the pixel is not a link)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserAgentRule(_Strict):
    """A user-agent signature."""

    name: str
    contains: str = Field(min_length=2)


class NetworkRule(_Strict):
    """Address ranges of one scanner operator."""

    name: str
    cidrs: tuple[str, ...]
    kinds: tuple[Literal["open", "click", "attachment", "submit", "report"], ...] = ()
    """The request kinds this operator's machines make (``open``: an image proxy that never
    clicks); empty: every kind. A person on the same network clicking is then not its machine."""


class FilterRules(_Strict):
    """The filter's data: signatures and thresholds."""

    version: int = 1
    fast_seconds: float = Field(default=5, ge=0)
    burst_seconds: float = Field(default=3, ge=0)
    beacon_wait_seconds: float = Field(default=120, ge=0)
    use_beacon: bool = True
    user_agents: tuple[UserAgentRule, ...] = ()
    networks: tuple[NetworkRule, ...] = ()

    @cached_property
    def _nets(self) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, NetworkRule]]:
        return [
            (ipaddress.ip_network(cidr, strict=False), rule) for rule in self.networks for cidr in rule.cidrs
        ]

    def network_of(self, address: str, kind: str = "") -> str | None:
        """The scanner operator whose range holds ``address`` and whose machines make requests
        of ``kind`` (any kind when not given), if any."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        return next(
            (
                rule.name
                for net, rule in self._nets
                if ip.version == net.version
                and ip in net
                and (not kind or not rule.kinds or kind in rule.kinds)
            ),
            None,
        )

    def agent_of(self, user_agent: str) -> str | None:
        """The signature ``user_agent`` matches, if any (an empty agent is one too)."""
        if not user_agent.strip():
            return "no user agent"
        lower = user_agent.lower()
        return next((rule.name for rule in self.user_agents if rule.contains.lower() in lower), None)


def load_rules(path: Path = RULES_FILE) -> FilterRules:
    """The filter rules in ``path``; :class:`InputError` naming the file and key when invalid."""
    data = read_yaml_mapping(path, what="bot filter rules")
    try:
        rules = FilterRules.model_validate(data)
        for network in rules.networks:
            for cidr in network.cidrs:
                ipaddress.ip_network(cidr, strict=False)
    except ValidationError as exc:
        error = first_error(exc)
        key = ".".join(str(p) for p in error["loc"])
        raise InputError(f"{path}: {key}: {reason_of(error)}") from None
    except ValueError as exc:
        raise InputError(f"{path}: networks: {exc}") from None
    return rules


@dataclass(frozen=True)
class EventView:
    """What the filter sees of one tracked request."""

    id: int
    recipient: int
    kind: str
    at: datetime
    method: str = "GET"
    user_agent: str = ""
    ip: str = ""
    delay_s: float | None = None
    prefetch: bool = False
    cookie: bool = False


@dataclass
class Classified:
    """An event and the reasons it looks automated (none: a person)."""

    event: EventView
    reasons: list[str] = field(default_factory=list)

    @property
    def automated(self) -> bool:
        """Whether any reason applies."""
        return bool(self.reasons)


def classify(events: Sequence[EventView], rules: FilterRules) -> list[Classified]:
    """Classify ``events`` (any order, any recipients); the result keeps the input order."""
    out = [Classified(e) for e in events]
    by_recipient: dict[int, list[Classified]] = {}
    for item in out:
        by_recipient.setdefault(item.event.recipient, []).append(item)
    for items in by_recipient.values():
        items.sort(key=lambda c: c.event.at)
        for item in items:
            _own_reasons(item, rules)
        _burst(items, rules)
        if rules.use_beacon:
            _beacons(items, rules)
    return out


def _own_reasons(item: Classified, rules: FilterRules) -> None:
    event = item.event
    if event.kind == "beacon":
        return
    agent = rules.agent_of(event.user_agent)
    if agent:
        item.reasons.append(f"user agent: {agent}")
    network = rules.network_of(event.ip, event.kind)
    if network:
        item.reasons.append(f"scanner network: {network}")
    if event.method.upper() == "HEAD":
        item.reasons.append("HEAD request")
    if event.prefetch:
        item.reasons.append("prefetch request")
    if (
        event.kind in ("open", *LINK_KINDS)
        and event.delay_s is not None
        and event.delay_s < rules.fast_seconds
    ):
        item.reasons.append(f"{event.delay_s:.1f} s after delivery")


def _burst(items: list[Classified], rules: FilterRules) -> None:
    links = [c for c in items if c.event.kind in LINK_KINDS]
    for index, item in enumerate(links):
        group = [
            other
            for other in links[index:]
            if other.event.ip == item.event.ip
            and (other.event.at - item.event.at).total_seconds() <= rules.burst_seconds
        ]
        if len({g.event.kind for g in group}) >= 2:
            for member in group:
                reason = f"every link of the message within {rules.burst_seconds:g} s"
                if reason not in member.reasons:
                    member.reasons.append(reason)


def _beacons(items: list[Classified], rules: FilterRules) -> None:
    beacons = [c.event for c in items if c.event.kind == "beacon" and c.event.cookie]
    for item in items:
        event = item.event
        if event.kind != "click" or event.method.upper() == "HEAD":
            continue
        ran = any(0 <= (b.at - event.at).total_seconds() <= rules.beacon_wait_seconds for b in beacons)
        if not ran:
            item.reasons.append("landing page ran no script / sent no cookie back")


OPENAEV_USER_AGENTS = (
    "bot",
    "crawler",
    "spider",
    "slurp",
    "preview",
    "python",
    "curl",
    "wget",
    "java",
    "go-http-client",
    "headless",
    "phantomjs",
    "googleimageproxy",
    "ms-office",
    "microsoft office",
)
"""The kind of user-agent list OpenAEV's filter checks (names of crawlers, libraries, previewers)."""


def openaev_rule(event: EventView) -> bool:
    """OpenAEV's rule as the anchor: a listed user agent, or a hit within 10 s of delivery."""
    lower = event.user_agent.lower()
    if any(word in lower for word in OPENAEV_USER_AGENTS):
        return True
    return event.delay_s is not None and event.delay_s < 10
