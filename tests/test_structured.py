"""One read-or-fail helper for JSON, TOML and YAML mappings: every failure is one line naming the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bastion.errors import ConfigError, InputError
from bastion.structured import read_json, read_text, read_toml, read_yaml_mapping


def test_reads_each_format(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"a": [1, 2]}')
    (tmp_path / "a.toml").write_text("[scan]\njobs = 2\n")
    (tmp_path / "a.yml").write_text("a: 1\nb: [x]\n")
    (tmp_path / "empty.yml").write_text("")
    assert read_json(tmp_path / "a.json") == {"a": [1, 2]}
    assert read_toml(tmp_path / "a.toml") == {"scan": {"jobs": 2}}
    assert read_yaml_mapping(tmp_path / "a.yml") == {"a": 1, "b": ["x"]}
    assert read_yaml_mapping(tmp_path / "empty.yml") == {}
    assert read_text(tmp_path / "a.yml") == "a: 1\nb: [x]\n"


@pytest.mark.parametrize(
    ("name", "content", "reader", "expected"),
    [
        ("b.json", b"{", read_json, "b.json: baseline is not valid JSON (Expecting property name"),
        ("b.json", b'{"a": 1}\n\n]', read_json, "(Extra data at line 3)"),
        ("b.toml", b"[scan\n", read_toml, "b.toml: invalid TOML: "),
        ("b.yml", b"a: [1\n", read_yaml_mapping, "b.yml: baseline is not valid YAML ("),
        ("b.yml", b"- 1\n- 2\n", read_yaml_mapping, "b.yml: baseline is not a YAML mapping"),
        ("b.json", b"\xff\xfe{", read_json, "b.json: cannot read baseline: 'utf-8' codec"),
    ],
)
def test_bad_files_are_one_line(
    tmp_path: Path, name: str, content: bytes, reader: Callable[..., Any], expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        reader(path, what="baseline")
    message = str(info.value)
    assert "\n" not in message.strip()
    assert expected in message
    assert message.startswith(str(path))


def test_missing_file_and_error_class(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found$"):
        read_toml(tmp_path / "nope.toml", what="config file", error=ConfigError)
    with pytest.raises(InputError, match=r"nope\.json: file not found$"):
        read_json(tmp_path / "nope.json")
    with pytest.raises(InputError, match="cannot read file: "):
        read_text(tmp_path)  # a directory cannot be read as text
