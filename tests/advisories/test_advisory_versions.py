"""The OSV range algorithm on ranges shaped like the spec's examples (limit, SEMVER, unsorted events)."""

from __future__ import annotations

import pytest

from bastion.advisories.versions import (
    UnsupportedVersion,
    fixed_versions,
    is_affected,
    parse_version,
    sort_versions,
)


def _range(kind: str, *events: tuple[str, str]) -> dict[str, object]:
    return {"type": kind, "events": [{k: v} for k, v in events]}


def test_limit_caps_a_range() -> None:
    ranges = [_range("ECOSYSTEM", ("introduced", "0"), ("limit", "2.0.0"))]
    assert is_affected("npm", "1.9.9", ranges, [])
    assert not is_affected("npm", "2.0.0", ranges, [])
    assert not is_affected("npm", "3.1.0", ranges, [])


def test_limit_star_is_unbounded() -> None:
    ranges = [_range("ECOSYSTEM", ("introduced", "1.0.0"), ("limit", "*"))]
    assert is_affected("npm", "99.0.0", ranges, [])


def test_semver_range_in_any_ecosystem_uses_semver() -> None:
    ranges = [_range("SEMVER", ("introduced", "1.0.0"), ("fixed", "1.2.0"))]
    assert is_affected("Go", "v1.1.9", ranges, [])
    assert not is_affected("Go", "v1.2.0", ranges, [])


def test_events_need_not_be_sorted() -> None:
    ranges = [
        _range("ECOSYSTEM", ("fixed", "2.0"), ("introduced", "3.0"), ("introduced", "1.0"), ("fixed", "3.5"))
    ]
    assert is_affected("PyPI", "1.5", ranges, [])
    assert not is_affected("PyPI", "2.5", ranges, [])
    assert is_affected("PyPI", "3.1", ranges, [])
    assert not is_affected("PyPI", "4.0", ranges, [])


def test_git_ranges_are_not_evaluated_and_lists_still_count() -> None:
    git = [
        {"type": "GIT", "repo": "https://example.org/r", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}
    ]
    assert not is_affected("PyPI", "1.0", git, [])
    assert is_affected("PyPI", "1.0.0", git, ["1.0"])  # PEP 440: 1.0 == 1.0.0


def test_unplaceable_event_never_guesses_affected() -> None:
    ranges = [_range("ECOSYSTEM", ("introduced", "not a version!"))]
    assert not is_affected("PyPI", "1.0", ranges, [])


def test_unparsable_installed_version_raises() -> None:
    with pytest.raises(UnsupportedVersion, match="not a valid PyPI version"):
        is_affected("PyPI", "banana split", [_range("ECOSYSTEM", ("introduced", "0"))], [])


def test_unknown_ecosystem_raises() -> None:
    with pytest.raises(UnsupportedVersion, match="no version order"):
        parse_version("Hackage", "1.0")


def test_fixed_versions_and_sorting() -> None:
    ranges = [
        _range("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.10.1")),
        _range("ECOSYSTEM", ("introduced", "2.11"), ("fixed", "2.9.9")),
        {"type": "GIT", "events": [{"fixed": "deadbeef"}]},
    ]
    assert fixed_versions(ranges) == ["2.10.1", "2.9.9"]
    assert sort_versions("PyPI", ["2.10.1", "2.9.9", "junk!"]) == ["2.9.9", "2.10.1", "junk!"]


@pytest.mark.parametrize(
    ("ecosystem", "low", "high"),
    [
        ("Maven", "1.0-SNAPSHOT", "1.0"),
        ("Maven", "2.5.10", "2.5.10.1"),
        ("RubyGems", "5.2.2.rc1", "5.2.2"),
        ("NuGet", "13.0.1-beta1", "13.0.1"),
        ("Packagist", "5.4.9", "5.4.10"),
        ("crates.io", "1.0.0-alpha", "1.0.0"),
        ("PyPI", "1.0.dev1", "1.0a1"),
        ("PyPI", "2.0", "1!0.1"),
    ],
)
def test_ecosystem_orders(ecosystem: str, low: str, high: str) -> None:
    assert parse_version(ecosystem, low) < parse_version(ecosystem, high)
