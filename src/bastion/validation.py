"""Turning a pydantic ``ValidationError`` into the one-line reason Bastion prints.

Config tables, scanner options and rule files all validate with pydantic; each names its
own file and key prefix, and this module gives them the same wording for the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bastion.errors import ConfigError

__all__ = ["UNKNOWN_KEY", "first_error", "is_unknown_key", "reason_of", "validate_options"]

_Options = TypeVar("_Options", bound=BaseModel)

UNKNOWN_KEY = "unknown key"


def first_error(exc: ValidationError) -> ErrorDetails:
    """The error a one-line message reports (pydantic lists them in field order)."""
    return exc.errors()[0]


def is_unknown_key(error: ErrorDetails) -> bool:
    """Whether ``error`` is a key the model does not have (``extra="forbid"``)."""
    return error["type"] == "extra_forbidden"


def reason_of(error: ErrorDetails) -> str:
    """``unknown key`` or pydantic's message without its ``Value error, `` prefix."""
    return UNKNOWN_KEY if is_unknown_key(error) else str(error["msg"]).removeprefix("Value error, ")


def validate_options(model: type[_Options], section: str, options: Mapping[str, Any]) -> _Options:
    """Validate a scanner's ``[scanners.NAME]`` table (``section``) against ``model``.

    Raises :class:`ConfigError` with one line naming the key: ``scanners.sast.tools: unknown
    key (choose from ...)`` or ``scanners.sast.tools[1]: reason (got 'x')``.
    """
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        error = first_error(exc)
        loc = [str(part) for part in error["loc"]]
        key = f"{section}.{loc[0]}" if loc else section
        if is_unknown_key(error):
            raise ConfigError(f"{key}: unknown key (choose from {', '.join(model.model_fields)})") from None
        index = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in loc[1:])
        raise ConfigError(f"{key}{index}: {reason_of(error)} (got {error.get('input')!r})") from None
