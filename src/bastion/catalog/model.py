"""The catalog's data: products (what a team may use), versions (what was published) and their
lifecycle states. Products are declared in YAML (``product.yml``, validated here); versions are
written by the catalog itself as JSON records."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.catalog.semver import parse_semver
from bastion.errors import InputError
from bastion.findings import Severity

__all__ = [
    "NAME_PATTERN",
    "CatalogSettings",
    "Constraint",
    "Consumer",
    "ExtraPolicy",
    "Param",
    "ProductKind",
    "ProductSpec",
    "State",
    "VersionRecord",
    "latest_approved",
    "normalise_name",
    "parse_product",
    "utcnow",
    "validation_message",
]

NAME_PATTERN = r"^[a-z][a-z0-9-]{1,62}$"
"""Product names: lower-case words joined by hyphens (``aws-vpc``)."""


class ProductKind(StrEnum):
    """What kind of template a product is."""

    TERRAFORM = "terraform"
    CLOUDFORMATION = "cloudformation"
    ARM = "arm"
    HELM = "helm"
    KUBERNETES = "kubernetes"
    DOCKERFILE = "dockerfile"


class State(StrEnum):
    """Where a version stands in its lifecycle: draft -> approved -> deprecated -> retired."""

    DRAFT = "draft"
    APPROVED = "approved"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def normalise_name(name: str) -> str:
    """The name products are compared by: ``AWS_VPC`` and ``aws-vpc`` clash."""
    return re.sub(r"[_\s.]+", "-", name.strip().lower())


def validation_message(exc: ValidationError) -> str:
    """The first problem of a pydantic error, as ``field.path: message``."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "document"
    return f"{where}: {first['msg']}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Constraint(_Strict):
    """What values an input may take when the product is used."""

    allowed: list[str] | None = None
    """The only values allowed (``["t3.micro", "t3.small"]``)."""
    pattern: str | None = None
    """A regular expression a string value must match in full."""
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = Field(default=None, ge=0)
    """Fewest characters a string value may have."""
    max_length: int | None = Field(default=None, ge=0)
    """Most characters a string value may have."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    def violation(self, value: Any) -> str | None:
        """Why ``value`` breaks the constraint, or None when it keeps it."""
        if self.allowed is not None and str(value) not in self.allowed:
            return f"{value!r} is not one of {', '.join(self.allowed)}"
        if self.pattern is not None and not re.fullmatch(self.pattern, str(value)):
            return f"{value!r} does not match {self.pattern}"
        if self.min_length is not None and len(str(value)) < self.min_length:
            return f"{value!r} is shorter than {self.min_length} characters"
        if self.max_length is not None and len(str(value)) > self.max_length:
            return f"{value!r} is longer than {self.max_length} characters"
        if self.minimum is not None or self.maximum is not None:
            try:
                number = float(value)
            except (TypeError, ValueError):
                return f"{value!r} is not a number"
            if self.minimum is not None and number < self.minimum:
                return f"{value!r} is below {self.minimum:g}"
            if self.maximum is not None and number > self.maximum:
                return f"{value!r} is above {self.maximum:g}"
        return None


class ExtraPolicy(_Strict):
    """A product's own policy, on top of the scanners: a pattern its files must (not) contain."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=5)
    severity: Severity = Severity.HIGH
    files: str = "*"
    """Glob of the template's files the policy reads (``*.tf``)."""
    require: str | None = None
    """A regular expression some file must contain."""
    forbid: str | None = None
    """A regular expression no file may contain."""

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        return Severity.parse(value) if isinstance(value, str) else value

    @field_validator("require", "forbid")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


class Consumer(_Strict):
    """A team that uses the product and wants to hear about it."""

    name: str = Field(min_length=1)
    email: str | None = None
    webhook: str | None = None


class ProductSpec(_Strict):
    """One product as ``product.yml`` declares it."""

    name: str = Field(pattern=NAME_PATTERN)
    kind: ProductKind
    owner: str = Field(min_length=1)
    """Who answers for it: a team address (``platform@example.com``)."""
    description: str = ""
    source: str = Field(min_length=3)
    """How consumers reference it: a module git URL, a registry address (``acme/vpc/aws``), a
    Helm ``repository/chart``, a CloudFormation template URL prefix, an image name."""
    covers: list[str] = Field(default_factory=list)
    """Resource types it provides (``aws_vpc``, ``AWS::EC2::VPC``): hand-written ones are flagged."""
    constraints: dict[str, Constraint] = Field(default_factory=dict)
    policies: list[ExtraPolicy] = Field(default_factory=list)
    consumers: list[Consumer] = Field(default_factory=list)
    owner_webhook: str | None = None


class CatalogSettings(_Strict):
    """``catalog.yml`` at the root of a catalog directory."""

    version: int = Field(default=1, ge=1, le=1)
    require_approval: bool = True
    """A version stays draft until someone other than its publisher, holding the approver role,
    approves it."""
    approvers: list[str] = Field(default_factory=list)
    """Users holding the approver role (empty: anyone but the publisher)."""
    fail_on: Severity = Severity.MEDIUM
    """Lowest severity of a scanner finding that refuses a version."""
    max_artefact_bytes: int = Field(default=5_000_000, ge=1)
    """Largest template (bytes, uncompressed) the catalog accepts."""

    @field_validator("fail_on", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        return Severity.parse(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Param:
    """An input or output read from a template."""

    name: str
    type: str = ""
    description: str = ""
    default: Any = None
    """The default value; None when the input has none (then it is required)."""
    required: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "default": self.default,
            "required": self.required,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Param:
        """Inverse of :meth:`to_dict`."""
        return cls(
            str(data["name"]),
            str(data.get("type", "")),
            str(data.get("description", "")),
            data.get("default"),
            bool(data.get("required", False)),
        )


@dataclass(frozen=True)
class VersionRecord:
    """One published version; the JSON file written for it is the commit point of a publish."""

    product: str
    version: str
    digest: str
    """``sha256:<hex>`` of the artefact (the template's archive)."""
    size: int
    """Bytes of the template's files, uncompressed."""
    published_by: str
    published_at: datetime
    state: State = State.DRAFT
    inputs: tuple[Param, ...] = ()
    outputs: tuple[Param, ...] = ()
    example_inputs: dict[str, Any] = field(default_factory=dict)
    """Example input values rendered from defaults and constraints."""
    constraints: dict[str, Constraint] = field(default_factory=dict)
    """Limits the template itself declares on its inputs (on top of the product's)."""
    approved_by: str | None = None
    approved_at: datetime | None = None
    deprecated_on: date | None = None
    """End of support of a deprecated version."""
    successor: str | None = None
    """The version consumers should move to."""
    compliant: bool = True
    """False once a re-check found the version failing current policies."""
    noncompliant_reasons: tuple[str, ...] = ()
    checked_at: datetime | None = None

    def with_changes(self, **changes: Any) -> VersionRecord:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, every field."""
        return {
            "format": 1,
            "product": self.product,
            "version": self.version,
            "digest": self.digest,
            "size": self.size,
            "published_by": self.published_by,
            "published_at": self.published_at.isoformat(),
            "state": self.state.value,
            "inputs": [p.to_dict() for p in self.inputs],
            "outputs": [p.to_dict() for p in self.outputs],
            "example_inputs": self.example_inputs,
            "constraints": {
                name: constraint.model_dump(mode="json", exclude_none=True)
                for name, constraint in sorted(self.constraints.items())
            },
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "deprecated_on": self.deprecated_on.isoformat() if self.deprecated_on else None,
            "successor": self.successor,
            "compliant": self.compliant,
            "noncompliant_reasons": list(self.noncompliant_reasons),
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VersionRecord:
        """Inverse of :meth:`to_dict`; ``KeyError``/``ValueError``/``TypeError`` on a malformed record
        (a pydantic ``ValidationError`` is a ``ValueError``)."""

        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if value else None

        deprecated = data.get("deprecated_on")
        return cls(
            product=str(data["product"]),
            version=str(data["version"]),
            digest=str(data["digest"]),
            size=int(data["size"]),
            published_by=str(data["published_by"]),
            published_at=datetime.fromisoformat(data["published_at"]),
            state=State(data.get("state", "draft")),
            inputs=tuple(Param.from_dict(p) for p in data.get("inputs", [])),
            outputs=tuple(Param.from_dict(p) for p in data.get("outputs", [])),
            example_inputs=dict(data.get("example_inputs", {})),
            constraints={
                str(name): Constraint.model_validate(value)
                for name, value in dict(data.get("constraints") or {}).items()
            },
            approved_by=data.get("approved_by"),
            approved_at=when("approved_at"),
            deprecated_on=date.fromisoformat(deprecated) if deprecated else None,
            successor=data.get("successor"),
            compliant=bool(data.get("compliant", True)),
            noncompliant_reasons=tuple(str(r) for r in data.get("noncompliant_reasons", [])),
            checked_at=when("checked_at"),
        )


def latest_approved(records: Iterable[VersionRecord]) -> VersionRecord | None:
    """The newest approved, compliant release (no pre-release) among ``records``, or None."""
    good = [
        r
        for r in records
        if r.state is State.APPROVED and r.compliant and not parse_semver(r.version).is_prerelease
    ]
    return max(good, key=lambda r: parse_semver(r.version)) if good else None


def parse_product(data: Any, where: str) -> ProductSpec:
    """``data`` (a parsed product.yml) as a :class:`ProductSpec`; :class:`InputError` naming
    ``where`` and the first problem otherwise."""
    try:
        return ProductSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{where}: invalid product: {validation_message(exc)}") from None
