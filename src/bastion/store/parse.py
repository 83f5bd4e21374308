"""Read an uploaded scan: Bastion's JSON report or any SARIF 2.1.0 log, into Findings.

Both are read incrementally (:mod:`bastion.store.stream`); one finding or result at a time is
turned into a :class:`~bastion.findings.Finding` by :mod:`bastion.store.items`. Other tools'
SARIF comes in as findings of a scanner named after the tool, rule ids namespaced with it;
results SARIF marks suppressed are left out, as are Bastion's own inline suppressions.
"""

from __future__ import annotations

import io
import json
from typing import Any

from bastion.errors import InputError
from bastion.store.items import DEFAULT_MAX_RESULTS, ParsedScan
from bastion.store.stream import SURROGATE_ESCAPE, read_upload

__all__ = ["DEFAULT_MAX_RESULTS", "ParsedScan", "parse_document", "parse_upload"]


def parse_upload(data: bytes, name: str = "upload", max_results: int = DEFAULT_MAX_RESULTS) -> ParsedScan:
    """Parse an upload incrementally (:func:`bastion.store.stream.read_upload`); :class:`InputError`
    names ``name`` and the problem."""
    exact = SURROGATE_ESCAPE.search(data) is not None
    return read_upload(io.BytesIO(data), name, max_results, exact=exact)


def parse_document(document: Any, name: str = "upload", max_results: int = DEFAULT_MAX_RESULTS) -> ParsedScan:
    """Recognize a Bastion JSON report or a SARIF 2.1.0 log given as plain JSON values and read its
    findings, by the same incremental reader as an upload (its JSON text, re-encoded)."""
    try:
        data = json.dumps(document).encode()
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: not a JSON document ({exc})") from None
    return parse_upload(data, name, max_results)
