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

import importlib
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import methodcaller
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

__all__ = [
    "REGEX_KEY",
    "Predicate",
    "UnsupportedRule",
    "ValueTest",
    "compile_value",
    "has_nested_quantifier",
    "regex_key",
]

Predicate = Callable[[Event], bool]
"""A compiled test of one event."""


class UnsupportedRule(Exception):
    """A rule uses something Bastion cannot evaluate; the message is the one-line reason."""


@dataclass(frozen=True)
class ValueTest:
    """A compiled value: ``test(event)`` and the lowercase literals one of which a match needs."""

    test: Predicate
    need: frozenset[str] | None
    """A match implies the field's lowercased text holds one of these literals; None: no such key."""
    simple: tuple[str, str, bool] | None = None
    """``(eq|startswith|endswith|contains, text, cased)`` for plain string tests, which an ``or``
    over one field merges into one check (a set lookup, ``endswith(tuple)``, one regex)."""


REGEX_KEY = "\x00re:"
"""Start of a prefilter key that is a regular expression (``REGEX_KEY + flags + ":" + pattern``),
used for a regex without a literal: the index scans for it as a Hyperscan prefilter pattern.
A literal holding a NUL character is never a key, so no literal can be taken for one."""

_ANCHORS = re.compile(r"\\[AzZG]")
"""Anchors to the start or end of the whole text: the index scans all fields joined, where they
would hold only for the first or last field, so a regex using them gets no key."""

_NESTED = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)\s*[*+{]")


def has_nested_quantifier(pattern: str) -> bool:
    """True when a group with a quantifier inside is itself quantified (``(a+)+``): catastrophic in ``re``."""
    return bool(_NESTED.search(pattern))


def _re2_search(pattern: str, anchor: Any) -> Callable[[str], bool]:
    """re2's compiled program called directly: the pure-Python wrapper's offset bookkeeping costs
    ten times the match itself, and a yes/no answer needs none of it."""
    program = re2.compile(pattern, _QUIET)._regexp

    def search(value: str) -> bool:
        data = value.encode("utf-8", "surrogatepass")
        return bool(program.Match(anchor, data, 0, len(data))[0][0] != -1)

    return search


_QUIET = re2.Options()
_QUIET.log_errors = False  # a pattern re2 refuses is reported once, as a refusal or a fallback
_UNANCHORED = re2._re2.RE2.Anchor.UNANCHORED
_ANCHOR_BOTH = re2._re2.RE2.Anchor.ANCHOR_BOTH


def compile_regex(pattern: str, flags: str = "") -> Callable[[str], bool]:
    """A yes/no search for ``pattern``: re2 (linear time) when it compiles; a pattern only Python's
    backtracking ``re`` reads (lookaround, backreferences) is used there unless it nests quantifiers."""
    text = f"(?{flags}){pattern}" if flags else pattern
    try:
        return _re2_search(text, _UNANCHORED)
    except re2.error as exc:
        why = str(exc)  # re2 cannot run it; Python's re may, when it cannot backtrack without end
    if has_nested_quantifier(pattern):
        raise UnsupportedRule(
            f"regex {pattern[:60]!r} needs backtracking ({why}) and nests quantifiers (catastrophic)"
        )
    try:
        rx = re.compile(text)
    except re.error as exc:
        raise UnsupportedRule(f"invalid regex {pattern[:60]!r}: {exc}") from None
    return lambda v: rx.search(v) is not None


# the standard library's own regex parser (``re._parser``), to find the literal a regex requires
_SRE_PARSE: Any = importlib.import_module("re._parser")
_SRE_CONSTANTS: Any = importlib.import_module("re._constants")


def regex_literal(pattern: str, shortest: int = 3) -> str | None:
    """The longest run of plain characters every match of ``pattern`` must contain (lowercased),
    from its top-level sequence only; None when there is none of at least ``shortest`` characters."""
    try:
        parsed = _SRE_PARSE.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    best, run = "", []
    literal = _SRE_CONSTANTS.LITERAL
    for op, arg in list(parsed):
        if op is literal:
            run.append(chr(arg))
            continue
        if len("".join(run)) > len(best):
            best = "".join(run)
        run = []
    if len("".join(run)) > len(best):
        best = "".join(run)
    return best.lower() if len(best) >= shortest else None


def regex_key(pattern: str, flags: str) -> str | None:
    """The prefilter key of a regex (:data:`REGEX_KEY`); None when it is not ASCII or anchors
    to the whole text (such a regex is tested on every event of its log source)."""
    if not pattern.isascii() or _ANCHORS.search(pattern):
        return None
    return f"{REGEX_KEY}{flags}:{pattern}"


def _glob(parts: list[str | SpecialChars]) -> Callable[[str], bool]:
    """A ``*``-only wildcard pattern checked with ``startswith``/``find``/``endswith`` (leftmost
    matching is exact for ``*``), in linear time without a regex."""
    head = parts[0] if isinstance(parts[0], str) else ""
    tail = parts[-1] if isinstance(parts[-1], str) and len(parts) > 1 else ""
    middle = [
        p for p in parts[1 if head else 0 : len(parts) - 1 if tail else len(parts)] if isinstance(p, str)
    ]
    fixed = len(head) + len(tail)

    def glob(value: str) -> bool:
        if len(value) < fixed or not value.startswith(head) or not value.endswith(tail):
            return False
        pos, end = len(head), len(value) - len(tail)
        for seg in middle:
            i = value.find(seg, pos, end)
            if i < 0:
                return False
            pos = i + len(seg)
        return True

    return glob


def _plain_parts(value: SigmaString, placeholders: Mapping[str, list[str]]) -> list[list[str | SpecialChars]]:
    """The value's parts, one list per placeholder expansion (placeholders replaced by their values)."""
    variants: list[list[str | SpecialChars]] = [[]]
    for part in value.s:
        if isinstance(part, Placeholder):
            if part.name not in placeholders:
                raise UnsupportedRule(
                    f"placeholder %{part.name}% has no values (give them in a placeholders file)"
                )
            # placeholder values may hold wildcards; a placeholder inside a value is not expanded again
            values = [
                [p for p in SigmaString(text).s if not isinstance(p, Placeholder)]
                for text in placeholders[part.name]
            ]
            variants = [[*v, *p] for v in variants for p in values]
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
    key = max(literals, key=len).lower() if literals else ""
    need = frozenset({key}) if key and "\x00" not in key else None
    star = SpecialChars.WILDCARD_MULTI
    check: Callable[[str], bool]
    simple: tuple[str, str, bool] | None = None
    if not parts:
        check = "".__eq__
        simple = ("eq", "", cased)
    elif len(parts) == 1 and isinstance(parts[0], str):
        check = parts[0].__eq__
        simple = ("eq", parts[0], cased)
    elif len(parts) == 1 and parts[0] == star:
        check = _always
    elif len(parts) == 2 and parts[0] == star and isinstance(parts[1], str):
        s = parts[1]
        check = methodcaller("endswith", s)
        simple = ("endswith", s, cased)
    elif len(parts) == 2 and parts[1] == star and isinstance(parts[0], str):
        s = parts[0]
        check = methodcaller("startswith", s)
        simple = ("startswith", s, cased)
    elif len(parts) == 3 and parts[0] == star and parts[2] == star and isinstance(parts[1], str):
        s = parts[1]
        check = methodcaller("__contains__", s)
        simple = ("contains", s, cased)
    elif SpecialChars.WILDCARD_SINGLE not in parts:
        check = _glob(parts)
    else:
        pattern = "".join(
            re2.escape(p) if isinstance(p, str) else (".*" if p == star else ".") for p in parts
        )
        check = _re2_search("(?s)" + pattern, _ANCHOR_BOTH)
    return ValueTest(_field_test(field, check, cased), need, simple)


def merged_test(field: str, simples: list[tuple[str, str, bool]]) -> Predicate:
    """One predicate for an ``or`` of plain string tests on one field (all cased or all not)."""
    cased = simples[0][2]
    equal = frozenset(s for kind, s, _ in simples if kind == "eq")
    starts = tuple(s for kind, s, _ in simples if kind == "startswith")
    ends = tuple(s for kind, s, _ in simples if kind == "endswith")
    subs = [s for kind, s, _ in simples if kind == "contains"]
    compiled: list[Callable[[str], bool]] = []  # compiled on first use: most rules never get that far

    def inner(value: str) -> bool:
        if not compiled:
            compiled.append(_any_substring(subs))
        return compiled[0](value)

    def either(value: str) -> bool:
        return (
            value in equal
            or (bool(starts) and value.startswith(starts))
            or (bool(ends) and value.endswith(ends))
            or (bool(subs) and inner(value))
        )

    kinds = (bool(equal), bool(starts), bool(ends), bool(subs))
    check: Callable[[str], bool] = either
    if kinds == (False, False, True, False):  # one kind only: the string method itself, no closure
        check = methodcaller("endswith", ends)
    elif kinds == (False, True, False, False):
        check = methodcaller("startswith", starts)
    elif kinds == (True, False, False, False):
        check = equal.__contains__
    return _field_test(field, check, cased)


def _any_substring(subs: list[str]) -> Callable[[str], bool]:
    """Whether a text holds one of ``subs``: one re2 alternation (a DFA: linear in the text, where
    Python's ``re`` tries each alternative at each position, 380 us for the 1,090 packages of one
    SigmaHQ rule against 1.3 us); Python's ``re`` only when re2 refuses it (too large)."""
    try:
        return _re2_search("|".join(re2.escape(s) for s in subs), _UNANCHORED)
    except re2.error:
        rx = re.compile("|".join(re.escape(s) for s in sorted(subs, key=len, reverse=True)))
        return lambda value: rx.search(value) is not None


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

    if cased:

        def one_cased(event: Event) -> bool:
            value = event.tx[field]
            if value.__class__ is str:
                return check(value)
            return value is not None and any(check(v) for v in value)

        return one_cased

    def one(event: Event) -> bool:
        value = event.lo[field]
        if value.__class__ is str:
            return check(value)
        return value is not None and any(check(v) for v in value)

    return one


_OPS: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def compile_value(field: str | None, value: SigmaType, placeholders: Mapping[str, list[str]]) -> ValueTest:
    """Compile one value of a detection item for ``field`` (lowercased name; None for keywords)."""
    if isinstance(value, SigmaTimestampPart):
        raise UnsupportedRule("timestamp-part modifiers (minute, hour, day, ...) are not supported")
    if isinstance(value, SigmaString):
        cased = isinstance(value, SigmaCasedString)
        variants = _plain_parts(value, placeholders)
        if field is None:  # a keyword is full-text: found anywhere in a value, as SQL backends search it
            star = SpecialChars.WILDCARD_MULTI
            variants = [
                ([] if p[:1] == [star] else [star]) + p + ([] if p[-1:] == [star] else [star])
                for p in variants
            ]
        tests = [_string_test(field, parts, cased) for parts in variants]
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
        pattern = value.regexp.to_plain()
        literal = regex_literal(pattern)
        key = regex_key(pattern, flags) if literal is None or "\x00" in literal else literal
        need = frozenset({key}) if key else None
        return ValueTest(_field_test(field, compile_regex(pattern, flags), True), need)
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
        a, b = event.tx[field], event.tx[other]
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
