"""KICS JSON (``kics scan --report-formats json``): ``queries``, each with the ``files`` it failed on.

KICS's own ``similarity_id`` (stable across runs) is the fingerprint's content when present. A query
that a Bastion policy lists among its ``kics:`` ids gives the finding that policy's controls and CWE
(``metadata["equivalent_ids"]``), as checkov and tfsec results do; KICS rates every query itself,
so the severity stays KICS's.
"""

from __future__ import annotations

from typing import Any

from bastion.findings import Location
from bastion.imports.build import Builder, cwe_ids
from bastion.imports.equivalents import iac_equivalent
from bastion.imports.fields import arr, get, items, obj, path_of, pos_int, text
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser

__all__ = ["PARSER"]


def _detect(doc: Document) -> bool:
    first = next(iter(arr(get(doc.data, "queries"))), None) if doc.kind is DocKind.JSON else None
    return isinstance(first, dict) and "query_id" in first and "files" in first


def _parse(doc: Document, build: Builder) -> None:
    build.version = text(doc.data.get("kics_version"))
    for query in items(doc.data["queries"], "queries"):
        query = obj(query)
        for place in items(query.get("files"), "files"):
            _file(build, query, obj(place))


def _file(build: Builder, query: dict[str, Any], place: dict[str, Any]) -> None:
    query_id = text(query["query_id"])
    name = text(query.get("query_name")) or query_id
    expected, actual = text(place.get("expected_value")), text(place.get("actual_value"))
    detail = "; ".join(
        p for p in (f"expected: {expected}" if expected else "", f"actual: {actual}" if actual else "") if p
    )
    build.add(
        "misconfiguration",
        query_id,
        title=name,
        severity=build.severity(query.get("severity")),
        location=Location(path=path_of(place.get("file_name")), start_line=pos_int(place.get("line"))),
        message=f"{text(query.get('description')) or name}" + (f" ({detail})" if detail else ""),
        content=text(place.get("similarity_id"))
        or f"{text(place.get('issue_type'))}\x1f{text(place.get('search_key'))}\x1f{actual}",
        cwe=cwe_ids([query.get("cwe")]),
        help_uri=text(query.get("query_url")),
        equivalent=iac_equivalent(query_id),
        metadata={
            "platform": text(query.get("platform")) or None,
            "kics_category": text(query.get("category")) or None,
            "issue_type": text(place.get("issue_type")) or None,
            "resource": text(place.get("resource_name")) or None,
            "resource_type": text(place.get("resource_type")) or None,
        },
    )


PARSER = ToolParser("kics", _detect, _parse)
