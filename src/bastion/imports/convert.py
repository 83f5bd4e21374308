"""An import as Bastion's own report: the gated scan every report format renders, and the JSON
report an upload sends. Used by ``bastion import`` and ``bastion upload``; the server can convert
an upload of another tool's report the same way."""

from __future__ import annotations

from pathlib import Path

from bastion.findings import Severity
from bastion.gate import GateResult, evaluate
from bastion.imports.decode import MAX_BYTES, decode
from bastion.imports.importer import import_document, is_native
from bastion.imports.model import ImportResult
from bastion.report import json_report
from bastion.results import Notice, NoticeKind, ScanResult

__all__ = ["prepare_upload", "to_gate"]


def to_gate(result: ImportResult, source: str, threshold: Severity | None = None) -> GateResult:
    """The import as a gated scan of ``source`` by the tool, ready for any report format; what the
    report itself set aside is in ``suppressed``, what it could not check in the scan's skips."""
    notices = list(result.notices)
    if result.duplicates:
        message = f"{result.duplicates} duplicate result(s) of the report left out"
        notices.append(Notice(NoticeKind.SCANNER, message, None, result.tool))
    if result.inventory and result.tool != "spdx":
        message = f"{len(result.inventory)} components read as an inventory"
        notices.append(Notice(NoticeKind.SCANNER, message, None, result.tool))
    scan = ScanResult(
        root=Path(source),
        scanners=[result.tool],
        findings=list(result.findings),
        notices=notices,
        skips=list(result.skips),
    )
    # No inline suppressions: the files the report names are not here to read.
    gate = evaluate(scan, threshold, read_text=lambda _: None)
    gate.suppressed.extend(result.suppressed)
    return gate


def prepare_upload(data: bytes, name: str, tool: str | None, max_bytes: int = MAX_BYTES) -> bytes:
    """What an upload of ``data`` (the file ``name``) sends to the server: a Bastion report or a
    SARIF log as it is (unless ``tool`` names another tool), another tool's report converted to
    Bastion's JSON report. A file over ``max_bytes`` with no ``tool`` goes as it is, for the
    server to judge. Raises :class:`~bastion.errors.InputError` as :func:`import_document`."""
    if tool is None and len(data) > max_bytes:
        return data
    document = decode(data, name, max_bytes)
    if tool is None and is_native(document):
        return data
    result = import_document(document, tool)
    return json_report.render(to_gate(result, name)).encode("utf-8")
