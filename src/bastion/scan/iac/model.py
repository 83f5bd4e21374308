"""What every IaC parser produces and every policy reads: resources with their attributes,
where they sit in the file, and values that could not be resolved."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ModuleCall",
    "Outcome",
    "Ref",
    "Resource",
    "Result",
    "Unresolved",
    "first_unknown",
    "is_plain",
    "refs_in",
]


@dataclass(frozen=True)
class Unresolved:
    """A value that is only known at deploy time: a variable without default, a data source."""

    reason: str
    error: bool = False
    """True where evaluation failed (a missing key, a bad argument), which ``try()`` may skip;
    False where the value is only known at deploy time."""

    def __str__(self) -> str:
        return f"<unresolved: {self.reason}>"


@dataclass(frozen=True)
class Ref:
    """A reference to another resource's attribute (``aws_kms_key.main.arn``): set, value unknown."""

    address: str
    """The referenced resource's address (``aws_kms_key.main``)."""
    attribute: str = ""

    def __str__(self) -> str:
        return f"{self.address}.{self.attribute}" if self.attribute else self.address


@dataclass(frozen=True)
class ModuleCall:
    """The ``module`` block through which a resource was created, for suppressions on the call."""

    path: str
    start_line: int
    end_line: int
    name: str


@dataclass
class Resource:
    """One resource, workload, service or build file, in the format its policies read."""

    type: str
    """``aws_s3_bucket``, ``AWS::S3::Bucket``, ``k8s.Deployment``, ``dockerfile``, ``compose.service``."""
    name: str
    """Address or name: ``aws_s3_bucket.logs``, ``default/Deployment/web``, ``service web``."""
    path: str
    """File relative to the scan root."""
    start_line: int
    end_line: int
    attrs: dict[str, Any]
    lines: Mapping[str, int] = field(default_factory=dict)
    """Dotted attribute path -> line, where known."""
    source: str = "terraform"
    """terraform, tfplan, cloudformation, arm, kubernetes, dockerfile, compose."""
    aliases: tuple[str, ...] = ()
    """Extra type names policies may target (``k8s.workload`` for every pod-bearing kind)."""
    module_call: tuple[ModuleCall, ...] = ()
    """The module calls (outermost first) that created this resource."""
    refs: frozenset[str] = frozenset()
    """Addresses or names of other resources this resource refers to."""
    ids: frozenset[str] = frozenset()
    """What other resources may use to refer to this one (address, name, logical id)."""
    shown: Mapping[str, str] = field(default_factory=dict)
    """Synthetic path prefix -> the real one shown to people (``_containers.0`` -> ``spec...``)."""

    def show(self, text: str) -> str:
        """``text`` with synthetic attribute paths written as they are in the file."""
        for synthetic in sorted(self.shown, key=len, reverse=True):
            text = text.replace(f"`{synthetic}", f"`{self.shown[synthetic]}")
        return text

    def line_of(self, path: str) -> int:
        """Line of the attribute at ``path`` or of its nearest known parent, else the resource."""
        parts = path.split(".")
        while parts:
            line = self.lines.get(".".join(parts)) or self.lines.get(
                ".".join(p for p in parts if not p.isdigit())
            )
            if line:
                return line
            parts.pop()
        return self.start_line

    def types(self) -> tuple[str, ...]:
        """The type followed by its aliases."""
        return (self.type, *self.aliases)


class Outcome(enum.Enum):
    """A check's verdict on one resource."""

    PASS = "pass"  # bastion: ignore[sast.bandit.B105] an outcome name, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Result:
    """A verdict with the attribute it hinges on and, for unknown, why."""

    outcome: Outcome
    path: str = ""
    reason: str = ""

    @property
    def passed(self) -> bool:
        """True for PASS."""
        return self.outcome is Outcome.PASS


def first_unknown(value: Any, ref_known: str) -> Unresolved | None:
    """The first unknown part of ``value`` as an :class:`Unresolved`, or None when fully known;
    a reference to another resource is unknown with the reason ``"<ref> is <ref_known>"``."""
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, Ref):
        return Unresolved(f"{value} is {ref_known}")
    items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else ()
    for item in items:
        found = first_unknown(item, ref_known)
        if found is not None:
            return found
    return None


def is_plain(value: Any) -> bool:
    """Whether ``value`` is a known scalar, or a list or map of known scalars (no
    :class:`Unresolved`, no :class:`Ref`, no nested structure)."""
    if isinstance(value, list):
        return all(isinstance(v, str | int | float | bool) for v in value)
    if isinstance(value, dict):
        return all(isinstance(v, str | int | float | bool) for v in value.values())
    return isinstance(value, str | int | float | bool)


def refs_in(value: Any) -> frozenset[str]:
    """The addresses of every :class:`Ref` anywhere in ``value`` (nested dicts and lists)."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, Ref):
            found.add(item.address)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return frozenset(found)
