"""Semantic versions (https://semver.org/spec/v2.0.0.html): parsing and precedence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from bastion.errors import InputError

__all__ = ["SemVer", "parse_semver"]

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


@total_ordering
@dataclass(frozen=True)
class SemVer:
    """A version ``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]``; build metadata takes no part in order."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + self.build
        return text

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # a release sorts after its pre-releases; numeric identifiers sort before alphanumeric ones
        parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, parts)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key()

    @property
    def is_prerelease(self) -> bool:
        """Whether it carries a pre-release tag (``1.0.0-rc.1``)."""
        return bool(self.prerelease)


def parse_semver(text: str) -> SemVer:
    """``text`` as a :class:`SemVer` (a leading ``v`` is accepted, as in git tags);
    :class:`InputError` naming the value otherwise."""
    value = text.strip()
    match = _SEMVER.match(value[1:] if value[:1] in {"v", "V"} else value)
    if match is None:
        raise InputError(f"{text!r}: not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.0)")
    major, minor, patch, pre, build = match.groups()
    return SemVer(int(major), int(minor), int(patch), tuple(pre.split(".")) if pre else (), build or "")
