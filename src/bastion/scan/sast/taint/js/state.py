"""The per-function state of the JavaScript analysis: variables' taint, and what flowed out."""

from __future__ import annotations

from dataclasses import dataclass, field

from bastion.scan.sast.taint.summary import ParamSink
from bastion.scan.sast.taint.values import Taint, join

__all__ = ["Frame", "join_envs"]


@dataclass
class Frame:
    """One function being analysed: access path (``x``, ``x.f``) -> taint, flow-sensitively."""

    env: dict[str, Taint]
    request_vars: frozenset[str]
    """Variables holding the Express request."""
    alive: bool = True
    """False after ``return``/``throw``: the rest of the block is unreachable."""
    returns: list[Taint] = field(default_factory=list)
    param_sinks: list[ParamSink] = field(default_factory=list)

    def fork(self) -> Frame:
        """A copy for one branch (outputs shared, variables copied)."""
        return Frame(dict(self.env), self.request_vars, self.alive, self.returns, self.param_sinks)


def join_envs(frames: list[Frame]) -> tuple[dict[str, Taint], bool]:
    """Variables after branches meet: the live branches' union (all of them when none lives)."""
    live = [f for f in frames if f.alive] or []
    if not live:
        return {}, False
    keys: set[str] = set().union(*(f.env for f in live))
    env: dict[str, Taint] = {}
    for key in keys:
        values = [f.env[key] for f in live if key in f.env]
        if len(values) < len(live):
            # Unknown in some branch: fields fall back to their object, so keep it unknown there.
            root = key.split(".", 1)[0]
            values += [f.env.get(root, ()) for f in live if key not in f.env]
        env[key] = join(*values)
    return env, True
