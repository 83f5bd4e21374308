"""Taint values: where untrusted data came from, the steps it took, what cleared it.

A :data:`Taint` is a small tuple of :class:`Flow`; the empty tuple means clean. A flow's
origin is either a real source (``request.args``) or a parameter of the function being
summarised, so one analysis serves both direct findings and function summaries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

__all__ = [
    "ALL_CWES",
    "CLEAN",
    "WEAK_RANDOM",
    "WEAK_RANDOM_CWE",
    "Flow",
    "Origin",
    "Step",
    "Taint",
    "add_step",
    "clear",
    "join",
    "live_for",
]

MAX_FLOWS = 3
"""Flows kept per value: enough for a trace, bounded so joins stay cheap."""
MAX_STEPS = 24
"""Steps kept per flow; the oldest middle steps are dropped first."""
ALL_CWES = -1
"""Marker in :attr:`Flow.cleared`: sanitised for every weakness (an int cast)."""


@dataclass(frozen=True)
class Step:
    """One place the data passed through."""

    path: str
    """Relative path of the file."""
    line: int
    """1-based line."""
    note: str
    """What happened there, in words (``name = request.args.get(...)``)."""


@dataclass(frozen=True)
class Origin:
    """Where a flow starts: a source, or parameter ``param`` of a summarised function."""

    label: str
    """``flask.request.args``, ``input()``, or ``param:name``."""
    param: int = -1
    """Parameter index for a summary placeholder; -1 for a real source."""
    kind: str = "input"
    """``input`` (untrusted data) or ``weak-random`` (a predictable number, CWE-330 only)."""


@dataclass(frozen=True)
class Flow:
    """One route of untrusted data to the current value."""

    origin: Origin
    steps: tuple[Step, ...]
    cleared: frozenset[int] = frozenset()
    """CWE ids this flow was sanitised for (:data:`ALL_CWES` for all)."""


Taint = tuple[Flow, ...]
CLEAN: Taint = ()


WEAK_RANDOM = "weak-random"
WEAK_RANDOM_CWE = 330


def live_for(taint: Taint, cwe: int) -> Taint:
    """The flows of ``taint`` that are still dangerous for ``cwe``.

    Untrusted input matters to every weakness but CWE-330; a predictable random number only
    to CWE-330, and no cast or hash makes it less predictable.
    """
    out = []
    for f in taint:
        if f.origin.param >= 0:
            live = ALL_CWES not in f.cleared and cwe not in f.cleared
        elif f.origin.kind == WEAK_RANDOM:
            live = cwe == WEAK_RANDOM_CWE and cwe not in f.cleared
        else:
            live = cwe != WEAK_RANDOM_CWE and ALL_CWES not in f.cleared and cwe not in f.cleared
        if live:
            out.append(f)
    return tuple(out)


def join(*taints: Taint) -> Taint:
    """Union of several values, de-duplicated by origin and sanitisation, at most ``MAX_FLOWS``."""
    return join_all(taints)


def join_all(taints: Iterable[Taint]) -> Taint:
    """:func:`join` over an iterable."""
    present = [t for t in taints if t]
    if not present:
        return CLEAN
    if len(present) == 1:
        return present[0]
    out: list[Flow] = []
    seen: set[tuple[Origin, frozenset[int]]] = set()
    for taint in present:
        for flow in taint:
            key = (flow.origin, flow.cleared)
            if key in seen:
                continue
            seen.add(key)
            out.append(flow)
            if len(out) >= MAX_FLOWS:
                return tuple(out)
    return tuple(out)


def add_step(taint: Taint, step: Step) -> Taint:
    """Every flow of ``taint`` with ``step`` appended (not repeated, bounded)."""
    if not taint:
        return taint
    out = []
    for flow in taint:
        if flow.steps and flow.steps[-1] == step:
            out.append(flow)
            continue
        steps = (*flow.steps, step)
        if len(steps) > MAX_STEPS:
            steps = (steps[0], *steps[-(MAX_STEPS - 1) :])
        out.append(replace(flow, steps=steps))
    return tuple(out)


def clear(taint: Taint, cwes: Iterable[int]) -> Taint:
    """``taint`` marked as sanitised for ``cwes``."""
    extra = frozenset(cwes)
    return tuple(replace(f, cleared=f.cleared | extra) for f in taint)
