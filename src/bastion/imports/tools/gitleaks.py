"""Gitleaks 8 JSON (``gitleaks detect --report-format json``): a list of leaks.

Each leak carries the secret in full (``Secret``, and inside ``Match``): it is registered with the
builder, which redacts it everywhere, and only its hash enters the fingerprint. Gitleaks rates
nothing: every leak takes the ``unrated`` level of ``tools.yml`` (high).
"""

from __future__ import annotations

from bastion.findings import Location
from bastion.imports.build import Builder
from bastion.imports.fields import items, path_of, pos_int, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser

__all__ = ["PARSER"]


def _detect(doc: Document) -> bool:
    records = doc.records() if doc.kind is DocKind.JSON and isinstance(doc.data, list) else []
    return (
        bool(records)
        and isinstance(records[0], dict)
        and {"RuleID", "File", "StartLine"} <= records[0].keys()
    )


def _parse(doc: Document, build: Builder) -> None:
    for leak in items(doc.data, "leaks"):
        rule = text(leak["RuleID"])
        digest = build.secret(leak.get("Secret"))
        commit = text(leak.get("Commit")) or None
        location = Location(
            path=path_of(leak.get("File")),
            start_line=pos_int(leak.get("StartLine")),
            end_line=pos_int(leak.get("EndLine")),
            start_column=pos_int(leak.get("StartColumn")),
            end_column=pos_int(leak.get("EndColumn")),
            commit=commit,
        )
        description = text(leak.get("Description")) or rule
        build.add(
            "secret",
            rule,
            title=description,
            severity=build.severity(None),
            location=location,
            message=f"{description} found by gitleaks rule {rule}",
            content=f"{digest}@{commit or ''}",
            evidence=text(leak.get("Match")),
            fix="Revoke and rotate the secret, then remove it from the code and its history.",
            metadata={
                "entropy": leak.get("Entropy") if isinstance(leak.get("Entropy"), int | float) else None,
                "tags": texts(leak.get("Tags")),
            },
        )


PARSER = ToolParser("gitleaks", _detect, _parse)
