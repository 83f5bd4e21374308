"""Version order per ecosystem and OSV range evaluation.

Each ecosystem sorts versions its own way: PEP 440 for PyPI (``packaging``), semver for
npm, crates.io and Go, and the univers implementations for Maven, RubyGems, NuGet and
Packagist. :func:`is_affected` applies the OSV rules: a version is affected when it is in
an explicit ``versions`` list or inside an ``ECOSYSTEM``/``SEMVER`` range whose events
(``introduced``, ``fixed``, ``last_affected``, ``limit``) cover it. ``GIT`` ranges name
commits, not versions, and are not evaluated (the explicit list covers them in practice).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from packaging.version import InvalidVersion
from packaging.version import Version as PepVersion
from univers import versions as uv

__all__ = [
    "SUPPORTED_ECOSYSTEMS",
    "Comparable",
    "UnsupportedVersion",
    "fixed_versions",
    "is_affected",
    "parse_version",
]


class Comparable(Protocol):
    """A parsed version: totally ordered within its ecosystem."""

    def __lt__(self, other: Any, /) -> bool: ...

    def __le__(self, other: Any, /) -> bool: ...


class UnsupportedVersion(ValueError):
    """A version string the ecosystem's order cannot place."""


def _pep440(text: str) -> Comparable:
    return PepVersion(text)


def _semver(text: str) -> Comparable:
    # Build metadata (``+incompatible`` in Go) has no place in semver precedence.
    return uv.SemverVersion(text.strip().removeprefix("v").split("+", 1)[0])


def _univers(cls: type[uv.Version]) -> Callable[[str], Comparable]:
    def parse(text: str) -> Comparable:
        return cls(text.strip())

    return parse


_PARSERS: Mapping[str, Callable[[str], Comparable]] = {
    "PyPI": _pep440,
    "npm": _semver,
    "crates.io": _semver,
    "Go": _semver,
    "Maven": _univers(uv.MavenVersion),
    "RubyGems": _univers(uv.RubygemsVersion),
    "NuGet": _univers(uv.NugetVersion),
    "Packagist": _univers(uv.ComposerVersion),
}

SUPPORTED_ECOSYSTEMS: tuple[str, ...] = tuple(_PARSERS)
"""Ecosystems whose version order Bastion knows, spelled as OSV spells them."""


@functools.lru_cache(maxsize=65536)
def parse_version(ecosystem: str, text: str, semver: bool = False) -> Comparable:
    """Parse ``text`` in ``ecosystem``'s order (semver when ``semver``); raise :class:`UnsupportedVersion`."""
    parser = _semver if semver else _PARSERS.get(ecosystem)
    if parser is None:
        raise UnsupportedVersion(f"no version order known for ecosystem {ecosystem!r}")
    try:
        return parser(text)
    except (InvalidVersion, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise UnsupportedVersion(f"{text!r} is not a valid {ecosystem} version") from exc


def _same_version(ecosystem: str, listed: str, version: str) -> bool:
    if listed == version:
        return True
    try:
        return parse_version(ecosystem, listed) == parse_version(ecosystem, version)
    except UnsupportedVersion:
        return False


_EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}


def _range_affects(ecosystem: str, range_: Mapping[str, Any], version: Comparable) -> bool:
    """Whether one ECOSYSTEM/SEMVER range covers ``version`` (the OSV evaluation algorithm)."""
    semver = range_.get("type") == "SEMVER"
    events: list[tuple[Comparable | None, int, str]] = []
    limits: list[Comparable] = []
    for event in range_.get("events", ()):
        if not isinstance(event, Mapping) or len(event) != 1:
            continue
        kind, raw = next(iter(event.items()))
        if kind not in _EVENT_ORDER or not isinstance(raw, str):
            continue
        if kind == "introduced" and raw == "0":
            events.append((None, 0, kind))
            continue
        if kind == "limit" and raw == "*":
            continue
        try:
            parsed = parse_version(ecosystem, raw, semver)
        except UnsupportedVersion:
            return False  # an event we cannot place: never guess "affected"
        if kind == "limit":
            limits.append(parsed)
        else:
            events.append((parsed, _EVENT_ORDER[kind], kind))
    if limits and not any(version < limit for limit in limits):
        return False
    events.sort(key=functools.cmp_to_key(_compare_events))
    affected = False
    for point, _, kind in events:
        if kind == "introduced":
            if point is None or point <= version:
                affected = True
        elif point is None:
            continue
        elif (kind == "fixed" and point <= version) or (kind == "last_affected" and point < version):
            affected = False
    return affected


def _compare_events(a: tuple[Comparable | None, int, str], b: tuple[Comparable | None, int, str]) -> int:
    if a[0] is None or b[0] is None:
        if a[0] is None and b[0] is None:
            return a[1] - b[1]
        return -1 if a[0] is None else 1
    if a[0] < b[0]:
        return -1
    if b[0] < a[0]:
        return 1
    return a[1] - b[1]


def is_affected(
    ecosystem: str, version: str, ranges: Sequence[Mapping[str, Any]], versions: Iterable[str]
) -> bool:
    """Whether ``version`` of a package is affected by one OSV ``affected`` entry.

    Raises :class:`UnsupportedVersion` when ``version`` itself cannot be parsed and the
    entry has ranges to evaluate (an explicit list is still checked by string first).
    """
    if any(_same_version(ecosystem, listed, version) for listed in versions):
        return True
    evaluated = [r for r in ranges if r.get("type") in {"ECOSYSTEM", "SEMVER"}]
    if not evaluated:
        return False
    for range_ in evaluated:
        parsed = parse_version(ecosystem, version, range_.get("type") == "SEMVER")
        if _range_affects(ecosystem, range_, parsed):
            return True
    return False


def fixed_versions(ranges: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every ``fixed`` version named by ECOSYSTEM/SEMVER ranges, in order of appearance."""
    found: list[str] = []
    for range_ in ranges:
        if range_.get("type") not in {"ECOSYSTEM", "SEMVER"}:
            continue
        for event in range_.get("events", ()):
            value = event.get("fixed") if isinstance(event, Mapping) else None
            if isinstance(value, str) and value not in found:
                found.append(value)
    return found


def _compare_pairs(a: tuple[Comparable, str], b: tuple[Comparable, str]) -> int:
    if a[0] < b[0]:
        return -1
    return 1 if b[0] < a[0] else 0


def sort_versions(ecosystem: str, values: Iterable[str]) -> list[str]:
    """``values`` in ``ecosystem``'s order; unparsable ones last, as given."""
    good: list[tuple[Comparable, str]] = []
    bad: list[str] = []
    for value in values:
        try:
            good.append((parse_version(ecosystem, value), value))
        except UnsupportedVersion:
            bad.append(value)
    good.sort(key=functools.cmp_to_key(_compare_pairs))
    return [v for _, v in good] + bad
