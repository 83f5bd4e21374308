"""Checking a CycloneDX 1.6 JSON document against the official schema, in linear time.

jsonschema checks ``uniqueItems`` on arrays of objects by comparing every pair, so one
validation of a 20,000-component BOM takes hours. The schema's constraints are per item except
that one, so the document is validated in slices (the skeleton with ``chunk`` components and
``chunk`` dependency entries at a time) with cyclonedx-python-lib's strict validator (the
official schema, no unknown properties), and uniqueness is checked here with sets. References
are checked too: every ``dependsOn``/``ref`` names a component or the root (the schema cannot say
that; the library's own model refuses such a BOM), and so is every vulnerability's ``affects``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["cyclonedx_problems"]


def _message(error: object) -> str:
    data = getattr(error, "data", None)
    return str(getattr(data, "message", error))


def _unique(items: list[Any], label: str) -> list[str]:
    seen: set[str] = set()
    problems = []
    for item in items:
        key = json.dumps(item, sort_keys=True)
        if key in seen:
            problems.append(f"{label}: duplicate item {key[:120]}")
        seen.add(key)
    return problems


def cyclonedx_problems(text: str, chunk: int = 100) -> list[str]:
    """What is wrong with a CycloneDX 1.6 JSON text (schema, uniqueness, references); [] when valid."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    document = json.loads(text)
    if not isinstance(document, dict):
        return ["not a JSON object"]
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    components = document.get("components") or []
    dependencies = document.get("dependencies") or []
    problems: list[str] = []
    for start in range(0, max(len(components), len(dependencies), 1), chunk):
        part = {k: v for k, v in document.items() if k not in {"components", "dependencies"}}
        if components[start : start + chunk]:
            part["components"] = components[start : start + chunk]
        if dependencies[start : start + chunk]:
            part["dependencies"] = dependencies[start : start + chunk]
        errors = validator.validate_str(json.dumps(part), all_errors=True)
        problems += [_message(error) for error in errors or ()]
    problems += _unique(components, "components") + _unique(dependencies, "dependencies")
    refs = [c.get("bom-ref") for c in components if isinstance(c, dict)]
    problems += [f"bom-ref {ref!r} is not unique" for ref in _duplicates(refs)]
    root = document.get("metadata", {}).get("component", {}).get("bom-ref")
    known = {*refs, root}
    for entry in dependencies:
        for ref in [entry.get("ref"), *(entry.get("dependsOn") or ())]:
            if ref not in known:
                problems.append(f"dependency reference {ref!r} names no component")
    for vulnerability in document.get("vulnerabilities") or ():
        for affected in vulnerability.get("affects") or ():
            if affected.get("ref") not in known:
                problems.append(
                    f"vulnerability {vulnerability.get('id')!r} affects {affected.get('ref')!r}, no component"
                )
    vulnerability_refs = [v.get("bom-ref") for v in document.get("vulnerabilities") or () if v.get("bom-ref")]
    problems += [
        f"bom-ref {ref!r} is not unique"
        for ref in _duplicates([*refs, *vulnerability_refs])
        if ref in vulnerability_refs
    ]
    return problems


def _duplicates(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    repeated = []
    for value in values:
        if value in seen:
            repeated.append(value)
        seen.add(value)
    return repeated
