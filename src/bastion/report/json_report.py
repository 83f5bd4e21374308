"""Bastion's own JSON report; its schema is report/schemas/bastion-report.schema.json.

The document is stable: fields are only ever added, and ``schema_version`` changes when
a field's meaning does. Every :class:`~bastion.findings.Finding` field is serialized
through ``Finding.to_dict``, so the report round-trips losslessly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from bastion import __version__
from bastion.gate import GateResult, summary_counts
from bastion.report.scope import display_target, machine_path_scrubber, scan_scope

__all__ = ["SCHEMA_VERSION", "chunks", "render", "to_document"]

SCHEMA_VERSION = 1

_T = TypeVar("_T")


class _Lazy:
    """A list member of the document, serialized one item at a time."""

    def __init__(self, items: Iterable[_T], convert: Callable[[_T], Any]) -> None:
        self.items: Iterable[Any] = items
        self.convert: Callable[[Any], Any] = convert


def _fields(result: GateResult) -> dict[str, Any]:
    scan = result.scan
    scrub = machine_path_scrubber(scan.root)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "bastion", "version": __version__},
        "target": display_target(scan.root),
        "scanners": list(scan.scanners),
        "duration_s": round(scan.duration_s, 3),
        "summary": summary_counts(result),
        "findings": _Lazy(result.findings, lambda f: scrub(f.to_dict())),
        "suppressed": _Lazy(
            result.suppressed, lambda s: scrub({"reason": s.reason, "finding": s.finding.to_dict()})
        ),
        "baselined": _Lazy(result.baselined, lambda f: scrub(f.to_dict())),
        "skipped": scrub([{"component": s.component, "reason": s.reason} for s in scan.skips]),
        "failures": scrub([{"scanner": f.scanner, "error": f.error} for f in scan.failures]),
        "notices": _Lazy(scan.notices, lambda n: scrub(n.to_dict())),
        "scope": scan_scope(scan),
        "stage": scan.stage,
    }


def to_document(result: GateResult) -> dict[str, Any]:
    """The report as plain JSON types."""
    return {
        key: [value.convert(item) for item in value.items] if isinstance(value, _Lazy) else value
        for key, value in _fields(result).items()
    }


def _nested(value: Any, pad: str) -> str:
    """``value`` as ``json.dumps(..., indent=2)`` writes it one level below the top."""
    return json.dumps(value, indent=2).replace("\n", "\n" + pad)


def chunks(result: GateResult) -> Iterator[str]:
    """The JSON report (exactly :func:`render`'s text) in pieces, one finding at a time, so
    that writing a report of many findings never holds the whole document in memory.

    The document is indented; each finding, suppression and notice is one line. That keeps
    the report readable and diffable line by line, and lets json's C encoder write the items
    (``indent`` forces its pure-Python encoder: 0.3 s for 8,600 findings, now ~0.05 s)."""
    fields = list(_fields(result).items())
    yield "{\n"
    for position, (key, value) in enumerate(fields):
        yield f"  {json.dumps(key)}: "
        if isinstance(value, _Lazy):
            yield from _lazy_list(value, "    ")
        else:
            yield _nested(value, "  ")
        yield ",\n" if position < len(fields) - 1 else "\n"
    yield "}\n"


def _lazy_list(value: _Lazy, pad: str) -> Iterator[str]:
    first = True
    encode = json.JSONEncoder().encode
    for item in value.items:
        yield ("[\n" if first else ",\n") + pad + encode(value.convert(item))
        first = False
    yield "[]" if first else "\n" + pad[:-2] + "]"


def render(result: GateResult) -> str:
    """The JSON report, indented, with a trailing newline."""
    return "".join(chunks(result))
