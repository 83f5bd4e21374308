"""Turning a pydantic ``ValidationError`` into the one-line reason Bastion prints.

Config tables, scanner options and rule files all validate with pydantic; each names its
own file and key prefix, and this module gives them the same wording for the reason.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = ["UNKNOWN_KEY", "first_error", "is_unknown_key", "reason_of"]

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
