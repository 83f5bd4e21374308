"""How bad a watch alert is: a severity graded from its score, and ATT&CK techniques from its events.

Severity grows with how far the score passed the model's threshold (``ratio``): below 1.5x
``low``, below 3x ``medium``, below 10x ``high``, else ``critical``. An event never seen in
training makes an alert at least ``medium``; a technique-bearing event (brute force, a new
service, a privilege change, a new account) raises it one grade. So not every alert is high, and
the ones a person should read first sort first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bastion.findings import Severity

__all__ = ["TECHNIQUES", "Technique", "grade", "techniques_in"]


@dataclass(frozen=True)
class Technique:
    """An ATT&CK technique recognised in event text."""

    id: str
    name: str
    pattern: re.Pattern[str]


TECHNIQUES = (
    Technique(
        "T1110",
        "Brute Force",
        re.compile(
            r"failed password|authentication failures?|invalid user|illegal user|too many authentication"
            r"|failed (?:login|logon)|login failed|an account failed to log on|bad password",
            re.I,
        ),
    ),
    Technique(
        "T1543",
        "Create or Modify System Process",
        re.compile(r"new service|service .{0,40}installed|a service was installed|systemctl enable", re.I),
    ),
    Technique(
        "T1548",
        "Abuse Elevation Control Mechanism",
        re.compile(r"\bsudo\b.*COMMAND=|\bsu(?:\[\d+\])?: |session opened for user root|privilege", re.I),
    ),
    Technique(
        "T1136",
        "Create Account",
        re.compile(r"\buseradd\b|new user|new group|a user account was created|added to group", re.I),
    ),
)
"""Event-text patterns of the techniques an abnormal log session most often shows."""

_ORDER = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


def techniques_in(texts: Iterable[str]) -> tuple[str, ...]:
    """ATT&CK ids whose pattern one of ``texts`` (event texts, reasons, lines) shows, in catalog order."""
    joined = "\n".join(texts)
    return tuple(t.id for t in TECHNIQUES if t.pattern.search(joined))


def grade(ratio: float, unseen: bool, techniques: tuple[str, ...]) -> Severity:
    """Severity of an alert whose score is ``ratio`` times the model's threshold."""
    if ratio >= 10:
        level = 3
    elif ratio >= 3:
        level = 2
    elif ratio >= 1.5:
        level = 1
    else:
        level = 0
    if unseen:
        level = max(level, 1)
    if techniques:
        level += 1
    return _ORDER[min(level, len(_ORDER) - 1)]
