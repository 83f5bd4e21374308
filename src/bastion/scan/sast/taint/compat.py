"""Rewrite syntax newer than the running interpreter into equivalents it can parse.

Bastion runs on Python 3.11; scanned code may be written for 3.12+. The rewrites keep
every line where it was, so findings point at the original source:

* PEP 695 ``type X[T] = expr`` statements become ``X = expr``;
* PEP 695 generic parameter lists (``def f[T](...)``, ``class C[T]:``) are dropped;
* PEP 701 f-strings that reuse their own quote inside a replacement field
  (``f"{d["key"]}"``) get a triple-quoted delimiter of the other kind.

This is a fallback: it only runs when :func:`ast.parse` has already failed.
"""

from __future__ import annotations

import re

__all__ = ["downgrade"]

_TYPE_ALIAS = re.compile(r"^(?P<indent>[ \t]*)type[ \t]+(?P<name>\w+)[ \t]*(?:\[[^\]\n]*\])?[ \t]*=", re.M)
_GENERIC_DEF = re.compile(
    r"^(?P<head>[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+\w+)\[[^\]\n]*(?:\[[^\]\n]*\][^\]\n]*)*\]", re.M
)
_PREFIX = re.compile(r"(?i)(?<![\w])(rf|fr|f|rb|br|b|r|u)?(\"\"\"|'''|\"|')")


def downgrade(text: str) -> str | None:
    """``text`` with newer syntax rewritten, or None when nothing was changed."""
    out = _TYPE_ALIAS.sub(lambda m: f"{m.group('indent')}{m.group('name')} =", text)
    out = _GENERIC_DEF.sub(lambda m: m.group("head"), out)
    out = _requote_fstrings(out)
    return out if out != text else None


def _requote_fstrings(text: str) -> str:
    pieces: list[str] = []
    pos = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        match = _PREFIX.match(text, i) if ch.isalpha() or ch in "\"'" else None
        if match is None:
            i += 1
            continue
        prefix, quote = match.group(1) or "", match.group(2)
        start_body = match.end()
        if "f" in prefix.lower():
            end, nested = _scan_fstring(text, start_body, quote)
            if end < 0:
                return "".join(pieces) + text[pos:]
            if nested:
                body = text[start_body : end - len(quote)]
                new_quote = next(
                    (q for q in ("'''", '"""') if q not in body and not body.endswith(q[0])), None
                )
                if new_quote is not None:
                    pieces.append(text[pos:i])
                    pieces.append(prefix + new_quote + body + new_quote)
                    pos = end
            i = end
        else:
            i = _skip_string(text, start_body, quote)
            if i < 0:
                break
    pieces.append(text[pos:])
    return "".join(pieces)


def _skip_string(text: str, i: int, quote: str) -> int:
    """Index after the closing ``quote`` of a plain string starting at ``i``, or -1."""
    n = len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote)
        if len(quote) == 1 and text[i] == "\n":
            return i
        i += 1
    return -1


def _scan_fstring(text: str, i: int, quote: str) -> tuple[int, bool]:
    """End of an f-string body starting at ``i``, and whether a field reuses ``quote``'s character."""
    n = len(text)
    nested = False
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote), nested
        if ch == "{":
            if text.startswith("{{", i):
                i += 2
                continue
            i, inner = _scan_field(text, i + 1, quote[0])
            nested = nested or inner
            if i < 0:
                return -1, nested
            continue
        i += 1
    return -1, nested


def _scan_field(text: str, i: int, quote_char: str) -> tuple[int, bool]:
    """Index after the ``}`` closing a replacement field, and whether it holds ``quote_char``."""
    depth = 1
    nested = False
    n = len(text)
    while i < n and depth:
        ch = text[i]
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        elif ch in "\"'" or (ch.isalpha() and _PREFIX.match(text, i)):
            match = _PREFIX.match(text, i)
            if match is None:
                return -1, nested
            nested = nested or match.group(2)[0] == quote_char
            inner_quote = match.group(2)
            if "f" in (match.group(1) or "").lower():
                end, _ = _scan_fstring(text, match.end(), inner_quote)
            else:
                end = _skip_string(text, match.end(), inner_quote)
            if end < 0:
                return -1, nested
            i = end
            continue
        i += 1
    return (i if depth == 0 else -1), nested
