"""Scrub secrets out of text that came from elsewhere: another tool's report, a log line.

Bastion's own findings are redacted at the source. Text it did not write (a SARIF message from
another scanner, an uploaded evidence field) may still carry a secret in full; before such text
is stored or shown, every secret the built-in rules find in it is replaced by its redacted form.
"""

from __future__ import annotations

from bastion.scan.secrets.redact import redact
from bastion.scan.secrets.scanner import detector_for

__all__ = ["scrub"]


def scrub(text: str) -> str:
    """``text`` with each secret found by the built-in rules replaced by ``ghp_…(40 chars)``."""
    if len(text) < 8:
        return text
    hits = detector_for((), frozenset(), True).detect(text, "")
    for hit in sorted(hits, key=lambda h: h.start, reverse=True):
        text = text[: hit.start] + redact(hit.secret) + text[hit.end :]
    return text
