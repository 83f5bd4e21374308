"""Read an upload incrementally: one finding at a time, never the whole document in memory.

The body (a file, or the server's spooled request) is read by ijson's C parser as a stream of
events; the findings of a Bastion report (``findings[]``, ``baselined[]``) and the results of a
SARIF run (``runs[].results[]``) are turned into :class:`~bastion.findings.Finding`s as each one
ends, and the results cap is checked as they are counted, so an upload over the cap is refused
as soon as its first result too many is read. Everything else (tool, scope, skips, notices, a
run's rules) is small and built as plain JSON. ``suppressed[]`` and ``summary`` are not kept.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import ijson

from bastion.errors import InputError
from bastion.findings import Finding
from bastion.store.coverage import Coverage
from bastion.store.evidence import bastion_coverage, sarif_run_coverage
from bastion.store.items import (
    DEFAULT_MAX_RESULTS,
    ParsedScan,
    check_types,
    sarif_result,
    too_many,
    tool_slug,
)
from bastion.store.sanitize import MAX_DEPTH, check_text

__all__ = ["MAX_DOCUMENT_DEPTH", "SPOOL_MEMORY", "SURROGATE_ESCAPE", "UploadSpool", "read_upload"]

MAX_DOCUMENT_DEPTH = MAX_DEPTH + 16
"""Nesting a document may reach: a finding's own values get :data:`MAX_DEPTH` below its place."""
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A ``\\uD800``-``\\uDFFF`` escape: ijson's C parser turns a lone one into ``?``, so an upload
holding any is read by its exact (pure-Python) parser, and a lone surrogate is refused."""
SPOOL_MEMORY = 1024 * 1024
"""Bytes of an upload kept in memory while it arrives; the rest goes to a temporary file."""
_ITEMS = {("findings", "*"), ("baselined", "*"), ("runs", "*", "results", "*")}
_DROPPED = {("suppressed",), ("summary",)}
_RUN = ("runs", "*")
_Path = tuple[str, ...]


class _Drop:
    """A container whose contents are read past and not kept."""


_DROP = _Drop()


class _Reader:
    """Builds the small parts of the document; hands each finding or result to its handler."""

    def __init__(self, name: str, max_results: int, exact: bool) -> None:
        self.name = name
        self.max_results = max_results
        self.exact = exact
        self.count = 0
        self.findings: list[Finding] = []
        self.run_findings: list[Finding] = []
        self.run_pending: list[Any] = []
        self.run_context: tuple[list[Any], dict[Any, Any], str, bool] | None = None
        self.runs: list[tuple[dict[str, Any], list[Finding]]] = []
        self.stack: list[tuple[Any, _Path]] = []
        self.keys: list[str] = []

    def read(self, events: Iterator[tuple[str, Any]]) -> Any:
        """Consume ijson's basic events (no prefixes: building them is quadratic in the nesting,
        and the path is tracked here); returns the document without its findings and results."""
        root: Any = None
        for event, value in events:
            if event == "map_key":
                self.keys[-1] = value
                continue
            if event in ("end_map", "end_array"):
                container, path = self.stack.pop()
                self.keys.pop()
                if not self.stack:
                    root = container
                else:
                    self._place(container, path)
                continue
            path = self._next_path()
            if event in ("start_map", "start_array"):
                if len(self.stack) >= MAX_DOCUMENT_DEPTH:
                    raise InputError(f"{self.name}: JSON nested too deeply")
                dropping = (self.stack and self.stack[-1][0] is _DROP) or path in _DROPPED
                opened: Any = _DROP if dropping else ({} if event == "start_map" else [])
                self.stack.append((opened, path))
                self.keys.append("")
                continue
            if not self.stack:
                root = value
            else:
                self._place(value, path)
        return root

    def _next_path(self) -> _Path:
        if not self.stack:
            return ()
        container, path = self.stack[-1]
        return (*path, self.keys[-1] if isinstance(container, dict) else "*")

    def _place(self, value: Any, path: _Path) -> None:
        parent = self.stack[-1][0]
        if parent is _DROP or value is _DROP:
            return
        if path in _ITEMS:
            self._item(value, path)
        elif path == _RUN:
            self._run_end(value)
        elif isinstance(parent, dict):
            parent[self.keys[-1]] = value
        else:
            parent.append(value)

    def _item(self, value: Any, path: _Path) -> None:
        self.count += 1
        too_many(self.name, self.count, self.max_results)
        if path[0] == "runs":
            self._result(self._run(), value)
            return
        where = f"{self.name}: {path[0]}[{self.count - 1}]"
        try:
            finding = Finding.from_dict(value)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{where} is not a valid finding ({exc})") from None
        check_types(finding, where)
        self._check(finding, where)
        self.findings.append(finding)

    def _check(self, finding: Finding, where: str) -> None:
        if self.exact:
            check_text(finding.to_dict(), where)
        elif finding.metadata:
            check_text(finding.metadata, where)

    def _run(self) -> dict[str, Any]:
        run = self.stack[2][0]
        if not isinstance(run, dict):
            raise InputError(f"{self.name}: runs[{len(self.runs)}] is not an object")
        return run

    def _result(self, run: dict[str, Any], result: Any) -> None:
        if self.run_context is None and isinstance(run.get("tool"), dict):
            self.run_context = _run_context(run, self.name, len(self.runs))
        if self.run_context is None:
            self.run_pending.append(result)  # results before the run's tool: rare, kept raw
            return
        where = f"{self.name}: runs[{len(self.runs)}].results[{len(self.run_findings)}]"
        if not isinstance(result, dict):
            raise InputError(f"{where} is not an object")
        if result.get("suppressions"):
            return
        rules, by_id, slug, native = self.run_context
        try:
            finding = sarif_result(result, rules, by_id, slug, native, where)
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            raise InputError(f"{where} is malformed ({type(exc).__name__}: {exc})"[:300]) from None
        self._check(finding, where)
        self.run_findings.append(finding)

    def _run_end(self, run: Any) -> None:
        if not isinstance(run, dict):
            raise InputError(f"{self.name}: runs[{len(self.runs)}] is not an object")
        if self.run_context is None:
            self.run_context = _run_context(run, self.name, len(self.runs))
        pending, self.run_pending = self.run_pending, []
        for result in pending:
            self._result(run, result)
        if "results" in run and not isinstance(run["results"], list):
            raise InputError(f"{self.name}: runs[{len(self.runs)}].results must be a list")
        self.runs.append((run, self.run_findings))
        self.run_findings, self.run_context = [], None


def _run_context(run: dict[str, Any], name: str, index: int) -> tuple[list[Any], dict[Any, Any], str, bool]:
    try:
        driver = run["tool"]["driver"]
        tool_name = str(driver["name"])
    except (KeyError, TypeError):
        raise InputError(f"{name}: runs[{index}] has no tool.driver.name") from None
    if not isinstance(driver, dict):
        raise InputError(f"{name}: runs[{index}].tool.driver must be an object")
    raw_rules = driver.get("rules")
    rules: list[Any] = raw_rules if isinstance(raw_rules, list) else []
    by_id = {r.get("id"): r for r in rules if isinstance(r, dict) and isinstance(r.get("id"), str)}
    native = tool_name.lower() == "bastion"
    slug = tool_slug(tool_name)
    return rules, by_id, slug, native


def read_upload(
    source: IO[bytes], name: str = "upload", max_results: int = DEFAULT_MAX_RESULTS, *, exact: bool = False
) -> ParsedScan:
    """Parse a Bastion JSON report or SARIF 2.1.0 log from ``source`` incrementally.

    ``exact``: the body holds a surrogate escape (:data:`SURROGATE_ESCAPE`); read it with the exact
    parser so a lone surrogate is refused. Bad input is one :class:`InputError` naming ``name``."""
    reader = _Reader(name, max_results, exact)
    backend = ijson.get_backend("python") if exact else ijson
    try:
        document = reader.read(backend.basic_parse(source, use_float=True))
    except ijson.JSONError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "truncated"
        raise InputError(f"{name}: not valid JSON ({first})"[:300]) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise InputError(f"{name}: expected a JSON object (Bastion report or SARIF log)")
    if "runs" in document or ("version" in document and "$schema" in document):
        parsed = _sarif(document, reader, name)
    elif "schema_version" in document and "findings" in document:
        parsed = _bastion(document, reader, name)
    else:
        raise InputError(f"{name}: neither a Bastion JSON report nor a SARIF 2.1.0 log")
    check_text([parsed.tool, parsed.scanners], name)
    return parsed


def _bastion(document: dict[str, Any], reader: _Reader, name: str) -> ParsedScan:
    for key in ("findings", "baselined"):
        if document.get(key) is not None and not isinstance(document[key], list):
            raise InputError(f"{name}: '{key}' must be a list")
    tool = document.get("tool")
    version = tool.get("version", "") if isinstance(tool, dict) else ""
    scanners = document.get("scanners")
    names = [str(s) for s in scanners] if isinstance(scanners, list) else []
    names = sorted(set(names) | {f.scanner for f in reader.findings})
    places = [(f.scanner, f.location.to_dict()) for f in reader.findings]
    coverage = bastion_coverage(document, name, set(names), places)
    names = sorted(set(names).union(*(scope.listed for scope in coverage.scopes)))
    return ParsedScan("bastion", f"bastion {version}".strip(), names, reader.findings, coverage)


def _sarif(document: dict[str, Any], reader: _Reader, name: str) -> ParsedScan:
    if document.get("version") != "2.1.0":
        raise InputError(f"{name}: SARIF version {document.get('version')!r} is not supported (2.1.0 only)")
    if not isinstance(document.get("runs"), list):
        raise InputError(f"{name}: SARIF 'runs' must be a list")
    parsed = ParsedScan("sarif", "", [])
    tools: list[str] = []
    scanners: set[str] = set()
    coverage = Coverage()
    for index, (run, findings) in enumerate(reader.runs):
        driver = run["tool"]["driver"]
        tools.append(f"{driver['name']} {driver.get('version', '')}".strip())
        _rules, _by_id, slug, native = _run_context(run, name, index)
        if not native:
            scanners.add(slug)
        scanners.update(f.scanner for f in findings)
        parsed.findings.extend(findings)
        places = [(f.scanner, f.location.to_dict()) for f in findings]
        run_coverage = sarif_run_coverage(run, None if native else slug, f"{name}: runs[{index}]", places)
        coverage = coverage.merged(run_coverage)
    parsed.tool = ", ".join(tools)
    parsed.scanners = sorted(scanners | {s for scope in coverage.scopes for s in scope.listed})
    parsed.coverage = coverage
    return parsed


class UploadSpool:
    """An upload as it arrives: kept in memory up to :data:`SPOOL_MEMORY`, then in a private
    temporary file, and watched for surrogate escapes (which choose the exact parser)."""

    def __init__(self, memory: int = SPOOL_MEMORY) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=memory)  # noqa: SIM115 closed by close()
        self.exact = False
        self.size = 0
        self._tail = b""

    def write(self, chunk: bytes) -> None:
        """Append one chunk of the body."""
        if not self.exact and (
            SURROGATE_ESCAPE.search(self._tail + chunk[:5]) or SURROGATE_ESCAPE.search(chunk)
        ):
            self.exact = True
        self._tail = (self._tail + chunk[-5:])[-5:]
        self.size += len(chunk)
        self.file.write(chunk)

    def copy_from(self, source: IO[bytes], chunk: int = 1024 * 1024) -> None:
        """Append everything ``source`` holds, a chunk at a time."""
        while block := source.read(chunk):
            self.write(block)

    def parse(self, name: str = "upload", max_results: int = DEFAULT_MAX_RESULTS) -> ParsedScan:
        """The upload read incrementally (:func:`read_upload`)."""
        self.file.seek(0)
        return read_upload(self.file, name, max_results, exact=self.exact)

    def close(self) -> None:
        """Release the memory or the temporary file."""
        self.file.close()
