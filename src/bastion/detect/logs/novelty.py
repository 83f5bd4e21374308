"""How unlike the training templates a never-seen template is.

A template the training half never showed is not news by itself on a log that is a sparse sample
of a long period: most unseen templates of such a log are near-variants of known ones (the same
words with one more option, another file name, a different counter word), written by the same
code path. What is news is a message whose words the system has not been seen to use together.
:class:`TemplateIndex` keeps the word sets of the training templates (masked tokens that hold a
letter, lowercased; values are already wildcards) and answers, for a new template, the highest
Jaccard similarity of its word set to any of them. A template without words (all values) says
nothing new and reads as similarity 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bastion.detect.logs.masking import WILDCARD

__all__ = ["MAX_TEMPLATES", "TemplateIndex", "words"]

MAX_TEMPLATES = 5_000
"""Distinct training word sets kept (the first ones; a stream with more is mostly values)."""
_STRIP = "()[]{}<>:.,;'\"!?=*#/\\-_"


def words(shape: Iterable[str]) -> frozenset[str]:
    """The words of a masked template: tokens with a letter, lowercased, outer punctuation cut."""
    out = set()
    for token in shape:
        if token == WILDCARD:
            continue
        core = token.strip(_STRIP).lower()
        if len(core) >= 2 and any(c.isalpha() for c in core):
            out.add(core)
    return frozenset(out)


@dataclass
class TemplateIndex:
    """The word sets of known templates, with an inverted index for nearest-set queries."""

    sets: list[frozenset[str]] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    _seen: set[frozenset[str]] = field(default_factory=set, repr=False)

    def add(self, shape: Sequence[str]) -> None:
        """Remember the word set of ``shape`` (once; at most :data:`MAX_TEMPLATES` sets)."""
        found = words(shape)
        if not found or found in self._seen or len(self.sets) >= MAX_TEMPLATES:
            return
        self._seen.add(found)
        index = len(self.sets)
        self.sets.append(found)
        for word in found:
            self.postings.setdefault(word, []).append(index)

    def similarity(self, shape: Sequence[str]) -> float:
        """Highest Jaccard similarity of ``shape``'s words to a known set (1.0: no words, or known)."""
        found = words(shape)
        if not found or found in self._seen:
            return 1.0
        shared: Counter[int] = Counter()
        for word in found:
            shared.update(self.postings.get(word, ()))
        size = len(found)
        return max((n / (size + len(self.sets[i]) - n) for i, n in shared.items()), default=0.0)

    def to_list(self) -> list[list[str]]:
        """JSON form: the word sets, each sorted."""
        return [sorted(s) for s in self.sets]

    @classmethod
    def from_list(cls, data: Iterable[Iterable[str]]) -> TemplateIndex:
        """Inverse of :meth:`to_list` (TypeError on a damaged form)."""
        index = cls()
        for item in data:
            if isinstance(item, str):
                raise TypeError("a template word set must be a list of words")
            index.add([str(w) for w in item])
        return index
