"""The detection core: prefilter, regexes, filters, validators, de-duplication, pairing.

:class:`Detector` turns one text into :class:`Hit` s. It is built once per rule set
(regexes compiled once per process) and holds no per-file state, so one instance
serves every file of a shard.

Bounded time on hostile input: the prefilter runs over the whole text in C; a regex
only ever runs on a line that holds one of its keywords, and on a very long line
(minified JavaScript, a one-line JSON dump) only on windows around the keyword
occurrences, so a 10 MB single-line file costs a few window scans, not a few hundred
full scans. Rule regexes use bounded quantifiers and no nested repetition.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bastion.findings import Confidence, Severity
from bastion.scan.secrets.entropy import shannon_entropy
from bastion.scan.secrets.filters import Screen, screen
from bastion.scan.secrets.generic import (
    GENERIC_KEYWORDS,
    GENERIC_RULES,
    accepts_bare_values,
    find_docker_env,
    find_generic,
    is_prose,
)
from bastion.scan.secrets.prefilter import Prefilter, ascii_lower
from bastion.scan.secrets.rules import MAX_WINDOW, Rule, RuleSet
from bastion.scan.secrets.validators import CHECKSUM_VALIDATORS, Verdict, validate

__all__ = ["Detector", "Hit"]

GENERIC = -1
"""Prefilter value standing for the generic detector."""
LONG_LINE = 4_096
"""Lines longer than this are scanned in windows around keyword occurrences."""
BEFORE = 256
"""Window start before a keyword: context rules put the keyword ahead of the secret."""
AFTER = 4_096
"""Window end after a keyword; long enough for a JWT or an escaped PEM key on one line."""
CONTEXT = 160
"""Characters either side of a secret that the filters look at."""


@dataclass(repr=False)
class Hit:
    """One secret found in a text. Holds the raw secret: it never leaves this package.

    ``repr`` is redacted so that a hit in a log line or a traceback shows no secret.
    """

    rule_id: str
    title: str
    severity: Severity
    confidence: Confidence
    start: int
    end: int
    line: int
    column: int
    end_line: int
    secret: str
    generic: bool
    metadata: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Hit({self.rule_id} at {self.line}:{self.column}, {len(self.secret)} chars)"


@dataclass
class _Line:
    start: int
    end: int
    number: int
    keywords: dict[int, list[int]] = field(default_factory=dict)


_SEVERITY_CAP = {Screen.DEV_DEFAULT: Severity.LOW, Screen.LOCAL: Severity.MEDIUM}


class Detector:
    """Finds secrets in texts with one rule set plus the generic detector."""

    def __init__(
        self, ruleset: RuleSet, *, generic: bool = True, disabled_generic: Iterable[str] = ()
    ) -> None:
        """Index the keywords of ``ruleset``; ``generic`` adds the assignment detector.

        ``disabled_generic`` names generic rule ids (``secrets.generic-password``) to leave out.
        """
        self.rules = ruleset.rules
        self._disabled_generic = frozenset(disabled_generic)
        keywords: dict[str, list[int]] = {}
        for index, rule in enumerate(self.rules):
            for keyword in rule.keywords:
                keywords.setdefault(keyword, []).append(index)
        if generic:
            for keyword in GENERIC_KEYWORDS:
                keywords.setdefault(keyword, []).append(GENERIC)
        self._prefilter = Prefilter(keywords)
        self._pairs = {rule.id: rule.pair for rule in self.rules if rule.pair is not None}

    def detect(self, text: str, path: str = "") -> list[Hit]:
        """Every secret in ``text``; ``path`` decides whether bare config values count."""
        hits: list[Hit] = []
        bare = accepts_bare_values(path)
        prose = not bare and is_prose(path)
        seen: set[tuple[int, int]] = set()
        for line in self._candidate_lines(text):
            for index, positions in line.keywords.items():
                for lo, hi in _segments(line, positions, len(text), multiline=self._multiline(index)):
                    if index == GENERIC:
                        starts = [p for p in positions if lo <= p < hi]
                        hits.extend(self._generic(text, line, (lo, hi), starts, (bare, prose)))
                    else:
                        hits.extend(self._rule(self.rules[index], index, text, line, lo, hi, seen))
        kept = _dedupe(hits)
        self._pair(kept)
        return kept

    def _multiline(self, index: int) -> bool:
        return index != GENERIC and self.rules[index].multiline

    def _candidate_lines(self, text: str) -> list[_Line]:
        """Lines holding at least one keyword, with keyword offsets grouped by rule."""
        lines: list[_Line] = []
        current: _Line | None = None
        number, counted = 1, 0
        for last, (length, indices) in self._prefilter.raw(ascii_lower(text)):
            start = last - length + 1
            if current is None or start > current.end:
                floor = current.end if current is not None else 0
                line_start = text.rfind("\n", floor, start) + 1 or floor
                end = text.find("\n", start)
                number += text.count("\n", counted, line_start)
                counted = line_start
                current = _Line(line_start, len(text) if end < 0 else end, number)
                lines.append(current)
            for index in indices:
                current.keywords.setdefault(index, []).append(start)
        return lines

    def _rule(
        self, rule: Rule, index: int, text: str, line: _Line, lo: int, hi: int, seen: set[tuple[int, int]]
    ) -> Iterable[Hit]:
        for match in rule.pattern.finditer(text, lo, hi):
            secret = match.group("secret")
            if not secret or (index, match.start("secret")) in seen:
                continue
            seen.add((index, match.start("secret")))
            start, end = match.span("secret")
            entropy = shannon_entropy(secret)
            if rule.entropy is not None and entropy < rule.entropy:
                continue
            context = text[max(line.start, start - CONTEXT) : end + CONTEXT]
            groups = match.groupdict()
            # A validator that passes (a checksum, a parsed key) outranks the placeholder
            # heuristics: ``XxXx`` or ``Dummy`` inside a checksum-valid token is chance.
            outcome = validate(rule.validator, secret) if rule.validator is not None else None
            proven = outcome is Verdict.VALID and rule.validator in CHECKSUM_VALIDATORS
            verdict = screen(secret, context, host=groups.get("host"), validated=proven)
            if verdict.drops:
                continue
            confidence = rule.confidence
            if rule.confident_entropy is not None and entropy >= rule.confident_entropy:
                confidence = max(confidence, Confidence.MEDIUM, key=lambda c: c.rank)
            metadata: dict[str, Any] = {"entropy": round(entropy, 2), "secret_length": len(secret)}
            if rule.validator is not None and outcome is not None:
                metadata["validator"] = rule.validator.value
                metadata["validation"] = outcome.value
                confidence = _confidence_after(outcome, confidence)
            severity = min(rule.severity, _SEVERITY_CAP.get(verdict, rule.severity))
            if verdict is not Screen.KEEP:
                metadata["screen"] = verdict.value
            first = line.number + (text.count("\n", line.start, start) if rule.multiline else 0)
            last = first + (secret.count("\n") if rule.multiline else 0)
            column = (
                start - (text.rfind("\n", 0, start) + 1) + 1 if rule.multiline else start - line.start + 1
            )
            yield Hit(
                rule.id, rule.description, severity, confidence, start, end, first, column, last, secret,
                generic=False, metadata=metadata,
            )  # fmt: skip

    def _generic(
        self, text: str, line: _Line, span: tuple[int, int], starts: list[int], mode: tuple[bool, bool]
    ) -> Iterable[Hit]:
        (lo, hi), (bare, prose) = span, mode
        found_all = list(find_generic(text, lo, hi, bare_values=bare, prose=prose, starts=starts))
        if bare and hi - lo <= LONG_LINE and text.startswith(("ENV", "ARG"), lo):
            docker = find_docker_env(text, lo, hi)
            found_all.extend([docker] if docker is not None else [])
        for found in found_all:
            if found.rule_id in self._disabled_generic:
                continue
            metadata: dict[str, Any] = {
                "entropy": round(found.entropy, 2),
                "secret_length": len(found.secret),
            }
            if found.screen is not Screen.KEEP:
                metadata["screen"] = found.screen.value
            yield Hit(
                found.rule_id, GENERIC_RULES[found.rule_id], found.severity, found.confidence,
                found.start, found.end, line.number, found.start - line.start + 1, line.number,
                found.secret, generic=True, metadata=metadata,
            )  # fmt: skip

    def _pair(self, hits: list[Hit]) -> None:
        """Raise hits whose rule pairs with a companion rule found within a few lines."""
        lines_by_rule: dict[str, list[int]] = {}
        for hit in hits:
            lines_by_rule.setdefault(hit.rule_id, []).append(hit.line)
        for hit in hits:
            pair = self._pairs.get(hit.rule_id)
            if pair is None:
                continue
            partners = lines_by_rule.get(pair.rule, [])
            at = bisect.bisect_left(partners, hit.line - pair.within_lines)
            if at < len(partners) and partners[at] <= hit.line + pair.within_lines:
                hit.severity = max(hit.severity, pair.severity)
                hit.confidence = max(hit.confidence, pair.confidence, key=lambda c: c.rank)
                hit.metadata["paired_with"] = pair.rule
                hit.metadata["paired_line"] = partners[at]


def _confidence_after(outcome: Verdict, declared: Confidence) -> Confidence:
    if outcome is Verdict.VALID:
        return Confidence.HIGH
    if outcome is Verdict.INVALID:
        return Confidence.LOW
    return declared


def _segments(line: _Line, positions: list[int], size: int, *, multiline: bool) -> list[tuple[int, int]]:
    """Where to run a rule on ``line``: the whole line, or merged windows around keywords."""
    if multiline:
        spans = [(max(line.start, p - BEFORE), min(size, p + MAX_WINDOW)) for p in positions]
    elif line.end - line.start <= LONG_LINE:
        return [(line.start, line.end)]
    else:
        spans = [(max(line.start, p - BEFORE), min(line.end, p + AFTER)) for p in positions]
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _priority(hit: Hit) -> tuple[int, int, int, int]:
    return (not hit.generic, hit.confidence.rank, hit.severity.rank, hit.end - hit.start)


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """Keep the best hit of each group of overlapping ones (provider rules beat generic)."""
    hits.sort(key=lambda h: (h.start, -h.end))
    kept: list[Hit] = []
    cluster: list[Hit] = []
    cluster_end = -1
    for hit in [*hits, None]:
        if hit is not None and hit.start < cluster_end:
            cluster.append(hit)
            cluster_end = max(cluster_end, hit.end)
            continue
        chosen: list[Hit] = []
        for candidate in sorted(cluster, key=_priority, reverse=True):
            if all(candidate.end <= c.start or candidate.start >= c.end for c in chosen):
                chosen.append(candidate)
        kept.extend(sorted(chosen, key=lambda h: h.start))
        if hit is not None:
            cluster, cluster_end = [hit], hit.end
    kept.sort(key=lambda h: (h.line, h.start))
    return kept
