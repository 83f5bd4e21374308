"""One mined log template: its tokens, counts, low-cardinality values and sampled raw text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bastion.detect.logs.masking import WILDCARD, tokenize
from bastion.detect.logs.render import render as _render
from bastion.detect.logs.render import word_like as _word_like

__all__ = ["RAW_SAMPLE", "Template"]

RAW_SAMPLE = 32
"""Lines of each template whose raw tokens are observed (bounded work per template)."""


@dataclass
class Template:
    """One mined template: its tokens (wildcards where values vary) and how many lines matched."""

    id: int
    tokens: list[str]
    count: int = 0
    examples: list[str] = field(default_factory=list)
    slots: dict[int, list[str]] = field(default_factory=dict)
    """Wildcard positions that so far took only a few word values (the values seen)."""
    variable: set[int] = field(default_factory=set)
    """Wildcard positions that took a number or too many distinct words."""
    raw: list[str | None] = field(default_factory=list)
    """Per position, the raw token every observed line had there (None once two lines differ)."""
    seen: int = 0
    """How many lines :attr:`raw` observed (at most :data:`RAW_SAMPLE`)."""
    pending: list[str] = field(default_factory=list)
    """Sampled member lines not yet folded into :attr:`raw` (folding waits until text is needed:
    the hot path only keeps a reference to at most :data:`RAW_SAMPLE` lines per template)."""
    evidence: int = 4
    """Observed lines needed before a masked position whose raw token never changed reads as
    constant text (``ssh2``, ``jk2_init()``): the miner's ``evidence`` setting."""

    def see(self, line: str) -> None:
        """Sample a member line (the miner samples the first :data:`RAW_SAMPLE` lines only)."""
        self.pending.append(line)
        self.seen += 1

    def fold(self) -> list[str | None]:
        """Fold the sampled lines' raw tokens into :attr:`raw`; return it."""
        if self.pending:
            raw: list[str | None] | None = self.raw or None
            for line in self.pending:
                tokens = tokenize(line)
                if len(tokens) != len(self.tokens):
                    continue
                if raw is None:
                    raw = list(tokens)
                elif tokens != raw:
                    raw = [a if a == b else None for a, b in zip(raw, tokens, strict=True)]
            self.pending.clear()
            self.raw = raw or []
        return self.raw

    def forget(self, position: int) -> None:
        """A position became a wildcard by disagreement: it holds values, whatever was sampled."""
        if self.fold():
            self.raw[position] = None

    def constants_seen(self) -> dict[int, str]:
        """Wildcard positions that held one raw token on at least ``evidence`` observed lines.

        Only word-like tokens qualify (``ssh2``, ``jk2_init()``): a token with a run of four
        or more digits, a long hex run, or the shape of a host, path or URL is an identifier,
        a value even when one value filled the sample."""
        if self.seen < self.evidence or not self.fold():
            return {}
        return {
            i: value
            for i, (token, value) in enumerate(zip(self.tokens, self.raw, strict=True))
            if token == WILDCARD and value is not None and _word_like(value)
        }

    def observe(self, tokens: Sequence[str], max_values: int) -> None:
        """Record the values ``tokens`` has at this template's wildcard positions."""
        for i, (a, b) in enumerate(zip(self.tokens, tokens, strict=True)):
            if a != WILDCARD or i in self.variable:
                continue
            if b == WILDCARD:
                self.variable.add(i)
                self.slots.pop(i, None)
                continue
            values = self.slots.setdefault(i, [])
            if b not in values:
                values.append(b)
                if len(values) > max_values:
                    self.variable.add(i)
                    del self.slots[i]

    def refined(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """The values of ``tokens`` at the low-cardinality positions: they name a variant."""
        if not self.slots:
            return ()
        return tuple([tokens[i] for i in sorted(self.slots)])

    @property
    def text(self) -> str:
        """The template as one string, with the punctuation of its first example line."""
        return _render(self.tokens, self.examples[0] if self.examples else None, self.constants_seen())

    @property
    def constants(self) -> int:
        """Number of non-wildcard tokens."""
        return sum(1 for t in self.tokens if t != WILDCARD)
