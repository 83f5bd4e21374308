"""Semgrep JSON (``semgrep --json``): ``results`` and ``errors``.

Semgrep without a login prints ``requires login`` in place of the matched lines: the fingerprint
then rests on the rule, file and message (a second match of them in the file is numbered).
Errors (a file Semgrep could not parse) are notices: those files were not checked.
"""

from __future__ import annotations

from typing import Any

from bastion.findings import Confidence, Location
from bastion.imports.build import Builder, cwe_ids
from bastion.imports.fields import arr, get, items, obj, path_of, pos_int, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.scan.sast.common import redact_literals

__all__ = ["PARSER"]

_HIDDEN = "requires login"
_CONFIDENCE = {"high": Confidence.HIGH, "medium": Confidence.MEDIUM, "low": Confidence.LOW}


def _detect(doc: Document) -> bool:
    data = doc.data
    if (
        doc.kind is not DocKind.JSON
        or not isinstance(data, dict)
        or not isinstance(data.get("results"), list)
    ):
        return False
    first = next(iter(data["results"]), None)
    return (isinstance(first, dict) and "check_id" in first) or (
        first is None and "paths" in data and "errors" in data
    )


def _parse(doc: Document, build: Builder) -> None:
    build.version = text(doc.data.get("version"))
    for result in items(doc.data["results"], "results"):
        _result(build, obj(result))
    for error in arr(doc.data.get("errors")):
        error = obj(error)
        message = text(error.get("message")) or text(error.get("type")) or "error"
        build.notice(f"semgrep: {message.splitlines()[0][:300]}", path_of(error.get("path")))


def _result(build: Builder, result: dict[str, Any]) -> None:
    check = text(result["check_id"])
    extra = obj(result.get("extra"))
    meta = obj(extra.get("metadata"))
    lines = text(extra.get("lines"))
    code = "" if lines == _HIDDEN else lines
    message = text(extra.get("message"))
    location = Location(
        path=path_of(result.get("path")),
        start_line=pos_int(get(result, "start", "line")),
        end_line=pos_int(get(result, "end", "line")),
        start_column=pos_int(get(result, "start", "col")),
        end_column=pos_int(get(result, "end", "col")),
    )
    build.add(
        "code",
        check,
        title=text(meta.get("title")) or message.split(". ")[0] or check,
        severity=build.severity(extra.get("severity")),
        location=location,
        message=message,
        content=code or message,
        evidence=redact_literals(code),
        confidence=_CONFIDENCE.get(text(meta.get("confidence")).lower(), Confidence.MEDIUM),
        cwe=cwe_ids(texts(meta.get("cwe"))),
        fix=text(meta.get("remediation")) or text(extra.get("fix")),
        help_uri=next(iter(texts(meta.get("references"))), "") or text(meta.get("source")),
        metadata={"owasp": texts(meta.get("owasp"))} if meta.get("owasp") else None,
    )


PARSER = ToolParser("semgrep", _detect, _parse)
