"""Cheap measures of how random a string looks: Shannon entropy and character classes."""

from __future__ import annotations

import math
from collections import Counter

__all__ = ["char_classes", "shannon_entropy"]


def shannon_entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character (0.0 for an empty string).

    Random base62 text sits near 5.5-5.9, hex near 3.7-4.0, English words below 3.5.
    """
    if not value:
        return 0.0
    total = len(value)
    return -sum((n / total) * math.log2(n / total) for n in Counter(value).values())


def char_classes(value: str) -> int:
    """How many of lower case, upper case, digits and other characters ``value`` uses (0-4)."""
    lower = upper = digit = other = False
    for char in value:
        if char.islower():
            lower = True
        elif char.isupper():
            upper = True
        elif char.isdigit():
            digit = True
        else:
            other = True
    return lower + upper + digit + other
