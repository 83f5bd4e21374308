"""The keyword prefilter: one Aho-Corasick pass finds which rules a text can match.

Every rule names keywords (``ghp_``, ``akia``, ``-----begin rsa private key``). The
automaton holds all of them, lower-cased, and one pass over the lower-cased text
yields each occurrence with the rules it belongs to. A line without any keyword
never reaches a regex; on ordinary source most lines have none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import ahocorasick

__all__ = ["Prefilter", "ascii_lower"]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """Lower-case ``text`` keeping every offset: offsets in the result are offsets in ``text``.

    ``str.lower`` is fast but may lengthen a few non-ASCII characters (``İ``); when it
    does, fall back to lower-casing ASCII letters only.
    """
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


class Prefilter:
    """An automaton over keywords, each mapped to the indices of the rules that use it."""

    def __init__(self, keywords: Mapping[str, Sequence[int]]) -> None:
        """Build the automaton; ``keywords`` maps a keyword to rule indices."""
        self._automaton: Any = ahocorasick.Automaton()
        for keyword, indices in keywords.items():
            word = keyword.lower()
            self._automaton.add_word(word, (len(word), tuple(indices)))
        self._empty = not keywords
        if not self._empty:
            self._automaton.make_automaton()

    def raw(self, lowered: str) -> Iterator[tuple[int, tuple[int, tuple[int, ...]]]]:
        """The automaton's own iterator, ``(end offset, (keyword length, rule indices))``:
        the hot loop reads it directly, a generator layer per occurrence costs ~40 %."""
        if self._empty:
            return iter(())
        it: Iterator[tuple[int, tuple[int, tuple[int, ...]]]] = self._automaton.iter(lowered)
        return it

    def occurrences(self, lowered: str) -> Iterator[tuple[int, tuple[int, ...]]]:
        """Yield ``(start offset, rule indices)`` for each keyword in ``lowered``, by end offset."""
        if self._empty:
            return
        for end, (length, indices) in self._automaton.iter(lowered):
            yield end - length + 1, indices
