"""Log-parsing accuracy as Loghub-2.0 measures it: GA, FGA and PA (Jiang et al., ISSTA 2024).

- GA: share of lines whose predicted group is exactly the set of lines of their true group.
- FGA: F1 of groups; a predicted group is correct when its lines are exactly one true group.
- PA: share of lines whose template text equals the true template, compared after
  :func:`canonical` on both sides (Loghub-2.0's template-correction rules: numbers, booleans,
  paths and word-glued variables become ``<*>``; ``<*>`` joined by ``. : / @ #`` or nothing
  collapse to one), or after :func:`exact` (whitespace only).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence

__all__ = ["canonical", "exact", "grouping_scores", "parsing_accuracy"]


def _groups(labels: Sequence[object]) -> dict[object, frozenset[int]]:
    out: dict[object, set[int]] = defaultdict(set)
    for i, label in enumerate(labels):
        out[label].add(i)
    return {k: frozenset(v) for k, v in out.items()}


def grouping_scores(pred: Sequence[object], truth: Sequence[object]) -> tuple[float, float]:
    """(GA, FGA) of predicted group labels against true ones."""
    pg, tg = _groups(pred), _groups(truth)
    true_sets = set(tg.values())
    correct = [g for g in pg.values() if g in true_sets]
    ga = sum(len(g) for g in correct) / len(pred)
    precision, recall = len(correct) / len(pg), len(correct) / len(tg)
    fga = 2 * precision * recall / (precision + recall) if correct else 0.0
    return ga, fga


_SPACE = re.compile(r"\s+")
_DELIMS = re.compile(r"([\s,!;:=|\"'\[\](){}.\-+@#$%&])")
_GLUED = re.compile(r"^[^\s/]*<\*>[^\s/]*$")
_PATH = re.compile(r"^(/[^/\s]+)+/?$")
_PATH_SPLIT = re.compile(r"([\s,!;:=|\"'\[\](){}])")
_JOINED = re.compile(r"<\*>(?:[.:/@#]?<\*>)+")


def canonical(template: str) -> str:
    """A template in Loghub-2.0's corrected form (applied to prediction and truth alike)."""
    template = _SPACE.sub(" ", template.strip())
    template = "".join("<*>" if _PATH.match(p) else p for p in _PATH_SPLIT.split(template))
    tokens = _DELIMS.split(template)
    out = []
    for token in tokens:
        if token.isdigit() or token.lower() in ("true", "false", "null") or _GLUED.match(token):
            token = "<*>"  # bastion: ignore[sast.bandit.B105] a template wildcard, not a password
        out.append(token)
    return _JOINED.sub("<*>", "".join(out))


def parsing_accuracy(pred: Sequence[str], truth: Sequence[str], norm: Callable[[str], str]) -> float:
    """Share of lines whose template equals the true one after ``norm``."""
    cache: dict[str, str] = {}

    def n(t: str) -> str:
        if t not in cache:
            cache[t] = norm(t)
        return cache[t]

    return sum(1 for p, t in zip(pred, truth, strict=True) if n(p) == n(t)) / len(pred)


def exact(template: str) -> str:
    """Whitespace collapsed only."""
    return _SPACE.sub(" ", template.strip())
