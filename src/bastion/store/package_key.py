"""The package a finding is about, as stored columns: what grouping by package reads.

Every dependency finding, Bastion's own and imported ones alike, names its package in its
metadata (``ecosystem``, ``package``, ``installed_version``, ``advisory``). Grouping by package
read those out of each finding's JSON at query time, which grows with the whole project; the
store keeps them in columns of their own instead, filled when a finding is written (ingest) and
by migration 0012 for findings stored before. Only text values count: a metadata value of any
other type names no package (or no version). Values are cut to the column's length, so an upload
cannot make an index entry too large; the cut value is the group key on every back end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ADVISORY_LEN", "ECOSYSTEM_LEN", "PACKAGE_LEN", "VERSION_LEN", "package_columns"]

ECOSYSTEM_LEN = 40
PACKAGE_LEN = 250
VERSION_LEN = 100
ADVISORY_LEN = 100


def _text(meta: Mapping[str, Any], key: str, length: int) -> str | None:
    value = meta.get(key)
    return value[:length] if isinstance(value, str) and value else None


def package_columns(extra: Any) -> dict[str, str | None]:
    """The ``pkg_*`` columns of a finding whose (scrubbed) metadata is ``extra``.

    ``pkg_name`` is None for a finding about no package (code, secrets, IaC), and then so is
    every other column (empty); ecosystem and version are ``""`` when not given, so they compare
    equal in a group key."""
    meta: Mapping[str, Any] = extra if isinstance(extra, Mapping) else {}
    if _text(meta, "package", PACKAGE_LEN) is None:
        return {"pkg_ecosystem": "", "pkg_name": None, "pkg_version": "", "pkg_advisory": None}
    return {
        "pkg_ecosystem": _text(meta, "ecosystem", ECOSYSTEM_LEN) or "",
        "pkg_name": _text(meta, "package", PACKAGE_LEN),
        "pkg_version": _text(meta, "installed_version", VERSION_LEN) or "",
        "pkg_advisory": _text(meta, "advisory", ADVISORY_LEN),
    }
