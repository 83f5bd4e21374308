"""Sigma values compiled to predicates over one field's value.

Every value type pySigma produces after its modifiers ran (strings with wildcards, cased strings,
regular expressions, CIDR ranges, numeric comparisons, null, exists, field references, booleans,
numbers, and the OR-groups that ``windash``/``base64offset`` expand to) becomes one
:class:`ValueTest`: a predicate plus the literal an event must contain for it to hold (the
prefilter key). Case-insensitive strings are compared on lowercased text; ``cased`` strings and
regular expressions on the original text. Regular expressions run on google-re2 (linear time);
a pattern re2 cannot compile falls back to Python ``re`` only when it has no nested quantifier.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import re2
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
)

from bastion.detect.sigma.event import Event

__all__ = ["Predicate", "UnsupportedRule", "ValueTest", "compile_value", "has_nested_quantifier"]

Predicate = Callable[[Event], bool]
"""A compiled test of one event."""


class UnsupportedRule(Exception):
    """A rule uses something Bastion cannot evaluate; the message is the one-line reason."""


@dataclass(frozen=True)
class ValueTest:
    """A compiled value: ``test(event)`` and the lowercase literals one of which a match needs."""

    test: Predicate
    need: frozenset[str] | None
    """A match implies the event's lowercased text holds one of these; None: no such key."""


_NESTED = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)\s*[*+{]")


def has_nested_quantifier(pattern: str) -> bool:
    """True when a group with a quantifier inside is itself quantified (``(a+)+``): catastrophic in ``re``."""
    return bool(_NESTED.search(pattern))


def compile_regex(pattern: str, flags: str = "") -> Callable[[str], Any]:
    """A ``search`` function for ``pattern``: re2 when it compiles, else guarded Python ``re``."""
    text = f"(?{flags}){pattern}" if flags else pattern
    try:
        return re2.compile(text).search  # type: ignore[no-any-return]
    except re2.error:
        pass
    if has_nested_quantifier(pattern):
        raise UnsupportedRule(
            f"regex {pattern[:60]!r} needs backtracking and nests quantifiers (catastrophic)"
        )
    try:
        return re.compile(text).search
    except re.error as exc:
        raise UnsupportedRule(f"invalid regex {pattern[:60]!r}: {exc}") from None


def _plain_parts(value: SigmaString, placeholders: Mapping[str, list[str]]) -> list[list[str | SpecialChars]]:
    """The value's parts, one list per placeholder expansion (placeholders replaced by their values)."""
    variants: list[list[str | SpecialChars]] = [[]]
    for part in value.s:
        if isinstance(part, Placeholder):
            if part.name not in placeholders:
                raise UnsupportedRule(
                    f"placeholder %{part.name}% has no values (give them in a placeholders file)"
                )
            variants = [[*v, p] for v in variants for p in placeholders[part.name]]
            if len(variants) > 1000:
                raise UnsupportedRule(f"placeholder %{part.name}% expands to more than 1000 values")
        else:
            variants = [[*v, part] for v in variants]
    return variants


def _merge(parts: list[str | SpecialChars]) -> list[str | SpecialChars]:
    out: list[str | SpecialChars] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] = out[-1] + part
        elif part == SpecialChars.WILDCARD_MULTI and out and out[-1] == SpecialChars.WILDCARD_MULTI:
            continue
        else:
            out.append(part)
    return out


def _string_test(field: str | None, parts: list[str | SpecialChars], cased: bool) -> ValueTest:
    """Compile one wildcard string into the fastest equivalent check."""
    parts = _merge(parts)
    if not cased:
        parts = [p.lower() if isinstance(p, str) else p for p in parts]
    literals = [p for p in parts if isinstance(p, str)]
    need = frozenset({max(literals, key=len).lower()}) if literals else None
    star = SpecialChars.WILDCARD_MULTI
    check: Callable[[str], bool]
    if not parts:
        check = "".__eq__
    elif len(parts) == 1 and isinstance(parts[0], str):
        check = parts[0].__eq__
    elif len(parts) == 1 and parts[0] == star:
        check = _always
    elif len(parts) == 2 and parts[0] == star and isinstance(parts[1], str):
        s = parts[1]
        check = lambda v: v.endswith(s)  # noqa: E731
    elif len(parts) == 2 and parts[1] == star and isinstance(parts[0], str):
        s = parts[0]
        check = lambda v: v.startswith(s)  # noqa: E731
    elif len(parts) == 3 and parts[0] == star and parts[2] == star and isinstance(parts[1], str):
        s = parts[1]
        check = lambda v: s in v  # noqa: E731
    else:
        pattern = "".join(
            re2.escape(p) if isinstance(p, str) else (".*" if p == star else ".") for p in parts
        )
        rx = re2.compile("(?s)" + pattern)
        check = lambda v: rx.fullmatch(v) is not None  # noqa: E731
    return ValueTest(_field_test(field, check, cased), need)


def _always(_value: str) -> bool:
    return True


def _field_test(field: str | None, check: Callable[[str], bool], cased: bool) -> Predicate:
    """``check`` on the field's text (lowercased unless ``cased``), any list element, any field (keywords)."""
    if field is None:

        def keyword(event: Event) -> bool:
            values = event.text if cased else event.low
            for value in values.values():
                if value.__class__ is str:
                    if check(value):
                        return True
                elif any(check(v) for v in value):
                    return True
            return False

        return keyword

    def one(event: Event) -> bool:
        value = (event.text if cased else event.low).get(field)
        if value is None:
            return False
        if value.__class__ is str:
            return check(value)
        return any(check(v) for v in value)

    return one


_OPS: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def compile_value(field: str | None, value: SigmaType, placeholders: Mapping[str, list[str]]) -> ValueTest:
    """Compile one value of a detection item for ``field`` (lowercased name; None for keywords)."""
    if isinstance(value, SigmaTimestampPart):
        raise UnsupportedRule("timestamp-part modifiers (minute, hour, day, ...) are not supported")
    if isinstance(value, SigmaString):
        cased = isinstance(value, SigmaCasedString)
        tests = [_string_test(field, parts, cased) for parts in _plain_parts(value, placeholders)]
        return tests[0] if len(tests) == 1 else _any_of(tests)
    if isinstance(value, SigmaExpansion):
        return _any_of([compile_value(field, v, placeholders) for v in value.values])
    if isinstance(value, SigmaBool | SigmaNumber):
        text = str(value.boolean).lower() if isinstance(value, SigmaBool) else str(value.number).lower()
        return ValueTest(_field_test(field, text.__eq__, False), frozenset({text}))
    if isinstance(value, SigmaRegularExpression):
        flags = "".join(
            c
            for f, c in (
                (SigmaRegularExpressionFlag.IGNORECASE, "i"),
                (SigmaRegularExpressionFlag.MULTILINE, "m"),
                (SigmaRegularExpressionFlag.DOTALL, "s"),
            )
            if f in value.flags
        )
        search = compile_regex(value.regexp.to_plain(), flags)
        return ValueTest(_field_test(field, lambda v: search(v) is not None, True), None)
    if field is None:
        raise UnsupportedRule(f"keyword value of type {type(value).__name__} needs a field")
    if isinstance(value, SigmaNull):
        return ValueTest(lambda e: e.raw.get(field) in (None, ""), None)
    if isinstance(value, SigmaExists):
        want = value.exists
        return ValueTest(lambda e: (field in e.raw) is want, None)
    if isinstance(value, SigmaCIDRExpression):
        return ValueTest(_field_test(field, _cidr(value.network), True), None)
    if isinstance(value, SigmaCompareExpression):
        op, number = _OPS[value.op], float(value.number.number)

        def compare(event: Event) -> bool:
            got = _number(event.raw.get(field))
            return got is not None and op(got, number)

        return ValueTest(compare, None)
    if isinstance(value, SigmaFieldReference):
        return ValueTest(_fieldref(field, value), None)
    raise UnsupportedRule(f"value type {type(value).__name__} is not supported")


def _any_of(tests: list[ValueTest]) -> ValueTest:
    preds = [t.test for t in tests]
    need: frozenset[str] | None = frozenset()
    for t in tests:
        need = None if need is None or t.need is None else need | t.need

    def any_test(event: Event) -> bool:
        return any(p(event) for p in preds)

    return ValueTest(any_test, need)


def _cidr(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            return ipaddress.ip_address(value.strip("[]")) in network
        except ValueError:
            return False

    return check


def _fieldref(field: str, ref: SigmaFieldReference) -> Predicate:
    other = ref.field.lower()

    def check(event: Event) -> bool:
        a, b = event.text.get(field), event.text.get(other)
        if not isinstance(a, str) or not isinstance(b, str):
            return False
        if ref.starts_with and ref.ends_with:
            return b in a
        if ref.starts_with:
            return a.startswith(b)
        if ref.ends_with:
            return a.endswith(b)
        return a == b

    return check
