"""Which form fields were filled, read from the raw request body without decoding one value.

The landing page's script replaces every filled value by ``1`` before the form is sent, so a
browser never transmits what was typed. A client without the script (a scanner, a person with
scripts off) sends the values: this function sees the bytes, keeps the names of non-empty
fields and drops the rest, before any code that stores, logs or exports runs. It never turns a
value into text.

:func:`forms_post_to` holds the other end: every form of a served landing page posts, URL-encoded,
to the tracker, whatever its author wrote, so no typed value ever travels in a URL (where access
logs and proxies would keep it) or to another address.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

__all__ = ["MAX_FIELDS", "filled_fields", "forms_post_to"]

MAX_FIELDS = 20
_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")
_TAG = re.compile(r"""<(form|button|input)\b((?:"[^"]*"|'[^']*'|[^'">])*)>""", re.I)
_ATTRIBUTE = re.compile(r"""\s*([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]*))?|\s*/|\s+""")
_SUBMISSION = frozenset(
    ("action", "method", "enctype", "target", "formaction", "formmethod", "formenctype", "formtarget")
)


def _kept(attributes: str) -> str:
    kept = []
    for match in _ATTRIBUTE.finditer(attributes):
        name = match.group(1)
        if name is None or name.lower() not in _SUBMISSION:
            kept.append(match.group(0))
    return "".join(kept)


def forms_post_to(html: str, url: str) -> str:
    """``html`` with every form sent by POST, URL-encoded, in the same window, to ``url``: the
    author's ``action``/``method``/``enctype``/``target`` and any button's or input's ``form*``
    overrides are removed (``url`` is inserted as is: the caller gives a safe, already escaped path)."""

    def tag(match: re.Match[str]) -> str:
        name, attributes = match.group(1), _kept(match.group(2))
        if name.lower() == "form":
            return f'<{name} method="post" action="{url}"{attributes}>'
        return f"<{name}{attributes}>"

    return _TAG.sub(tag, html)


def filled_fields(body: bytes) -> list[str]:
    """Sorted names of the fields with a non-empty value in a URL-encoded form ``body``.

    Names that are not plain identifiers (at most 64 characters) are dropped, and at most
    :data:`MAX_FIELDS` are kept."""
    names: set[str] = set()
    for pair in body.split(b"&"):
        raw_name, sep, raw_value = pair.partition(b"=")
        if not sep or not raw_value:
            continue
        name = unquote_plus(raw_name.decode("ascii", errors="replace"))
        if _NAME.match(name) and not name.startswith("_"):
            names.add(name)
        if len(names) >= MAX_FIELDS:
            break
    return sorted(names)
