"""Semantic versions: what parses, what does not, and precedence (semver.org section 11)."""

from __future__ import annotations

import pytest

from bastion.catalog.semver import SemVer, parse_semver
from bastion.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3", SemVer(1, 2, 3)),
        ("v2.0.0", SemVer(2, 0, 0)),
        ("1.0.0-rc.1", SemVer(1, 0, 0, ("rc", "1"))),
        ("1.0.0+build.5", SemVer(1, 0, 0, (), "build.5")),
    ],
)
def test_parses(text: str, expected: SemVer) -> None:
    assert parse_semver(text) == expected


@pytest.mark.parametrize("text", ["1.2", "1.2.3.4", "01.2.3", "latest", "1.2.x", "", "1.0.0-", "~> 1.2"])
def test_rejects_with_one_line(text: str) -> None:
    with pytest.raises(InputError, match="not a semantic version") as caught:
        parse_semver(text)
    assert "\n" not in str(caught.value)


def test_precedence() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    parsed = [parse_semver(v) for v in ordered]
    shuffled = [parsed[i] for i in (4, 8, 0, 6, 2, 7, 1, 5, 3)]
    assert sorted(shuffled) == parsed
    assert [str(v) for v in parsed] == ordered
    assert parse_semver("1.0.0+a") == parse_semver("1.0.0+a")
    assert parse_semver("1.0.0-rc.1").is_prerelease and not parse_semver("1.0.0").is_prerelease
    assert SemVer(1, 0, 0).__lt__("1.0.0") is NotImplemented
