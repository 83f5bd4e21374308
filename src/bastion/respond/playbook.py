"""Playbooks as data: the YAML schema (strict pydantic models) and the loader.

A playbook says which Alerts trigger it and which actions run, in which mode (``dry-run`` until
promoted to ``active``), when a person must approve, and after how long an applied action is
undone unless confirmed. The safeguards file names what must never be touched and the total
blast-radius limits. Unknown fields or actions are refused with one line naming the file and field.
"""

from __future__ import annotations

import enum
import fnmatch
import re
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bastion.errors import InputError
from bastion.findings import Alert, Severity
from bastion.respond.actions.registry import ActionType, params_model
from bastion.respond.safeguards import AllowList, parse_network
from bastion.structured import read_yaml_mapping

__all__ = [
    "ActionSpec",
    "Approval",
    "Limits",
    "Mode",
    "Playbook",
    "Safeguards",
    "Trigger",
    "load_playbooks",
    "load_safeguards",
]

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mode(enum.StrEnum):
    """``dry-run`` plans only (the default for a new playbook); ``active`` applies."""

    DRY_RUN = "dry-run"
    ACTIVE = "active"


class EntityCondition(_Strict):
    """Conditions on the alert's entity."""

    kind: str | None = None
    """``ip``, ``user``, ``host``, ``session``: the alert's ``entity_kind`` must equal it."""
    matches: str | None = None
    """A regular expression the entity must match (search)."""
    in_cidrs: tuple[str, ...] = ()
    """For IP entities: the address must lie in one of these ranges."""
    not_in_cidrs: tuple[str, ...] = ()
    """For IP entities: the address must lie in none of these ranges."""

    @field_validator("matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc})") from None
        return value

    @field_validator("in_cidrs", "not_in_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if parse_network(entry) is None:
                raise ValueError(f"{entry!r} is not an address or CIDR range")
        return value

    def holds(self, alert: Alert) -> bool:
        """Whether the alert's entity meets every condition."""
        if self.kind is not None and alert.entity_kind != self.kind:
            return False
        if self.matches is not None and not re.search(self.matches, alert.entity):
            return False
        if self.in_cidrs or self.not_in_cidrs:
            network = parse_network(alert.entity)
            if network is None:
                return False
            inside = [
                n for n in map(parse_network, self.in_cidrs) if n is not None and n.version == network.version
            ]
            if self.in_cidrs and not any(_within(network, n) for n in inside):
                return False
            outside = [n for n in map(parse_network, self.not_in_cidrs) if n is not None]
            if any(n.version == network.version and n.overlaps(network) for n in outside):
                return False
        return True


def _within(inner: IPv4Network | IPv6Network, outer: IPv4Network | IPv6Network) -> bool:
    return (
        inner.version == outer.version
        and int(outer.network_address) <= int(inner.network_address)
        and int(inner.broadcast_address) <= int(outer.broadcast_address)
    )


class Trigger(_Strict):
    """Which alerts start the playbook; every given condition must hold."""

    detector: tuple[str, ...] = ()
    """Glob patterns over ``Alert.detector`` (``identity.*``, ``sigma``)."""
    rule: tuple[str, ...] = ()
    """Glob patterns over the alert's rule or kind (``metadata.rule_id``, ``rule`` or ``kind``)."""
    min_severity: Severity = Severity.INFO
    min_score: float | None = None
    entity: EntityCondition = EntityCondition()

    @field_validator("min_severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return Severity.parse(value) if isinstance(value, str) else value

    def matches(self, alert: Alert) -> bool:
        """Whether ``alert`` triggers the playbook."""
        if alert.severity < self.min_severity:
            return False
        if self.min_score is not None and alert.score < self.min_score:
            return False
        if self.detector and not any(fnmatch.fnmatchcase(alert.detector, p) for p in self.detector):
            return False
        if self.rule:
            names = [str(alert.metadata.get(k)) for k in ("rule_id", "rule", "kind") if alert.metadata.get(k)]
            if not any(fnmatch.fnmatchcase(n, p) for n in names for p in self.rule):
                return False
        return self.entity.holds(alert)


class ActionSpec(_Strict):
    """One action of a playbook and its parameters (validated by the action's own schema)."""

    type: ActionType
    target: str = "entity"
    """Where the target comes from: ``entity`` or ``metadata.<key>`` of the alert (a list there: one
    action per element)."""
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if value != "entity" and not re.fullmatch(r"metadata\.[A-Za-z0-9_.-]+", value):
            raise ValueError("use 'entity' or 'metadata.<key>'")
        return value

    @model_validator(mode="after")
    def _params(self) -> ActionSpec:
        try:
            params_model(self.type).model_validate(self.params)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            why = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            raise ValueError(f"params.{where}: {why}") from None
        return self

    def target_of(self, alert: Alert) -> str | None:
        """The target value for ``alert`` (None when the named metadata key is missing)."""
        if self.target == "entity":
            return alert.entity
        value = alert.metadata.get(self.target.removeprefix("metadata."))
        return None if value is None or value == "" else str(value)

    def targets_of(self, alert: Alert) -> list[str | None]:
        """Every target for ``alert``: a metadata list (``metadata.ips`` of a credential-stuffing
        alert) gives one per distinct element, each then passing the safeguards and the blast-radius
        limits on its own; anything else gives :meth:`target_of` alone."""
        if self.target != "entity":
            value = alert.metadata.get(self.target.removeprefix("metadata."))
            if isinstance(value, list):
                items = list(dict.fromkeys(str(v) for v in value if v is not None and v != ""))
                targets: list[str | None] = [*items]
                return targets or [None]
        return [self.target_of(alert)]


class Approval(_Strict):
    """When a person other than the requester must approve before apply."""

    at_or_above: Severity | None = None
    """Alerts at or above this severity need approval."""
    actions: tuple[ActionType, ...] = ()
    """These actions always need approval."""
    expires_s: int = Field(default=3600, gt=0)
    """A request not approved within this many seconds is refused."""

    @field_validator("at_or_above", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return Severity.parse(value) if isinstance(value, str) else value

    def required(self, alert: Alert, action: ActionType) -> bool:
        """Whether this action on this alert waits for approval."""
        return action in self.actions or (self.at_or_above is not None and alert.severity >= self.at_or_above)


class Limits(_Strict):
    """Blast-radius limits: actions applied per minute and per hour."""

    per_minute: int = Field(default=10, ge=0)
    per_hour: int = Field(default=100, ge=0)


class Playbook(_Strict):
    """One playbook file."""

    version: int = SCHEMA_VERSION
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    description: str = ""
    mode: Mode = Mode.DRY_RUN
    trigger: Trigger
    actions: tuple[ActionSpec, ...] = Field(min_length=1)
    approval: Approval = Approval()
    ttl_s: int | None = Field(default=3600, gt=0)
    """Applied actions are undone after this many seconds unless confirmed; null keeps them."""
    limits: Limits = Limits()

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"unsupported playbook version {value} (this Bastion reads {SCHEMA_VERSION})")
        return value


class Breaker(_Strict):
    """The circuit breaker over every automatic action."""

    max_per_minute: int = Field(default=30, ge=0)
    max_per_hour: int = Field(default=300, ge=0)
    page: dict[str, Any] | None = None
    """A ``notify-webhook`` parameter set used to page a human when the breaker trips."""


class Safeguards(_Strict):
    """The safeguards file: allow-lists and the total limits."""

    version: int = SCHEMA_VERSION
    allow_ips: tuple[str, ...] = ()
    allow_users: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    allow_ids: tuple[str, ...] = ()
    """Token prefixes and access key ids never to revoke."""
    breaker: Breaker = Breaker()

    def allow_list(self) -> AllowList:
        """The compiled allow-list."""
        return AllowList.build(self.allow_ips, self.allow_users, self.allow_hosts, self.allow_ids)

    @model_validator(mode="after")
    def _ips(self) -> Safeguards:
        self.allow_list()
        return self


def _first_error(path: Path, exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    elif err["type"] == "enum" and err["loc"] and err["loc"][-1] == "type":
        message = f"unknown action {err.get('input')!r} ({err.get('ctx', {}).get('expected', '')})"
    return InputError(f"{path}: {where}: {message}")


def load_playbook(path: Path) -> Playbook:
    """Read and validate one playbook; InputError names the file and the field."""
    data = read_yaml_mapping(path, what="playbook")
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise _first_error(path, exc) from None


def load_playbooks(directory: Path) -> list[Playbook]:
    """Every ``*.yaml``/``*.yml`` playbook in ``directory`` (sorted); duplicate ids are refused."""
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory of playbooks")
    books: dict[str, Playbook] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        if path.name.startswith("_"):
            continue
        book = load_playbook(path)
        if book.id in books:
            raise InputError(f"{path}: id: playbook id {book.id!r} is used twice")
        books[book.id] = book
    if not books:
        raise InputError(f"{directory}: no playbook (*.yaml) found")
    return list(books.values())


def load_safeguards(path: Path | None) -> Safeguards:
    """The safeguards file (defaults when None); InputError names the file and the field."""
    if path is None:
        return Safeguards()
    data = read_yaml_mapping(path, what="safeguards file")
    try:
        return Safeguards.model_validate(data)
    except ValidationError as exc:
        raise _first_error(path, exc) from None
