"""Input constraints a template declares itself, read as :class:`~bastion.catalog.model.Constraint`:
CloudFormation and ARM parameter limits, and the Terraform ``validation`` conditions whose meaning
is plain (``contains([...], var.x)``, ``can(regex("...", var.x))``, ``length(var.x) <= N``,
``var.x >= N``). A condition Bastion cannot read for sure (an ``||``, a function it does not know)
adds no limit: the template's own checks still run at plan time, and Bastion never refuses a value
on a guess."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from bastion.catalog.model import Constraint

__all__ = ["stack_parameter_constraint", "terraform_validations"]

_STACK_KEYS = {
    "AllowedValues": "allowed",
    "allowedValues": "allowed",
    "AllowedPattern": "pattern",
    "MinValue": "minimum",
    "minValue": "minimum",
    "MaxValue": "maximum",
    "maxValue": "maximum",
    "MinLength": "min_length",
    "minLength": "min_length",
    "MaxLength": "max_length",
    "maxLength": "max_length",
}


def _build(fields: dict[str, Any]) -> Constraint | None:
    """A constraint from ``fields``; None when there are none or they do not make one (a pattern
    Python's ``re`` cannot compile is left out rather than guessed at)."""
    if not fields:
        return None
    try:
        return Constraint.model_validate(fields)
    except ValidationError:
        if "pattern" in fields:
            return _build({k: v for k, v in fields.items() if k != "pattern"})
        return None


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def stack_parameter_constraint(body: dict[str, Any]) -> Constraint | None:
    """The limits of one CloudFormation or ARM parameter; a limit that cannot be read (a pattern
    in a regular-expression dialect Python's ``re`` does not know) is left out."""
    kind = str(body.get("Type", body.get("type", "")))
    fields: dict[str, Any] = {}
    for key, name in _STACK_KEYS.items():
        if key not in body:
            continue
        value = body[key]
        if name == "allowed":
            if isinstance(value, list) and not kind.lower().startswith(
                ("list", "commadelimitedlist", "array")
            ):
                fields[name] = [str(item).lower() if isinstance(item, bool) else str(item) for item in value]
        elif name == "pattern":
            if isinstance(value, str):
                fields[name] = value
        elif name in {"min_length", "max_length"}:
            number = _number(value)
            if number is not None and number >= 0:
                fields[name] = int(number)
        else:
            number = _number(value)
            if number is not None:
                fields[name] = number
    return _build(fields)


def _term_patterns(name: str) -> list[tuple[str, re.Pattern[str]]]:
    var = rf"var\.{re.escape(name)}"
    number = r"(-?\d+(?:\.\d+)?)"
    return [
        (
            "allowed",
            re.compile(rf"^contains\(\s*(?:tolist\(\s*)?\[(.*)\]\s*\)?\s*,\s*{var}\s*\)$", re.DOTALL),
        ),
        ("pattern", re.compile(rf'^can\(\s*regex\(\s*"((?:[^"\\]|\\.)*)"\s*,\s*{var}\s*\)\s*\)$')),
        ("length", re.compile(rf"^length\(\s*{var}\s*\)\s*(<=|>=|<|>|==)\s*(\d+)$")),
        ("range", re.compile(rf"^{var}\s*(<=|>=)\s*{number}$")),
        ("range-reversed", re.compile(rf"^{number}\s*(<=|>=)\s*{var}$")),
    ]


def _strip(term: str) -> str:
    """``term`` without spaces around it or parentheses wrapping all of it."""
    term = term.strip()
    while term.startswith("(") and term.endswith(")") and _balanced(term[1:-1]):
        term = term[1:-1].strip()
    return term


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _full_match_pattern(pattern: str) -> str:
    """Terraform's ``regex`` finds a match anywhere; a constraint's pattern must match in full."""
    if (
        pattern.startswith("^")
        and pattern.endswith("$")
        and not pattern.endswith("\\$")
        and "|" not in pattern
    ):
        return pattern[1:-1]
    return f"(?s).*?(?:{pattern}).*"


def _read_term(name: str, term: str, fields: dict[str, Any]) -> None:
    """Add to ``fields`` what ``term`` (one side of an ``&&``) says about ``var.NAME``."""
    for form, pattern in _term_patterns(name):
        match = pattern.match(term)
        if match is None:
            continue
        if form == "allowed":
            try:
                items = json.loads(f"[{match.group(1)}]")
            except json.JSONDecodeError:
                return
            if all(isinstance(item, str | int | float) and not isinstance(item, bool) for item in items):
                values = [str(item) for item in items]
                previous = fields.get("allowed")
                fields["allowed"] = [v for v in previous if v in values] if previous is not None else values
        elif form == "pattern":
            try:
                fields["pattern"] = _full_match_pattern(json.loads(f'"{match.group(1)}"'))
            except json.JSONDecodeError:
                return
        elif form == "length":
            operator, size = match.group(1), int(match.group(2))
            if operator in {">=", ">", "=="}:
                fields["min_length"] = size + (1 if operator == ">" else 0)
            if operator in {"<=", "<", "=="}:
                fields["max_length"] = size - (1 if operator == "<" else 0)
        else:
            if form == "range":
                operator, value = match.group(1), float(match.group(2))
            else:  # N <= var.x is var.x >= N
                value, operator = float(match.group(1)), {"<=": ">=", ">=": "<="}[match.group(2)]
            fields["minimum" if operator == ">=" else "maximum"] = value
        return


def terraform_validations(name: str, var_type: str, validations: Any) -> Constraint | None:
    """What the ``validation`` blocks of variable ``name`` (of type ``var_type``) say for sure, or
    None. ``length()`` limits are read for strings only (of a list or map they count elements)."""
    blocks: Iterable[Any] = validations if isinstance(validations, list) else [validations]
    fields: dict[str, Any] = {}
    for block in blocks:
        if not isinstance(block, dict) or not isinstance(block.get("condition"), str):
            continue
        condition = block["condition"].strip()
        if condition.startswith("${") and condition.endswith("}"):
            condition = condition[2:-1]
        if "||" in condition:
            continue  # an alternative: no single limit holds for sure
        for term in condition.split("&&"):
            term = _strip(term)
            if not term.startswith("!") and (var_type == "string" or not term.startswith("length(")):
                _read_term(name, term, fields)
    return _build(fields)
