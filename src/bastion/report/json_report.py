"""Bastion's own JSON report; its schema is report/schemas/bastion-report.schema.json.

The document is stable: fields are only ever added, and ``schema_version`` changes when
a field's meaning does. Every :class:`~bastion.findings.Finding` field is serialized
through ``Finding.to_dict``, so the report round-trips losslessly.
"""

from __future__ import annotations

import json
from typing import Any

from bastion import __version__
from bastion.gate import GateResult, summary_counts

__all__ = ["SCHEMA_VERSION", "render", "to_document"]

SCHEMA_VERSION = 1


def to_document(result: GateResult) -> dict[str, Any]:
    """The report as plain JSON types."""
    scan = result.scan
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "bastion", "version": __version__},
        "target": str(scan.root),
        "scanners": list(scan.scanners),
        "duration_s": round(scan.duration_s, 3),
        "summary": summary_counts(result),
        "findings": [f.to_dict() for f in result.findings],
        "suppressed": [{"reason": s.reason, "finding": s.finding.to_dict()} for s in result.suppressed],
        "baselined": [f.to_dict() for f in result.baselined],
        "skipped": [{"component": s.component, "reason": s.reason} for s in scan.skips],
        "failures": [{"scanner": f.scanner, "error": f.error} for f in scan.failures],
        "notices": [n.to_dict() for n in scan.notices],
    }


def render(result: GateResult) -> str:
    """The JSON report, indented, with a trailing newline."""
    return json.dumps(to_document(result), indent=2, sort_keys=False) + "\n"
