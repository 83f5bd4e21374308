"""Secret scanning: provider rules as data, a generic detector, and redaction at the source.

Layout, one stage per module: ``rules`` (schema and loading of ``rules/*.toml``),
``prefilter`` (Aho-Corasick keywords), ``detect`` (the matching core), ``validators``
(checksums and key parsing), ``entropy``, ``filters`` (false-positive control),
``generic`` (assignments), ``redact``, ``verify`` (optional live checks with the providers)
and ``scanner`` (the ``secrets`` scanner).
"""

from __future__ import annotations

from bastion.scan.secrets.scanner import SecretsOptions, SecretsScanner

__all__ = ["SecretsOptions", "SecretsScanner"]
