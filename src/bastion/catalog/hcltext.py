"""Terraform text read without a full parse: comments and heredoc bodies blanked, string contents
told apart from code, and the top-level attributes of a block. What the consumer scan needs to
find module blocks fast without being fooled by a ``module "x" {`` inside a heredoc, a brace in a
comment, or a quote inside an interpolation (``"${var.a == "x" ? "{" : ""}"``).

Blanking keeps every newline and every offset, so a line number found in the masked text is the
line number in the file."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonKeys", "LineCounter", "MaskedText", "block_end", "blocks_of", "mask", "top_level"]

_TOKEN = re.compile(r'"|#|//|/\*|<<-?[ \t]*"?([A-Za-z_][A-Za-z0-9_-]*)"?[ \t]*\r?\n')
_IN_STRING = re.compile(r'\$\$\{|%%\{|[\\"\n]|[$%]\{')
_IN_TEMPLATE = re.compile(r'[{}"]')
_BRACE = re.compile(r"[{}]")
_JSON_KEY = re.compile(r'"((?:[^"\\\n]|\\.)*)"\s*:')


@dataclass(frozen=True)
class MaskedText:
    """Two views of one Terraform file, both as long as the file."""

    code: str
    """Comments and heredoc bodies blanked; strings kept (attribute values are read here)."""
    shape: str
    """``code`` with the contents of strings blanked too: only code braces remain."""


def _blank(segment: str) -> str:
    """``segment`` with everything but newlines turned into spaces."""
    return "\n".join(" " * len(line) for line in segment.split("\n"))


def _template_end(text: str, start: int) -> int:
    """The offset after the ``}`` closing an interpolation whose body starts at ``start``."""
    depth, i = 1, start
    while True:
        match = _IN_TEMPLATE.search(text, i)
        if match is None:
            return len(text)
        if match.group(0) == '"':
            i = _string_end(text, match.end())
            continue
        depth += 1 if match.group(0) == "{" else -1
        i = match.end()
        if depth == 0:
            return i


def _string_end(text: str, start: int) -> int:
    """The offset after the quote closing a string whose contents start at ``start``; an
    unterminated string ends at its line's end (HCL strings are one line)."""
    i = start
    while True:
        match = _IN_STRING.search(text, i)
        if match is None:
            return len(text)
        lexeme = match.group(0)
        if lexeme == '"':
            return match.end()
        if lexeme == "\n":
            return match.start()
        if lexeme == "\\":
            i = match.end() + 1
        elif lexeme in {"$${", "%%{"}:
            i = match.end()
        else:
            i = _template_end(text, match.end())


def mask(text: str) -> MaskedText:
    """Blank comments and heredoc bodies of ``text`` (and, in :attr:`MaskedText.shape`, strings)."""
    code: list[str] = []
    shape: list[str] = []
    pos, size = 0, len(text)
    while pos < size:
        match = _TOKEN.search(text, pos)
        if match is None:
            break
        start = match.start()
        code.append(text[pos:start])
        shape.append(text[pos:start])
        lexeme = match.group(0)
        if lexeme == '"':
            end = _string_end(text, start + 1)
            code.append(text[start:end])
            closed = end > start + 1 and text[end - 1] == '"'
            inner = text[start + 1 : end - 1] if closed else text[start + 1 : end]
            shape.append('"' + _blank(inner) + ('"' if closed else ""))
        else:
            if lexeme in {"#", "//"}:
                newline = text.find("\n", start)
                end = size if newline < 0 else newline
            elif lexeme == "/*":
                close = text.find("*/", start + 2)
                end = size if close < 0 else close + 2
            else:  # a heredoc: the header stays, the body up to its closing marker goes
                header = match.end()
                code.append(text[start:header])
                shape.append(text[start:header])
                marker = re.compile(rf"^[ \t]*{re.escape(match.group(1))}[ \t]*\r?$", re.MULTILINE)
                closing = marker.search(text, header)
                start, end = header, size if closing is None else closing.end()
            blank = _blank(text[start:end])
            code.append(blank)
            shape.append(blank)
        pos = end
    code.append(text[pos:])
    shape.append(text[pos:])
    return MaskedText("".join(code), "".join(shape))


def block_end(shape: str, opening: int) -> int:
    """The offset after the brace closing the block whose ``{`` is at ``opening`` in ``shape``."""
    depth = 0
    for match in _BRACE.finditer(shape, opening):
        depth += 1 if match.group(0) == "{" else -1
        if depth == 0:
            return match.end()
    return len(shape)


def top_level(pattern: re.Pattern[str], masked: MaskedText, start: int, end: int) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` in ``masked.code[start:end]`` (a block's body) that sit directly in
    the block, not inside a nested block or object."""
    depth, last = 0, start
    for match in pattern.finditer(masked.code, start, end):  # one pass over the body, however long
        depth += masked.shape.count("{", last, match.start()) - masked.shape.count("}", last, match.start())
        last = match.start()
        if depth == 0:
            yield match


class LineCounter:
    """Line numbers of a text's offsets, counted on from the last one asked (a file with thousands
    of blocks is read once, not once per block)."""

    def __init__(self, text: str) -> None:
        """Count lines in ``text``."""
        self.text = text
        self.offset = 0
        self.line = 1

    def at(self, offset: int) -> int:
        """The line ``offset`` is on."""
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def blocks_of(value: Any) -> list[dict[str, Any]]:
    """Blocks of one type as a list of ``{name: body}``: HCL parses to a list of them, Terraform's
    JSON syntax allows an object or a list of objects."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


class JsonKeys:
    """The lines of every ``"key":`` in a JSON text, found in one pass: JSON parsers keep no
    lines, and a finding must still point at the block it is about."""

    def __init__(self, text: str) -> None:
        """Index ``text``."""
        counter = LineCounter(text)
        self.lines: dict[str, list[int]] = {}
        for match in _JSON_KEY.finditer(text):
            self.lines.setdefault(match.group(1), []).append(counter.at(match.start()))

    def line(self, key: str, after: int = 1) -> int:
        """The line of the first ``"key":`` at or after line ``after`` (``after`` when none)."""
        found = self.lines.get(key, [])
        index = bisect_left(found, after)
        return found[index] if index < len(found) else after
