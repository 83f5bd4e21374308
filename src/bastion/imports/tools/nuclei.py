"""Nuclei JSON lines (``nuclei -jsonl``) or its JSON export (``-json-export``, a list).

One finding per template match; the ``request`` and ``response`` Nuclei records (which can carry
cookies and tokens) are not kept. What the template extracted is part of the finding's identity
(``tls-version`` matching ``tls12`` and ``tls13`` are two results).
"""

from __future__ import annotations

from typing import Any

from bastion.findings import Location
from bastion.imports.build import Builder, cwe_ids
from bastion.imports.fields import get, num, obj, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.scan.dast.redact import redact_url

__all__ = ["PARSER"]


def _detect(doc: Document) -> bool:
    if doc.kind not in (DocKind.JSON, DocKind.JSONL):
        return False
    records = doc.records()
    return bool(records) and isinstance(records[0], dict) and {"template-id", "info"} <= records[0].keys()


def _parse(doc: Document, build: Builder) -> None:
    for record in doc.records():
        _match(build, obj(record))


def _match(build: Builder, record: dict[str, Any]) -> None:
    template = text(record["template-id"])
    info = obj(record.get("info"))
    classification = obj(info.get("classification"))
    target = text(record.get("matched-at")) or text(record.get("host"))
    url = redact_url(target) if target else ""
    matcher = text(record.get("matcher-name"))
    extracted = texts(record.get("extracted-results"))
    name = text(info.get("name")) or template
    score = num(classification.get("cvss-score"))
    cves = texts(classification.get("cve-id"))
    detail = f" [{matcher}]" if matcher else ""
    detail += f": {', '.join(extracted)}" if extracted else ""
    build.add(
        "web",
        template,
        title=name,
        severity=build.severity(info.get("severity"), score),
        location=Location(url=url or None),
        message=f"{name} at {url}{detail}",
        content="\x1f".join((target, matcher, *extracted)),
        evidence=", ".join(extracted)[:400],
        cwe=cwe_ids(texts(classification.get("cwe-id"))),
        fix=text(info.get("remediation")),
        help_uri=next(iter(texts(info.get("reference"))), "") or text(record.get("template-url")),
        metadata={
            "description": text(info.get("description")).strip(),
            "type": text(record.get("type")) or None,
            "tags": texts(info.get("tags")),
            "aliases": cves,
            "cvss_score": score,
            "matcher": matcher or None,
            "host": text(get(record, "host")) or None,
        },
    )


PARSER = ToolParser("nuclei", _detect, _parse)
