"""Readers for the four coverage formats: Cobertura XML, LCOV, JaCoCo XML, coverage.py JSON.

Each reader turns a file into :class:`~bastion.coverage.model.CoverageData` with paths
resolved against the repository root; a file that is not what it claims to be is one
:class:`~bastion.errors.InputError` line naming it and what is wrong. XML is parsed with
defusedxml (no entity expansion: a coverage report can come from an untrusted build).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import (
    Element,  # bastion: ignore[sast.bandit.B405] type only; parsing is defusedxml
)

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from bastion.coverage.model import CoverageData, CoverageFormat, merge_hits
from bastion.coverage.paths import PathResolver
from bastion.errors import InputError
from bastion.structured import read_text

__all__ = ["detect_format", "read_report"]

_XML_PARSE_ERRORS: tuple[type[Exception], ...] = (SafeET.ParseError, DefusedXmlException)


def read_report(path: Path, root: Path, fmt: CoverageFormat | None = None) -> CoverageData:
    """Read the coverage report at ``path`` (format detected unless given), resolving its
    file names against ``root``; :class:`InputError` for an unreadable or malformed report."""
    text = read_text(path, what="coverage report").removeprefix("\ufeff")
    fmt = fmt or detect_format(path, text)
    match fmt:
        case CoverageFormat.COBERTURA:
            return _cobertura(path, text, root)
        case CoverageFormat.JACOCO:
            return _jacoco(path, text, root)
        case CoverageFormat.LCOV:
            return _lcov(path, text, root)
        case CoverageFormat.COVERAGEPY:
            return _coveragepy(path, text, root)


def detect_format(path: Path, text: str) -> CoverageFormat:
    """The format of a report from its content (the root element, LCOV's ``SF:``, coverage.py's
    ``meta``); :class:`InputError` when it is none of the four."""
    head = text.lstrip()[:4096]
    if head.startswith("<"):
        if "<report" in head and ("JACOCO" in head or "<sessioninfo" in head or "<package" in head):
            return CoverageFormat.JACOCO
        if "<coverage" in head:
            return CoverageFormat.COBERTURA
        raise InputError(f"{path}: XML but neither Cobertura (<coverage>) nor JaCoCo (<report>)")
    if head.startswith("{"):
        return CoverageFormat.COVERAGEPY
    if any(line.startswith(("SF:", "TN:")) for line in head.splitlines()):
        return CoverageFormat.LCOV
    raise InputError(
        f"{path}: not a coverage report Bastion reads (Cobertura XML, LCOV, JaCoCo XML, coverage.py JSON)"
    )


def _parse_xml(path: Path, text: str) -> Element:
    try:
        root: Element = SafeET.fromstring(text)
    except _XML_PARSE_ERRORS as exc:
        raise InputError(f"{path}: invalid XML: {exc}") from None
    return root


def _int(path: Path, element: Element, attribute: str) -> int:
    value = element.get(attribute)
    try:
        return int(value) if value is not None else 0
    except ValueError:
        raise InputError(f"{path}: <{element.tag} {attribute}={value!r}> is not a number") from None


def _cobertura(path: Path, text: str, root: Path) -> CoverageData:
    document = _parse_xml(path, text)
    if document.tag != "coverage":
        raise InputError(f"{path}: root element is <{document.tag}>, not Cobertura's <coverage>")
    sources = [s.text.strip() for s in document.iter("source") if s.text and s.text.strip()]
    resolver = PathResolver(root, sources)

    def records() -> Iterator[tuple[str, dict[int, int]]]:
        for cls in document.iter("class"):
            filename = cls.get("filename")
            if not filename:
                raise InputError(f"{path}: <class name={cls.get('name')!r}> has no filename")
            hits = {_int(path, line, "number"): _int(path, line, "hits") for line in _lines(cls)}
            yield resolver.resolve(filename), hits

    return CoverageData(CoverageFormat.COBERTURA, merge_hits(records()))


def _lines(cls: Element) -> list[Element]:
    """A class's own ``<lines>`` (method lines repeat them; counting both would double)."""
    own = cls.find("lines")
    return list(own.iter("line")) if own is not None else []


def _jacoco(path: Path, text: str, root: Path) -> CoverageData:
    document = _parse_xml(path, text)
    if document.tag != "report":
        raise InputError(f"{path}: root element is <{document.tag}>, not JaCoCo's <report>")
    resolver = PathResolver(root)

    def records() -> Iterator[tuple[str, dict[int, int]]]:
        for package in document.iter("package"):
            prefix = package.get("name", "")
            for source in package.iter("sourcefile"):
                name = source.get("name")
                if not name:
                    raise InputError(f"{path}: <sourcefile> without a name in package {prefix!r}")
                lines = list(source.iter("line"))
                if lines and all(line.get("ci") is None and line.get("mi") is None for line in lines):
                    raise InputError(
                        f"{path}: <sourcefile {prefix}/{name}> lines carry no ci/mi counts, so per-line "
                        "coverage is unknown (gcovr's JaCoCo output does this: use its --cobertura or --lcov)"
                    )
                # JaCoCo counts instructions per line: ci covered, mi missed.
                hits = {_int(path, line, "nr"): _int(path, line, "ci") for line in lines}
                yield resolver.resolve(f"{prefix}/{name}" if prefix else name), hits

    return CoverageData(CoverageFormat.JACOCO, merge_hits(records()))


def _lcov(path: Path, text: str, root: Path) -> CoverageData:
    resolver = PathResolver(root)
    records: list[tuple[str, dict[int, int]]] = []
    current: str | None = None
    hits: dict[int, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("SF:"):
            current, hits = line[3:], {}
        elif line.startswith("DA:"):
            if current is None:
                raise InputError(f"{path}:{number}: DA record outside a file (no SF: before it)")
            fields = line[3:].split(",")
            try:
                hits[int(fields[0])] = hits.get(int(fields[0]), 0) + max(int(float(fields[1])), 0)
            except (ValueError, IndexError):
                raise InputError(f"{path}:{number}: malformed DA record {line!r}") from None
        elif line == "end_of_record":
            if current is None:
                raise InputError(f"{path}:{number}: end_of_record without SF:")
            records.append((resolver.resolve(current), hits))
            current = None
    if current is not None:
        raise InputError(f"{path}: last record ({current}) has no end_of_record (truncated?)")
    return CoverageData(CoverageFormat.LCOV, merge_hits(records))


def _coveragepy(path: Path, text: str, root: Path) -> CoverageData:
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), dict):
        raise InputError(f"{path}: not a coverage.py JSON report (no 'files' object)")
    resolver = PathResolver(root)
    records: list[tuple[str, dict[int, int]]] = []
    for name, entry in document["files"].items():
        executed, missing = (
            _line_list(path, entry, name, "executed_lines"),
            _line_list(path, entry, name, "missing_lines"),
        )
        hits = dict.fromkeys(executed, 1)
        hits.update(dict.fromkeys(missing, 0))
        records.append((resolver.resolve(name), hits))
    return CoverageData(CoverageFormat.COVERAGEPY, merge_hits(records))


def _line_list(path: Path, entry: Any, name: str, key: str) -> list[int]:
    value = entry.get(key) if isinstance(entry, dict) else None
    if not isinstance(value, list) or not all(isinstance(n, int) for n in value):
        raise InputError(f"{path}: files[{name!r}].{key} is not a list of line numbers")
    return value
