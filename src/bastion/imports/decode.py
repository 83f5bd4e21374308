"""Bytes of a foreign report -> :class:`~bastion.imports.model.Document`, or one line saying why not.

JSON, JSON lines (TruffleHog, Nuclei) and XML (ZAP) are told apart by their first character and by
whether one JSON value fills the file. XML is parsed with :mod:`defusedxml`: a report can come
from an untrusted build, so entity declarations (billion laughs, external entities) are refused.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from bastion.errors import InputError
from bastion.imports.model import DocKind, Document

__all__ = ["MAX_BYTES", "decode"]

MAX_BYTES = 256 * 1024 * 1024
"""The largest report read (256 MiB); a larger one is refused with one line, never half-read.
Importing takes about 8 times the report's size in memory (705 MB for a 90 MB Trivy report,
bench/imports/RESULTS.md), so this keeps an import under about 2 GB."""


def decode(data: bytes, name: str, max_bytes: int = MAX_BYTES) -> Document:
    """Decode ``data`` (the file ``name``); :class:`InputError` naming the file and the problem."""
    if len(data) > max_bytes:
        raise InputError(
            f"{name}: {len(data):,} bytes is larger than the {max_bytes:,} bytes an import reads"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{name}: the file is empty")
    if stripped.startswith("<"):
        return Document(DocKind.XML, _xml(text, name), name)
    try:
        return Document(DocKind.JSON, json.loads(text), name)
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise InputError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return Document(DocKind.JSONL, _lines(text, name), name)


def _lines(text: str, name: str) -> list[Any]:
    """The values of a JSON-lines file: one value per non-empty line."""
    values: list[Any] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except RecursionError:
            raise InputError(f"{name}: line {number}: JSON nested too deeply") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}: line {number} is not valid JSON ({exc.msg})") from None
    return values


def _xml(text: str, name: str) -> Any:
    try:
        return SafeElementTree.fromstring(text)
    except DefusedXmlException as exc:
        raise InputError(
            f"{name}: XML with {type(exc).__name__} refused (entities are not expanded)"
        ) from None
    except ParseError as exc:
        raise InputError(f"{name}: not well-formed XML ({exc})") from None
