"""Inline suppression comments: ``bastion: ignore[rule] reason`` and the peers' own skip comments.

Ground floor: the gate applies them to every finding, and a scanner that must know about them
early (IaC policies reading ``checkov:skip``) reads them here without importing the gate.

Peers' comments are honoured on findings whose policy lists the peer's id among its
``metadata["equivalent_ids"]``, so a team can switch tools without touching its code:
checkov's ``#checkov:skip=CKV_AWS_20:reason``, tfsec/trivy's ``#tfsec:ignore:<id>`` and KICS's
``# kics-scan`` commands (KICS's docs/running-kics.md, "Using commands on scanned files as
comments"), which cover IaC findings only, by each finding's own line:

* ``ignore``, ``disable=<query id>,...`` and ``enable=<query id>,...`` only among the comments at
  the start of a file (before its first line of code): the whole file, the listed queries, or
  every query but the listed ones;
* ``ignore-line``: the comment's line and the line beneath it (every line of a Dockerfile
  instruction continued with ``\\``);
* ``ignore-block``: the comment's line and the block beneath it: an HCL block to its closing
  brace, a Dockerfile ``FROM`` stage, a YAML key with everything indented under it, or, at the
  top level of YAML, the rest of the document.
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
# KICS's commands (``# kics-scan ignore-line``, ``# kics-scan disable=<id>,<id>``).
_KICS = re.compile(
    r"(?:#|//)\s*kics-scan\s+(?P<command>ignore-line|ignore-block|ignore|disable|enable)\b(?:\s*=\s*(?P<ids>[\w,\s-]*))?"
)
_KICS_SCANNER = "iac"
_EVERY_LINE = 1 << 31
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
    span: tuple[int, int] | None = None
    """KICS commands only: the first and last line a finding's own line must fall on to be covered
    (None for every other comment, which covers the findings around its own line)."""
    invert: bool = False
    """KICS ``enable=``: covers the findings that match none of ``rules``."""

    def covers(self, finding: Finding) -> bool:
        """Whether this comment silences ``finding``."""
        loc = finding.location
        if self.span is not None:
            return self._covers_by_line(finding)
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

    def _covers_by_line(self, finding: Finding) -> bool:
        """A KICS command: an IaC finding whose own line is in ``span`` and whose ids match."""
        line = _own_line(finding)
        if finding.scanner != _KICS_SCANNER or line is None or self.span is None:
            return False
        if not self.span[0] <= line <= self.span[1]:
            return False
        equivalent = finding.metadata.get("equivalent_ids")
        ids = (
            [finding.rule_id, *(str(i).lower() for i in equivalent)]
            if isinstance(equivalent, list)
            else [finding.rule_id]
        )
        matched = any(fnmatch.fnmatchcase(rule, pattern) for pattern in self.rules for rule in ids)
        return matched != self.invert


def _own_line(finding: Finding) -> int | None:
    """The line a finding is about: an IaC finding's offending attribute (``metadata["line"]``) unless
    it was moved to a module call, else where its location starts."""
    line = finding.metadata.get("line")
    if isinstance(line, int) and "defined_at" not in finding.metadata:
        return line
    return finding.location.start_line


def find_suppressions(text: str) -> list[Suppression]:
    """Every suppression comment in ``text``."""
    found: list[Suppression] = []
    lines = text.splitlines()
    if "kics-scan" in text:
        found.extend(_kics_commands(lines))
    for number, line in enumerate(lines, 1):
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


def _kics_commands(lines: list[str]) -> list[Suppression]:
    """Every ``# kics-scan`` command of a file, each with the lines it covers."""
    found: list[Suppression] = []
    in_header = True
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        match = _KICS.search(line) if "kics-scan" in line else None
        if match is None:
            if stripped and stripped != "---" and not stripped.startswith(("#", "//")):
                in_header = False
            continue
        command = match["command"]
        ids = tuple(i.strip().lower() for i in (match["ids"] or "").split(",") if i.strip())
        reason = f"kics-scan {command}" + (f"={','.join(ids)}" if ids else "")
        standalone = not line[: match.start()].strip()
        if command in ("ignore", "disable", "enable"):
            if not in_header or (command != "ignore" and not ids):
                continue  # KICS reads these only at the start of a file
            rules = ids if command != "ignore" else ("*",)
            span = (1, _EVERY_LINE)
            found.append(Suppression(rules, reason, number, standalone, span, invert=command == "enable"))
        elif command == "ignore-line":
            end = _instruction_end(lines, number + 1) if standalone else number
            found.append(Suppression(("*",), reason, number, standalone, (number, end)))
        else:
            found.append(Suppression(("*",), reason, number, standalone, (number, _block_end(lines, number))))
        if not standalone:
            in_header = False
    return found


def _instruction_end(lines: list[str], start: int) -> int:
    """The last line of the instruction starting on line ``start`` (1-based): a Dockerfile
    instruction continued with a trailing backslash runs on; anything else is one line."""
    end = start
    while end <= len(lines) and lines[end - 1].rstrip().endswith("\\"):
        end += 1
    return min(end, max(len(lines), start))


def _block_end(lines: list[str], comment: int) -> int:
    """The last line of the block beneath the comment on line ``comment`` (1-based)."""
    start = next(
        (
            n
            for n in range(comment + 1, len(lines) + 1)
            if lines[n - 1].strip() and not lines[n - 1].lstrip().startswith(("#", "//"))
        ),
        None,
    )
    if start is None:
        return comment
    first = lines[start - 1]
    if re.match(r"\s*FROM\s", first, re.IGNORECASE):
        return _stage_end(lines, start)
    if "{" in first and not first.rstrip().endswith(":"):
        return _brace_end(lines, start)
    return _yaml_end(lines, start)


def _stage_end(lines: list[str], start: int) -> int:
    """A Dockerfile stage: up to the last non-blank line before the next ``FROM``."""
    end = start
    for n in range(start + 1, len(lines) + 1):
        text = lines[n - 1].strip()
        if re.match(r"FROM\s", text, re.IGNORECASE):
            break
        if text and not text.startswith("#"):
            end = n
    return end


def _brace_end(lines: list[str], start: int) -> int:
    """An HCL block: the line of the brace closing the first one opened on line ``start``."""
    depth = 0
    for n in range(start, len(lines) + 1):
        for char in re.sub(r'"(?:[^"\\]|\\.)*"', '""', lines[n - 1].split("#", 1)[0]):
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return n
    return len(lines)


def _yaml_end(lines: list[str], start: int) -> int:
    """A YAML node: the lines indented under the one on line ``start``; at the top level, the rest
    of the document (up to the next ``---``)."""
    indent = len(lines[start - 1]) - len(lines[start - 1].lstrip(" "))
    top = indent == 0 and not lines[start - 1].startswith("- ")
    end = start
    for n in range(start + 1, len(lines) + 1):
        text = lines[n - 1]
        if text.strip() == "---":
            break
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if not top and len(text) - len(text.lstrip(" ")) <= indent:
            break
        end = n
    return end
