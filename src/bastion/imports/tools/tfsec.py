"""tfsec JSON (``tfsec --format json``): ``results``, current and legacy (``ERROR``/``WARNING``) forms.

A check Bastion has an equivalent IaC policy for (its ``tfsec:`` ids) takes that policy's controls.
"""

from __future__ import annotations

from typing import Any

from bastion.findings import Location
from bastion.imports.build import Builder
from bastion.imports.equivalents import iac_equivalent
from bastion.imports.fields import arr, get, items, obj, path_of, pos_int, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser

__all__ = ["PARSER"]


def _detect(doc: Document) -> bool:
    first = next(iter(arr(get(doc.data, "results"))), None) if doc.kind is DocKind.JSON else None
    return isinstance(first, dict) and "rule_id" in first and isinstance(first.get("location"), dict)


def _parse(doc: Document, build: Builder) -> None:
    for result in items(doc.data["results"], "results"):
        _result(build, obj(result))


def _result(build: Builder, result: dict[str, Any]) -> None:
    if text(result.get("status")).lower() == "passed":
        return
    rule = text(result["rule_id"])
    place = obj(result.get("location"))
    legacy = text(result.get("legacy_rule_id"))
    equivalent = iac_equivalent(rule, legacy, text(result.get("long_id")))
    description = text(result.get("description"))
    title = text(result.get("rule_description")) or description or rule
    build.add(
        "misconfiguration",
        rule,
        title=title,
        severity=build.severity(result.get("severity")),
        location=Location(
            path=path_of(place.get("filename")),
            start_line=pos_int(place.get("start_line")),
            end_line=pos_int(place.get("end_line")),
        ),
        message=description or title,
        content=description or title,
        fix=text(result.get("resolution")),
        help_uri=next(iter(texts(result.get("links"))), "") or text(result.get("link")),
        metadata={"impact": text(result.get("impact")) or None, "legacy_rule_id": legacy or None},
        equivalent=equivalent,
    )


PARSER = ToolParser("tfsec", _detect, _parse)
