"""Which parser reads a report, and running it: the one entry point of the package.

The tool is the one ``--tool`` names, or the only parser whose ``detect`` accepts the document;
none or several is one line listing the tools (or the candidates). A parser that meets a field of
the wrong type or a missing required one ends in one line naming the file, never a traceback.
"""

from __future__ import annotations

from bastion.errors import InputError, UsageError
from bastion.imports.build import Builder
from bastion.imports.decode import MAX_BYTES, decode
from bastion.imports.model import DocKind, Document, ImportResult, tool_specs
from bastion.imports.parser import ToolParser
from bastion.imports.tools import (
    bandit,
    checkov,
    cyclonedx,
    gitleaks,
    grype,
    kics,
    npm_audit,
    nuclei,
    osv_scanner,
    pip_audit,
    semgrep,
    spdx,
    tfsec,
    trivy,
    trufflehog,
    zap,
)

__all__ = ["PARSERS", "detect_tool", "import_document", "import_report", "is_native", "tool_names"]

PARSERS: tuple[ToolParser, ...] = (
    gitleaks.PARSER,
    trufflehog.PARSER,
    trivy.PARSER,
    grype.PARSER,
    osv_scanner.PARSER,
    pip_audit.PARSER,
    npm_audit.PARSER,
    checkov.PARSER,
    tfsec.PARSER,
    kics.PARSER,
    semgrep.PARSER,
    bandit.PARSER,
    zap.PARSER,
    nuclei.PARSER,
    cyclonedx.PARSER,
    spdx.PARSER,
)
_BY_NAME = {parser.name: parser for parser in PARSERS}


def tool_names() -> list[str]:
    """The ``--tool`` names, in the order of :data:`PARSERS`."""
    return [parser.name for parser in PARSERS]


def is_native(doc: Document) -> bool:
    """Whether the document is a Bastion JSON report or a SARIF log (the server reads those as they are)."""
    data = doc.data
    if doc.kind is not DocKind.JSON or not isinstance(data, dict):
        return False
    return ("runs" in data and "version" in data) or ("schema_version" in data and "findings" in data)


def detect_tool(doc: Document) -> str:
    """The one tool whose output ``doc`` is; :class:`InputError` listing the candidates otherwise."""
    candidates = [parser.name for parser in PARSERS if parser.detect(doc)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise InputError(f"{doc.name}: ambiguous, could be {', '.join(candidates)}: pass --tool NAME")
    if is_native(doc):
        raise InputError(
            f"{doc.name}: a Bastion report or SARIF log, not another tool's output: upload it as it is"
        )
    raise InputError(
        f"{doc.name}: cannot tell which tool wrote it: pass --tool NAME (one of {', '.join(tool_names())})"
    )


def _empty(doc: Document) -> bool:
    data = doc.data
    return doc.kind is not DocKind.XML and (data == [] or data == {})


def import_document(doc: Document, tool: str | None = None) -> ImportResult:
    """Read ``doc`` as the output of ``tool`` (detected when None).

    Raises :class:`UsageError` for an unknown ``tool`` and :class:`InputError` for a document that
    is not that tool's output or that holds a field of the wrong type."""
    if tool is not None and tool not in _BY_NAME:
        raise UsageError(f"unknown tool {tool!r} (choose from {', '.join(tool_names())})")
    name = tool or detect_tool(doc)
    parser = _BY_NAME[name]
    spec = tool_specs()[name]
    build = Builder(name, spec)
    if tool is not None and not parser.detect(doc):
        if _empty(doc):
            return build.finish()
        others = [p.name for p in PARSERS if p.detect(doc)]
        hint = f" (it looks like {', '.join(others)})" if others else ""
        raise InputError(f"{doc.name}: not {spec.title} output{hint}")
    try:
        parser.parse(doc, build)
    except KeyError as exc:
        raise InputError(
            f"{doc.name}: not a valid {spec.title} report (a result has no {exc} field)"
        ) from None
    except (TypeError, AttributeError, ValueError, IndexError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InputError(f"{doc.name}: not a valid {spec.title} report (wrong type: {reason})") from None
    return build.finish()


def import_report(
    data: bytes, name: str, tool: str | None = None, max_bytes: int = MAX_BYTES
) -> ImportResult:
    """Decode ``data`` (the file ``name``) and import it; see :func:`import_document`."""
    return import_document(decode(data, name, max_bytes), tool)
