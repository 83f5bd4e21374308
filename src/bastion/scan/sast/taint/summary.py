"""What a call to an analysed function does to taint: its summary."""

from __future__ import annotations

from dataclasses import dataclass, field

from bastion.scan.sast.taint.spec import SinkRule
from bastion.scan.sast.taint.values import CLEAN, Flow, Step, Taint, join

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
    items: tuple[Taint, ...] | None = None
    """Element by element, when every ``return`` is a tuple literal of one length
    (``return name, "ls"``): callers unpacking it give each name its own taint."""
    mixed: bool = False
    """Some ``return`` (or ``yield``) is not such a tuple: :attr:`items` does not apply."""
    keys: dict[str | int, Taint] | None = None
    """Key by key, when every ``return`` is a dict whose keys are all known (a literal, or a
    variable bound to one and written only under literal keys): ``f(x)["page"]`` reads its own."""
    keys_mixed: bool = False
    """Some ``return`` (or ``yield``) is not such a dict: :attr:`keys` does not apply."""

    def note_return(self, items: tuple[Taint, ...] | None) -> None:
        """Record one ``return``'s elements (None: not a tuple literal)."""
        if items is None or (self.items is not None and len(self.items) != len(items)):
            self.mixed, self.items = True, None
        elif not self.mixed:
            self.items = items if self.items is None else tuple(map(join, self.items, items))

    def note_keys(self, keys: dict[str | int, Taint] | None) -> None:
        """Record one ``return``'s keys (None: not a dict whose keys are all known); a key one
        ``return`` lacks is clean there (reading it fails)."""
        if keys is None:
            self.keys_mixed, self.keys = True, None
        elif not self.keys_mixed:
            old = self.keys or {}
            self.keys = {k: join(old.get(k, CLEAN), keys.get(k, CLEAN)) for k in dict.fromkeys([*old, *keys])}
