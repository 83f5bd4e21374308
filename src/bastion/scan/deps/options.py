"""``[scanners.deps]`` options, validated before any scanning starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from bastion.advisories.severity import DEFAULT_UNRATED
from bastion.findings import Severity
from bastion.validation import validate_options

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
    unrated: Severity = DEFAULT_UNRATED
    """Severity of a vulnerability that no advisory rates and no known CWE names (default high, so
    the default gate fails on it); lower it only as a deliberate decision."""

    @field_validator("unrated", mode="before")
    @classmethod
    def _parse_unrated(cls, value: Any) -> Any:
        return Severity.parse(value) if isinstance(value, str) else value


def parse_options(options: Mapping[str, Any]) -> DepsOptions:
    """Validate ``[scanners.deps]``; :class:`ConfigError` with one line naming the key."""
    return validate_options(DepsOptions, _SECTION, options)
