"""Gitleaks JSON (``gitleaks detect --report-format json``): a list of leaks, in the form of
Gitleaks 8 (``RuleID``, ``Secret``, ``File``...) or of Gitleaks 7 (``rule``, ``offender``, ``file``;
its rule names become ids: ``Asymmetric Private Key`` -> ``asymmetric-private-key``).

Each leak carries the secret in full (``Secret``, and inside ``Match``): it is registered with the
builder, which redacts it everywhere, and only its hash enters the fingerprint. Gitleaks rates
nothing: every leak takes the ``unrated`` level of ``tools.yml`` (high).
"""

from __future__ import annotations

from typing import Any

from bastion.findings import Location
from bastion.imports.build import Builder, slug
from bastion.imports.fields import items, obj, path_of, pos_int, text, texts
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser

__all__ = ["PARSER"]


_V8 = frozenset({"RuleID", "File", "StartLine"})
_V7 = frozenset({"rule", "offender", "file"})


def _detect(doc: Document) -> bool:
    records = doc.records() if doc.kind is DocKind.JSON and isinstance(doc.data, list) else []
    first = records[0] if records else None
    return isinstance(first, dict) and (first.keys() >= _V8 or first.keys() >= _V7)


def _v8(leak: dict[str, Any]) -> dict[str, Any]:
    """A Gitleaks 7 leak in Gitleaks 8's field names."""
    if "RuleID" in leak or "rule" not in leak:
        return leak
    return {
        "RuleID": slug(text(leak["rule"])),
        "Description": leak.get("rule"),
        "Secret": leak.get("offender"),
        "Match": leak.get("line"),
        "File": leak.get("file"),
        "StartLine": leak.get("lineNumber"),
        "EndLine": leak.get("lineNumber"),
        "Commit": leak.get("commit"),
        "Tags": [t.strip() for t in text(leak.get("tags")).split(",") if t.strip()],
    }


def _parse(doc: Document, build: Builder) -> None:
    for raw in items(doc.data, "leaks"):
        leak = _v8(obj(raw))
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
