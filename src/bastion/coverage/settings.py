"""The ``[coverage]`` table of bastion.toml (or ``[tool.bastion.coverage]``): the gate's
thresholds and base ref, so CI and a laptop run the same gate without repeating flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bastion.errors import ConfigError
from bastion.validation import validate_options

__all__ = ["CoverageSettings", "load_settings"]


class CoverageSettings(BaseModel):
    """Defaults for ``bastion coverage``; each key is the twin of a flag."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float | None = Field(default=None, ge=0, le=100)
    """``--min``: overall line coverage in percent."""
    min_file: float | None = Field(default=None, ge=0, le=100)
    """``--min-file``: each file's line coverage in percent."""
    min_new: float | None = Field(default=None, ge=0, le=100)
    """``--min-new``: coverage of the lines changed since ``base``."""
    base: str | None = None
    """``--base``: the ref new code is measured against (``origin/main``)."""


def load_settings(config_file: Path | None) -> CoverageSettings:
    """The ``[coverage]`` table of ``config_file`` (defaults when None or absent);
    :class:`ConfigError` naming the file and key when it is invalid."""
    if config_file is None:
        return CoverageSettings()
    from bastion.config import read_config_table  # config imports the scan engine; only when needed

    table: Any = read_config_table(config_file).get("coverage", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{config_file}: [coverage] must be a table")
    try:
        return validate_options(CoverageSettings, "coverage", table)
    except ConfigError as exc:
        raise ConfigError(f"{config_file}: {exc}") from None
