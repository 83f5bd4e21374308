"""What a call to an analysed function does to taint: its summary."""

from __future__ import annotations

from dataclasses import dataclass, field

from bastion.scan.sast.taint.spec import SinkRule
from bastion.scan.sast.taint.values import CLEAN, Flow, Step, Taint

__all__ = ["ParamSink", "Summary", "TaintHit"]


@dataclass(frozen=True)
class ParamSink:
    """A parameter that reaches a sink inside the function (or deeper)."""

    flow: Flow
    """The route from the parameter (its origin) to the sink."""
    rule: SinkRule
    sink: Step
    call: str = ""
    """The sink as written."""


@dataclass(frozen=True)
class TaintHit:
    """Untrusted data from a real source reaching a sink: one finding."""

    rule: SinkRule
    flow: Flow
    sink: Step
    call: str
    """The sink as written (``os.system``)."""


@dataclass
class Summary:
    """The effect of a function on its callers."""

    returns: Taint = CLEAN
    """Flows of the return value: from parameters (placeholder origins) or from real sources."""
    sinks: list[ParamSink] = field(default_factory=list)
    self_attrs: dict[str, Taint] = field(default_factory=dict)
    """``self.attr`` writes (constructors): flows from parameters or sources."""
