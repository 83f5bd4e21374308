"""gitleaks' allow-lists, so a team moving from gitleaks keeps its triage: ``gitleaks:allow``
comments on a secret's line, and the global allow-lists of the ``.gitleaks.toml`` at the scan root
(``[allowlist]`` and ``[[allowlists]]``: ``paths``, ``regexes`` with their ``regexTarget``, and
``stopwords``). Allow-lists that target gitleaks' own rule ids (``targetRules``, ``[[rules]]``)
name rules Bastion does not have and are reported as not applied. What an allow-list hides is
counted in a notice, never dropped silently.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Allowlist", "load_allowlist"]

CONFIG = ".gitleaks.toml"
INLINE = "gitleaks:allow"


@dataclass
class Allowlist:
    """The global allow-lists of one ``.gitleaks.toml`` (empty when there is none)."""

    paths: list[re.Pattern[str]] = field(default_factory=list)
    regexes: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    """(pattern, target): target is ``secret`` (default), ``match`` or ``line``."""
    stopwords: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    """Parts of the file not applied, with why, for the notice."""
    counts: dict[str, int] = field(default_factory=dict)

    def reason(self, path: str, secret: str, match: str, line: str) -> str | None:
        """Why gitleaks' configuration allows this secret, or None."""
        if INLINE in line:
            return "gitleaks:allow comment"
        if any(p.search(path) for p in self.paths):
            return f"{CONFIG} paths"
        for pattern, target in self.regexes:
            subject = {"match": match, "line": line}.get(target, secret)
            if pattern.search(subject):
                return f"{CONFIG} regexes"
        lowered = secret.lower()
        if any(word in lowered for word in self.stopwords):
            return f"{CONFIG} stopwords"
        return None

    def allows(self, path: str, secret: str, match: str, line: str) -> bool:
        """Whether to leave the secret out, counting why."""
        why = self.reason(path, secret, match, line)
        if why is not None:
            self.counts[why] = self.counts.get(why, 0) + 1
        return why is not None

    def summary(self) -> str | None:
        """One line for the notice: what was left out and what was not applied."""
        parts = []
        if self.counts:
            shown = ", ".join(f"{n} by {why}" for why, n in sorted(self.counts.items()))
            parts.append(
                f"{sum(self.counts.values())} secrets not reported as gitleaks allows them ({shown})"
            )
        if self.ignored:
            parts.append(f"not applied from {CONFIG}: {'; '.join(self.ignored)}")
        return "; ".join(parts) or None


def _compile(values: Any, where: str, ignored: list[str]) -> list[re.Pattern[str]]:
    out: list[re.Pattern[str]] = []
    for value in values if isinstance(values, list) else []:
        try:
            out.append(re.compile(str(value)))
        except re.error as exc:
            ignored.append(f"{where} {str(value)[:40]!r} ({exc})")
    return out


def _add(allow: Allowlist, table: Any, where: str) -> None:
    if not isinstance(table, dict):
        return
    if table.get("targetRules"):
        allow.ignored.append(f"{where} (targets gitleaks rule ids)")
        return
    if table.get("commits"):
        allow.ignored.append(f"{where}.commits (history scans only)")
    allow.paths.extend(_compile(table.get("paths"), f"{where}.paths", allow.ignored))
    target = str(table.get("regexTarget", "secret"))
    allow.regexes.extend(
        (p, target) for p in _compile(table.get("regexes"), f"{where}.regexes", allow.ignored)
    )
    words = table.get("stopwords")
    if isinstance(words, list):
        allow.stopwords.extend(str(w).lower() for w in words if str(w))


def load_allowlist(root: Path) -> Allowlist:
    """The allow-lists of ``root/.gitleaks.toml``; a broken file is reported, not fatal."""
    allow = Allowlist()
    config = root / CONFIG
    if not config.is_file():
        return allow
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        allow.ignored.append(f"the file could not be read ({str(exc)[:80]})")
        return allow
    _add(allow, data.get("allowlist"), "[allowlist]")
    for index, table in enumerate(data.get("allowlists") or []):
        _add(allow, table, f"[[allowlists]][{index}]")
    if any(isinstance(r, dict) and r.get("allowlist") for r in data.get("rules") or []):
        allow.ignored.append("[[rules]] allow-lists (they target gitleaks rule ids)")
    return allow
