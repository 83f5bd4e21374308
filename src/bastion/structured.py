"""Reading a structured data file (JSON, TOML, a YAML mapping) or failing with one line.

Every file Bastion is handed (a baseline, a config, a scan report, an SBOM, a rules file)
is read the same way: a missing file, an unreadable one and a malformed one each give one
:class:`~bastion.errors.InputError` line (or the subclass the caller names, such as
:class:`~bastion.errors.ConfigError`) that names the file and says what is wrong, never a
traceback. ``what`` is how the message names the file ("baseline", "config file").

Messages::

    PATH: WHAT not found
    PATH: cannot read WHAT: REASON
    PATH: WHAT is not valid JSON (MESSAGE at line N)
    PATH: invalid TOML: MESSAGE (at line N, column M)
    PATH: WHAT is not valid YAML (MESSAGE at line N)
    PATH: WHAT is not a YAML mapping
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml

from bastion.errors import InputError

__all__ = ["read_json", "read_text", "read_toml", "read_yaml_mapping"]


def read_text(path: Path, *, what: str = "file", error: type[InputError] = InputError) -> str:
    """The UTF-8 text of ``path``; ``error`` (one line naming the file) when it is missing
    or cannot be read or decoded."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from None


def read_json(path: Path, *, what: str = "file", error: type[InputError] = InputError) -> Any:
    """The parsed JSON document of ``path``; ``error`` when it cannot be read or is not JSON."""
    text = read_text(path, what=what, error=error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: {what} is not valid JSON ({exc.msg} at line {exc.lineno})") from None


def read_toml(path: Path, *, what: str = "file", error: type[InputError] = InputError) -> dict[str, Any]:
    """The parsed TOML document of ``path``; ``error`` when it cannot be read or is not TOML."""
    text = read_text(path, what=what, error=error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: invalid TOML: {exc}") from None


def read_yaml_mapping(
    path: Path, *, what: str = "file", error: type[InputError] = InputError
) -> dict[str, Any]:
    """The parsed YAML mapping of ``path`` (safe loader; an empty file is an empty mapping);
    ``error`` when it cannot be read, is not YAML, or holds something other than a mapping."""
    text = read_text(path, what=what, error=error)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise error(f"{path}: {what} is not valid YAML ({problem}{where})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path}: {what} is not a YAML mapping")
    return data
