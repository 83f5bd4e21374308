"""The identity detections' settings (``rules.yml``), validated by a pydantic schema."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.errors import InputError
from bastion.findings import Severity

__all__ = ["KINDS", "Detection", "RuleSet", "load_rules"]

KINDS = (
    "password-spray",
    "brute-force",
    "credential-stuffing",
    "success-after-failures",
    "mfa-fatigue",
    "impossible-travel",
    "new-country",
    "anonymous-ip",
    "dormant-account",
    "unfamiliar-sign-in",
    "new-device-privileged",
    "malicious-ip",
)
"""Every detection kind, in the order the rules file lists them."""

_ATTACK = re.compile(r"^T\d{4}(\.\d{3})?$")
DEFAULT_RULES = Path(__file__).with_name("rules.yml")


class Detection(BaseModel):
    """One detection: what it is called, how bad, which ATT&CK techniques, its thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    severity: str
    attack: list[str] = Field(min_length=1)
    description: str
    params: dict[str, float]

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        Severity.parse(value)
        return value

    @field_validator("attack")
    @classmethod
    def _attack(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _ATTACK.match(v)]
        if bad:
            raise ValueError(f"not ATT&CK technique ids: {', '.join(bad)}")
        return value

    @property
    def level(self) -> Severity:
        """The severity as an enum."""
        return Severity.parse(self.severity)

    def param(self, name: str) -> float:
        """One threshold; a missing one is a bug in the rules file, reported by name."""
        try:
            return self.params[name]
        except KeyError:
            raise InputError(f"rules: detection {self.title!r} lacks param {name!r}") from None


class RuleSet(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    detections: dict[str, Detection]

    @field_validator("detections")
    @classmethod
    def _kinds(cls, value: dict[str, Detection]) -> dict[str, Detection]:
        missing = [k for k in KINDS if k not in value]
        unknown = [k for k in value if k not in KINDS]
        if missing or unknown:
            raise ValueError(f"missing kinds {missing}, unknown kinds {unknown}")
        return value


def _load(path: Path) -> RuleSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return RuleSet.model_validate(data)
    except OSError as exc:
        raise InputError(f"{path}: cannot read rules ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: invalid rules at {where}: {first['msg']}") from None


@cache
def _default() -> RuleSet:
    return _load(DEFAULT_RULES)


def load_rules(path: Path | None = None) -> RuleSet:
    """The rules file at ``path``, or the built-in one."""
    return _default() if path is None else _load(path)
