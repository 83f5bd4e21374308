"""The data behind ``sast`` findings: bandit's CWE/title/fix table and CWE parsing.

``bandit_cwe.toml`` (shipped next to this module) is the source of truth for the CWE
ids of ``sast.bandit.*`` findings; :func:`bandit_rules` loads it once per process.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

__all__ = ["BanditRule", "bandit_rules", "parse_cwe_ids"]

_DATA_FILE = "bandit_cwe.toml"
_CWE = re.compile(r"\bCWE-(\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class BanditRule:
    """What Bastion knows about one bandit test id."""

    test_id: str
    """``B602``."""
    cwe: tuple[int, ...]
    """CWE ids of the weakness, most specific first."""
    title: str
    """One-line title used for the finding."""
    fix: str
    """Remediation advice."""
    redact: bool = False
    """True when the flagged line can hold a secret (hard-coded passwords)."""


@functools.cache
def bandit_rules() -> Mapping[str, BanditRule]:
    """The bandit table keyed by test id; raises ``ValueError`` if the shipped file is malformed."""
    text = resources.files(__package__).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    tests = data.get("tests")
    if not isinstance(tests, dict):
        raise ValueError(f"{_DATA_FILE}: missing [tests] table")
    rules: dict[str, BanditRule] = {}
    for test_id, entry in tests.items():
        if not isinstance(entry, dict):
            raise ValueError(f"{_DATA_FILE}: tests.{test_id} must be a table")
        cwe = entry.get("cwe", [])
        if not isinstance(cwe, list) or not all(isinstance(c, int) for c in cwe):
            raise ValueError(f"{_DATA_FILE}: tests.{test_id}.cwe must be a list of integers")
        rules[test_id] = BanditRule(
            test_id=test_id,
            cwe=tuple(cwe),
            title=str(entry.get("title", test_id)),
            fix=str(entry.get("fix", "")),
            redact=bool(entry.get("redact", False)),
        )
    return rules


def parse_cwe_ids(values: object) -> tuple[int, ...]:
    """CWE ids from semgrep metadata: ``"CWE-89: ..."`` or a list of such strings.

    Anything that does not name a CWE is ignored; duplicates are dropped, order kept.
    """
    items: Iterable[object] = values if isinstance(values, list | tuple) else [values]
    ids: list[int] = []
    for item in items:
        if isinstance(item, str):
            for match in _CWE.finditer(item):
                number = int(match.group(1))
                if number not in ids:
                    ids.append(number)
    return tuple(ids)
