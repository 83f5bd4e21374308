"""The ``[scanners.sast]`` options, validated by pydantic into one line per mistake."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from bastion.errors import ConfigError
from bastion.scan.sast.cwe import bandit_rules
from bastion.validation import validate_options

__all__ = ["DEFAULT_SEMGREP_TIMEOUT_S", "SastOptions", "Tool", "parse_options", "resolve_rule_paths"]

DEFAULT_SEMGREP_TIMEOUT_S = 300.0
"""Wall-clock limit for the semgrep run."""

_SECTION = "scanners.sast"
_REMOTE_PREFIXES = ("p/", "r/", "s/", "http://", "https://", "auto")


class Tool(enum.StrEnum):
    """The tools the sast scanner drives."""

    BANDIT = "bandit"
    SEMGREP = "semgrep"
    TAINT = "taint"


class SastOptions(BaseModel):
    """``[scanners.sast]``: which tools run, extra semgrep rules, bandit tests to skip."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tools: tuple[Tool, ...] = Field(default=(Tool.BANDIT, Tool.SEMGREP, Tool.TAINT), min_length=1)
    """Tools to run, ``["bandit", "semgrep", "taint"]`` by default (``taint`` is Bastion's own
    dataflow analysis, built in)."""
    semgrep_rules: tuple[StrictStr, ...] = ()
    """Extra semgrep rule files or directories, relative to the scanned directory."""
    bandit_skip: tuple[StrictStr, ...] = ()
    """bandit test ids to leave out, ``["B101"]``."""
    semgrep_timeout: float = Field(default=DEFAULT_SEMGREP_TIMEOUT_S, gt=0)
    """Seconds the semgrep run may take before it is stopped and reported."""

    @field_validator("tools", "semgrep_rules", "bandit_skip", mode="before")
    @classmethod
    def _lists_only(cls, value: Any) -> Any:
        if isinstance(value, str | bytes | Mapping):
            raise ValueError("must be a list of strings")
        return value

    @field_validator("semgrep_timeout", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number of seconds")
        return value

    @field_validator("bandit_skip")
    @classmethod
    def _known_tests(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = bandit_rules()
        unknown = [test for test in value if test not in known]
        if unknown:
            raise ValueError(f"unknown bandit test id {unknown[0]!r} (ids look like 'B101')")
        return value


def parse_options(options: Mapping[str, Any]) -> SastOptions:
    """Validate ``[scanners.sast]``; raise :class:`ConfigError` with one line naming the key."""
    return validate_options(SastOptions, _SECTION, options)


def resolve_rule_paths(rules: tuple[str, ...], root: Path) -> list[Path]:
    """Absolute paths of the user's rule files; relative ones are taken from ``root``.

    Raises :class:`ConfigError` for a missing path or a registry/URL rule set, which
    an offline semgrep cannot fetch.
    """
    resolved: list[Path] = []
    for index, text in enumerate(rules):
        path = Path(text).expanduser()
        path = path if path.is_absolute() else root / path
        if path.exists():
            resolved.append(path.resolve())
            continue
        key = f"{_SECTION}.semgrep_rules[{index}]"
        if text.startswith(_REMOTE_PREFIXES):
            raise ConfigError(
                f"{key}: registry or URL rule sets are not supported, semgrep runs offline; "
                f"give a local rule file (got {text!r})"
            )
        raise ConfigError(f"{key}: rule file not found: {path}")
    return resolved
