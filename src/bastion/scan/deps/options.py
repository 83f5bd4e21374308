"""``[scanners.deps]`` options, validated before any scanning starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from bastion.errors import ConfigError
from bastion.validation import first_error, is_unknown_key, reason_of

__all__ = ["DepsOptions", "parse_options"]

_SECTION = "scanners.deps"


class DepsOptions(BaseModel):
    """Options of the deps scanner."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database: StrictStr | None = None
    """Advisory database file (default: $BASTION_ADVISORY_DB, else the user cache dir)."""
    sbom: StrictStr | None = None
    """Scan this CycloneDX or SPDX JSON file instead of the manifests of the tree (``scan --sbom``)."""
    python_env: StrictStr | None = None
    """A Python interpreter whose installed distributions are checked too (``scan --env``)."""
    stale_days: int = Field(default=7, ge=1)
    """Warn when the database was last updated longer ago than this."""
    osv_url: StrictStr | None = None
    """Base URL of the OSV archives for ``bastion db update`` (``file://`` allowed)."""
    kev_url: StrictStr | None = None
    """URL of the CISA KEV catalog for ``bastion db update`` (``file://`` allowed)."""
    include_dev: bool = True
    """Check development/test dependencies too."""


def parse_options(options: Mapping[str, Any]) -> DepsOptions:
    """Validate ``[scanners.deps]``; :class:`ConfigError` with one line naming the key."""
    try:
        return DepsOptions.model_validate(dict(options))
    except ValidationError as exc:
        error = first_error(exc)
        loc = [str(part) for part in error["loc"]]
        key = f"{_SECTION}.{loc[0]}" if loc else _SECTION
        if is_unknown_key(error):
            raise ConfigError(
                f"{key}: unknown key (choose from {', '.join(DepsOptions.model_fields)})"
            ) from None
        raise ConfigError(f"{key}: {reason_of(error)} (got {error.get('input')!r})") from None
