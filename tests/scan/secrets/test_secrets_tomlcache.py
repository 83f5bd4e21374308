"""The built-in rule files' TOML is parsed once per version and read back from the user cache."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bastion.scan.secrets import tomlcache
from bastion.scan.secrets.rules import BUILTIN_RULES, load_rule_file


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setattr(tomlcache, "cache_dir", lambda: directory)
    return directory


def test_a_shipped_rule_file_is_parsed_once_then_read_from_the_cache(cache: Path) -> None:
    path = sorted(BUILTIN_RULES.glob("*.toml"))[0]
    text = path.read_text(encoding="utf-8")
    first = tomlcache.loads_cached(text)
    assert first == tomllib.loads(text)
    (written,) = cache.glob("secrets-rules-*.json")
    written.write_text('{"rules": []}')  # what the cache holds is what is returned
    assert tomlcache.loads_cached(text) == {"rules": []}
    written.write_text("{not json")  # a damaged entry is parsed again and replaced
    assert tomlcache.loads_cached(text) == first
    assert [r.id for r in load_rule_file(path, trusted=True)] == [r.id for r in load_rule_file(path)]


def test_what_json_cannot_hold_is_not_cached_and_bad_toml_still_fails(cache: Path) -> None:
    assert tomlcache.loads_cached("when = 1979-05-27\n")["when"].year == 1979
    assert not list(cache.glob("*.json"))
    with pytest.raises(tomllib.TOMLDecodeError):
        tomlcache.loads_cached("[rules\n")


def test_without_a_cache_directory_the_toml_is_parsed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tomlcache, "cache_dir", lambda: None)
    assert tomlcache.loads_cached('a = "b"\n') == {"a": "b"}
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setattr(tomlcache, "cache_dir", lambda: blocked / "sub")  # cannot be created: no cache
    assert tomlcache.loads_cached('a = "c"\n') == {"a": "c"}


def test_the_cache_directory_is_bastions_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def here(_name: str, appauthor: bool) -> str:
        assert appauthor is False
        return str(tmp_path / "c")

    def no_home(_name: str, appauthor: bool) -> str:
        raise OSError(f"no home directory (appauthor={appauthor})")

    monkeypatch.setattr(tomlcache.platformdirs, "user_cache_dir", here)
    assert tomlcache.cache_dir() == tmp_path / "c"

    monkeypatch.setattr(tomlcache.platformdirs, "user_cache_dir", no_home)
    assert tomlcache.cache_dir() is None
