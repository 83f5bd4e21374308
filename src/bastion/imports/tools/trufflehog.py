"""TruffleHog v3 JSON lines (``trufflehog ... --json``): one object per secret found.

``Raw`` and ``RawV2`` are the secret itself (base64 when TruffleHog wrote them as bytes): both the
text and its decoded form are registered with the builder, which redacts them wherever they
appear, and the fields themselves are never copied. A verified secret is critical, an unverified
one high (``tools.yml``).
"""

from __future__ import annotations

import base64
import binascii

from bastion.findings import Location
from bastion.imports.build import Builder
from bastion.imports.fields import get, obj, path_of, pos_int, text
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser

__all__ = ["PARSER"]


def _detect(doc: Document) -> bool:
    if doc.kind not in (DocKind.JSON, DocKind.JSONL):
        return False
    records = doc.records()
    return (
        bool(records)
        and isinstance(records[0], dict)
        and {"SourceMetadata", "DetectorName"} <= records[0].keys()
    )


def _decoded(raw: str) -> str:
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def _parse(doc: Document, build: Builder) -> None:
    for record in doc.records():
        detector = text(record["DetectorName"])
        raws = [raw for raw in (text(record.get("Raw")), text(record.get("RawV2"))) if raw]
        plain = [_decoded(raw) or raw for raw in raws]
        for value in (*raws, *plain):
            build.secret(value)
        digest = build.secret(plain[0] if plain else "")
        source = obj(next(iter(obj(get(record, "SourceMetadata", "Data")).values()), None))
        link = text(source.get("link"))
        commit = text(source.get("commit")) or None
        path = path_of(source.get("file"))
        location = Location(
            path=path,
            start_line=pos_int(source.get("line")),
            commit=commit,
            url=None if path else (link or text(source.get("repository")) or None),
        )
        verified = record.get("Verified") is True
        state = "verified" if verified else "unverified"
        build.add(
            "secret",
            detector,
            title=f"{detector} secret ({state})",
            severity=build.severity(state),
            location=location,
            message=f"TruffleHog found a {detector} secret"
            + (" and verified that it works" if verified else " (not verified)"),
            content=f"{digest}@{commit or ''}",
            evidence=text(record.get("Redacted")),
            fix="Revoke and rotate the secret, then remove it from the code and its history.",
            metadata={
                "verified": verified,
                "source": text(record.get("SourceName")),
                "repository": text(source.get("repository")),
            },
        )


PARSER = ToolParser("trufflehog", _detect, _parse)
