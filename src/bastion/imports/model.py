"""The data of an import: the per-tool mapping (``tools.yml``), the decoded document and what an
import produced. The parser seam is :class:`bastion.imports.parser.ToolParser`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bastion.errors import ConfigError
from bastion.findings import Finding, Severity
from bastion.results import Notice, Skip, Suppressed
from bastion.validation import first_error, reason_of

__all__ = [
    "Category",
    "Component",
    "DocKind",
    "Document",
    "ImportResult",
    "KindSpec",
    "ToolSpec",
    "parse_specs",
    "tool_specs",
]


class Category(enum.Enum):
    """Which of Bastion's own analyzers a foreign result corresponds to."""

    SECRETS = "secrets"
    DEPS = "deps"
    SAST = "sast"
    IAC = "iac"
    DAST = "dast"


class DocKind(enum.Enum):
    """The syntax a report was written in."""

    JSON = "json"
    JSONL = "jsonl"
    XML = "xml"


class KindSpec(BaseModel):
    """One kind of result a tool reports (``vulnerability``, ``secret``...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category
    """The Bastion analyzer the result corresponds to."""
    controls_as: str
    """Template of the rule id whose controls the result takes: ``deps.{id}``."""
    cwe: tuple[int, ...] = ()
    """CWE ids of a result that names none, as Bastion's own rule of the kind has them (798,
    hard-coded credentials, for every secret): findings of one weakness share them across tools."""


class ToolSpec(BaseModel):
    """How one tool's results map into findings (one entry of ``tools.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    """The tool's name as people write it."""
    kinds: dict[str, KindSpec]
    """The kinds of result the tool reports."""
    severities: dict[str, Severity] = {}
    """The tool's severity words, lower case, to Bastion severities."""
    unrated: Severity = Severity.HIGH
    """Severity of a result whose word is not listed and that has no CVSS score."""
    unrated_source: str = "unrated"
    """How such a severity is labelled in ``metadata["severity_source"]``."""
    purl_types: dict[str, str] = {}
    """The tool's ecosystem or package-type words to package-URL types, for results that carry
    no purl of their own (``pip: pypi``, ``debian: deb``)."""


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    tools: dict[str, ToolSpec]


@cache
def tool_specs() -> Mapping[str, ToolSpec]:
    """Every tool's mapping from ``tools.yml``; :class:`ConfigError` naming the key when invalid."""
    text = (resources.files("bastion.imports") / "tools.yml").read_text(encoding="utf-8")
    return parse_specs(yaml.safe_load(text))


def parse_specs(raw: Any) -> dict[str, ToolSpec]:
    """Validate a ``tools.yml`` document; :class:`ConfigError` with one line naming the key."""
    try:
        document = _Document.model_validate(raw)
    except ValidationError as exc:
        error = first_error(exc)
        where = ".".join(str(part) for part in error["loc"])
        raise ConfigError(f"imports/tools.yml {where}: {reason_of(error)}") from None
    if document.version != 1:
        raise ConfigError(f"imports/tools.yml: version {document.version} is not supported (1)")
    return document.tools


@dataclass(frozen=True)
class Document:
    """A decoded report: a JSON value, the values of JSON lines, or an XML root element."""

    kind: DocKind
    data: Any
    """``json``: the value; ``jsonl``: the list of values; ``xml``: the root ``Element``."""
    name: str
    """The file name, for messages."""

    def records(self) -> list[Any]:
        """The top-level items: the lines of JSON lines, the items of a JSON list, or the one value."""
        if self.kind is DocKind.JSONL or (self.kind is DocKind.JSON and isinstance(self.data, list)):
            return list(self.data)
        return [self.data]


@dataclass(frozen=True)
class Component:
    """A package listed by an SBOM: the inventory an SPDX or CycloneDX document carries."""

    name: str
    version: str = ""
    purl: str = ""
    licenses: tuple[str, ...] = ()


@dataclass
class ImportResult:
    """What one foreign report holds, in Bastion's terms."""

    tool: str
    """The tool's key (``trivy``): the scanner name and rule-id namespace of its findings."""
    tool_version: str = ""
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    """Results the report itself set aside (VEX not_affected, a checkov skip, ZAP false positive)."""
    skips: list[Skip] = field(default_factory=list)
    """What the tool says it could not check (pip-audit's skipped dependencies...)."""
    notices: list[Notice] = field(default_factory=list)
    inventory: list[Component] = field(default_factory=list)
    duplicates: int = 0
    """Results dropped because an identical one (same fingerprint and place) came earlier."""
