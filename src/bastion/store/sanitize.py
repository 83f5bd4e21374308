"""Every text the store keeps from an upload passes through here.

:func:`check_text` refuses what the database could not store (a lone UTF-16 surrogate, nesting
deeper than :data:`MAX_DEPTH`) with one line naming the upload. :func:`scrub_tree` replaces every
secret the built-in secrets rules find, in every string and every mapping key of a JSON value,
whoever wrote it: Bastion's own report, a SARIF log that claims to be Bastion's, or another
tool's. Uploads are not trusted to have redacted anything.
"""

from __future__ import annotations

from typing import Any

from bastion.errors import InputError
from bastion.scan.secrets.scrub import scrub

__all__ = ["MAX_DEPTH", "check_text", "scrub_tree"]

MAX_DEPTH = 64
"""Nesting levels allowed inside one stored value (metadata, locations)."""


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: Any, where: str) -> None:
    """Raise :class:`InputError` when ``value`` holds a string UTF-8 cannot encode or nests too deep."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if not _encodable(item):
                raise InputError(f"{where}: text holds a lone UTF-16 surrogate (not valid Unicode)")
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and not _encodable(key):
                    raise InputError(f"{where}: a key holds a lone UTF-16 surrogate (not valid Unicode)")
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)


def scrub_tree(value: Any, depth: int = 0) -> Any:
    """``value`` (a JSON value) with every string and key scrubbed of secrets."""
    if isinstance(value, str):
        return scrub(value)
    if depth > MAX_DEPTH:
        raise InputError(f"value nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {scrub(str(k)): scrub_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_tree(v, depth + 1) for v in value]
    return value
