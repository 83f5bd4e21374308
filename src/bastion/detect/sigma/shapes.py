"""Flattening planned once per object shape: a JSON object's Sigma fields as one dictionary build.

Logs of one kind repeat a few layouts (every Sysmon process creation has the same keys, nested the
same way). The *shape* of an object is its keys and the type of each value, all the way down; the
flattening rules (:meth:`bastion.detect.sigma.pipeline.Pipeline.fields_generic`) depend on nothing
else. So a :class:`ShapePlans` runs them once per shape on a stand-in object whose every scalar is
replaced by its position, and records where each output field comes from. Each later object of that
shape is read in one walk (its values in a fixed order) and its fields are built by picking values
at those positions: the same dictionary, without the per-key lowercasing, path joining and lookups.

Objects holding lists or values other than JSON scalars and objects, and shapes whose fields are
not single values (an alias naming a subtree), always take the generic path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_, itemgetter
from typing import Any

__all__ = ["MAX_PLANS", "ShapePlans", "shape_of"]

MAX_PLANS = 4096
"""Shapes remembered per pipeline; past that, new shapes take the generic path (memory stays bounded)."""

_SCALARS = frozenset({str, int, float, bool, type(None)})
_JSON = _SCALARS | {dict}

Shape = tuple[Any, ...]


def shape_of(obj: dict[str, Any], values: list[Any]) -> Shape | None:
    """The shape of ``obj`` (None when it holds a list or a non-JSON value); appends every value of
    every nested object to ``values``: an object's own values, then its children's, depth first."""
    vs = tuple(obj.values())
    types = tuple(map(type, vs))
    values.extend(vs)
    if _SCALARS.issuperset(types):
        return (tuple(obj), types)
    return _nested(obj, vs, types, values)


def _nested(
    obj: dict[str, Any], vs: tuple[Any, ...], types: tuple[type, ...], values: list[Any]
) -> Shape | None:
    """:func:`shape_of` of an object holding objects (its values already appended); only its
    objects are visited (picked out by type, not by a loop over every value), and a child holding
    only scalars is read here, without a call of its own."""
    if not _JSON.issuperset(types):
        return None
    kids: list[Shape] = []
    for v in compress(vs, map(is_, types, repeat(dict))):
        cvs = tuple(v.values())
        cts = tuple(map(type, cvs))
        values.extend(cvs)
        if _SCALARS.issuperset(cts):
            kids.append((tuple(v), cts))
            continue
        if len(cts) == 1 and cts[0] is dict:  # a wrapper such as {"#attributes": {...}}
            inner = cvs[0]
            gvs = tuple(inner.values())
            gts = tuple(map(type, gvs))
            values.extend(gvs)
            if _SCALARS.issuperset(gts):
                kids.append((tuple(v), cts, ((tuple(inner), gts),)))
                continue
            kid = _nested(inner, gvs, gts, values)
            if kid is None:
                return None
            kids.append((tuple(v), cts, (kid,)))
            continue
        kid = _nested(v, cvs, cts, values)
        if kid is None:
            return None
        kids.append(kid)
    return (tuple(obj), types, tuple(kids))


class _Slot:
    """Stands in for the scalar at one position of the values list while a plan is made."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n


def _stand_in(obj: dict[str, Any], counter: list[int]) -> dict[str, Any]:
    """A copy of ``obj`` with each scalar replaced by its :func:`shape_of` position."""
    base = counter[0]
    counter[0] += len(obj)
    out: dict[str, Any] = {
        k: (v if v.__class__ is dict else _Slot(base + i)) for i, (k, v) in enumerate(obj.items())
    }
    for k, v in obj.items():
        if v.__class__ is dict:
            out[k] = _stand_in(v, counter)
    return out


@dataclass(frozen=True)
class _Plan:
    names: tuple[str, ...]
    pick: Callable[[list[Any]], tuple[Any, ...]]
    gathered: tuple[tuple[str, tuple[int, ...]], ...]
    """Fields that gather several values into a list (a repeated path)."""


def _plan(fields: dict[str, Any]) -> _Plan | None:
    names: list[str] = []
    at: list[int] = []
    gathered: list[tuple[str, tuple[int, ...]]] = []
    for name, value in fields.items():
        if value.__class__ is _Slot:
            names.append(name)
            at.append(value.n)
        elif value.__class__ is list and all(v.__class__ is _Slot for v in value):
            names.append(name)
            at.append(-1)  # a placeholder keeps the field's place in the dictionary's order
            gathered.append((name, tuple(v.n for v in value)))
        else:
            return None
    if not at:
        return _Plan((), lambda _values: (), ())
    if len(at) == 1:
        only = at[0]
        return _Plan(tuple(names), lambda values: (values[only],), tuple(gathered))
    return _Plan(tuple(names), itemgetter(*at), tuple(gathered))


class ShapePlans:
    """``fields(obj)`` as ``generic(obj)`` computes it, planned once per shape of ``obj``."""

    def __init__(self, generic: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """``generic``: the flattening to reproduce (it must depend only on the object's shape)."""
        self.generic = generic
        self._plans: dict[Shape, _Plan | None] = {}

    def fields(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The fields of ``obj``, from its shape's plan (made on first sight of the shape)."""
        if obj.__class__ is not dict:
            return self.generic(obj)
        values: list[Any] = []
        shape = shape_of(obj, values)
        if shape is None:
            return self.generic(obj)
        plans = self._plans
        if shape in plans:
            plan = plans[shape]
        elif len(plans) < MAX_PLANS:
            plan = plans[shape] = _plan(self.generic(_stand_in(obj, [0])))
        else:
            plan = None
        if plan is None:
            return self.generic(obj)
        out = dict(zip(plan.names, plan.pick(values), strict=True))
        for name, at in plan.gathered:
            out[name] = [values[n] for n in at]
        return out
