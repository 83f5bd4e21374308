"""Shared wording for a vulnerable package, whichever tool found it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["package_fix", "package_message", "package_metadata"]


def package_message(name: str, version: str, advisory: str, aliases: Sequence[str], summary: str) -> str:
    """``urllib3 1.26.3 is affected by CVE-2021-33503 (also GHSA-...): summary``."""
    text = f"{name} {version}".strip() + f" is affected by {advisory}"
    others = [a for a in aliases if a != advisory]
    if others:
        text += f" (also {', '.join(others)})"
    return f"{text}: {summary}" if summary else text


def package_fix(name: str, fixed: Sequence[str]) -> str:
    """Remediation advice from the fixed versions the tool knows."""
    if not fixed:
        return f"No fixed version of {name} is known: remove it or mitigate the vulnerability."
    if len(fixed) == 1:
        return f"Upgrade {name} to {fixed[0]} or later."
    return f"Upgrade {name} to one of {', '.join(fixed)}."


def package_metadata(
    ecosystem: str,
    name: str,
    version: str,
    purl: str,
    advisory: str,
    aliases: Sequence[str],
    fixed: Sequence[str],
    **extra: Any,
) -> dict[str, Any]:
    """The metadata keys Bastion's own dependency findings carry, for the same facts."""
    return {
        "ecosystem": ecosystem,
        "package": name,
        "installed_version": version,
        "purl": purl,
        "advisory": advisory,
        "aliases": [a for a in dict.fromkeys(aliases) if a != advisory],
        "fixed_versions": list(fixed),
        **{k: v for k, v in extra.items() if v is not None},
    }
