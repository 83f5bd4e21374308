"""Inline suppression comments: ``bastion: ignore[rule] reason`` and the peers' own skip comments.

Ground floor: the gate applies them to every finding, and a scanner that must know about them
early (IaC policies reading ``checkov:skip``) reads them here without importing the gate.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from bastion.findings import Finding

__all__ = ["Suppression", "find_suppressions"]

# A comment opener, then `bastion: ignore[ids] reason`, then an optional `-->` or `*/`.
_SUPPRESSION = re.compile(
    r"(?:^|\s|;)(?P<opener>#|//|--|<!--|/\*).*?\bbastion:\s*ignore\[(?P<rules>[^\]]*)\]"
    r"(?P<reason>.*?)\s*(?:-->|\*/)?\s*$"
)
# checkov's own skip comment (``#checkov:skip=CKV_AWS_20:reason``), honoured on findings whose
# policy lists that checkov id in ``metadata["equivalent_ids"]``, so a team can switch tools.
_PEER_SKIP = re.compile(r"(?:#|//)\s*checkov:skip=(?P<rules>[A-Za-z0-9_,]+)(?::(?P<reason>.*?))?\s*$")
# tfsec's and trivy's (``#tfsec:ignore:aws-ec2-no-public-ingress-sgr``, optional ``:exp:DATE``); they carry
# no reason, so the tool's name is recorded as one.
_PEER_IGNORE = re.compile(r"(?:#|//)\s*(?P<tool>tfsec|trivy):ignore:(?P<rules>[a-z0-9-]+)")
_REASON_LEAD = re.compile("^[\\s:\\-\u2013\u2014]+")  # spaces, colons, hyphens, en and em dashes


@dataclass(frozen=True)
class Suppression:
    """One inline ``bastion: ignore[...]`` comment."""

    rules: tuple[str, ...]
    """Rule ids or glob patterns (``sast.bandit.*``) it silences."""
    reason: str
    """Why; empty when the author gave none (reported as a low finding)."""
    line: int
    """Line the comment is on, 1-based."""
    standalone: bool
    """True when the comment is alone on its line, so it covers the next line too."""

    def covers(self, finding: Finding) -> bool:
        """Whether this comment silences ``finding``."""
        loc = finding.location
        if loc.start_line is None:
            return False
        end = loc.end_line or loc.start_line
        on_line = loc.start_line <= self.line <= end
        above = self.standalone and loc.start_line == self.line + 1
        equivalent = finding.metadata.get("equivalent_ids")
        ids = (
            [finding.rule_id, *(str(i) for i in equivalent)]
            if isinstance(equivalent, list)
            else [finding.rule_id]
        )
        return (on_line or above) and any(
            fnmatch.fnmatchcase(rule, pattern) for pattern in self.rules for rule in ids
        )


def find_suppressions(text: str) -> list[Suppression]:
    """Every suppression comment in ``text``."""
    found: list[Suppression] = []
    for number, line in enumerate(text.splitlines(), 1):
        if "checkov:skip=" in line and (peer := _PEER_SKIP.search(line)):
            peer_rules = tuple(r for r in peer["rules"].split(",") if r)
            peer_reason = (peer["reason"] or "").strip()
            found.append(Suppression(peer_rules, peer_reason, number, not line[: peer.start()].strip()))
            continue
        if ":ignore:" in line and (ignore := _PEER_IGNORE.search(line)):
            standalone = not line[: ignore.start()].strip()
            found.append(Suppression((ignore["rules"],), f"{ignore['tool']}:ignore", number, standalone))
            continue
        if "bastion:" not in line:
            continue
        match = _SUPPRESSION.search(line)
        if not match:
            continue
        rules = tuple(r.strip() for r in match["rules"].split(",") if r.strip())
        reason = _REASON_LEAD.sub("", match["reason"]).strip()
        standalone = not line[: match.start("opener")].strip(" \t;")
        found.append(Suppression(rules or ("*",), reason, number, standalone))
    return found
