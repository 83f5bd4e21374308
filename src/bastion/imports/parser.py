"""The parser seam: one :class:`ToolParser` per foreign tool (``bastion.imports.tools.<tool>.PARSER``).

A parser is a name (its key in ``tools.yml``), a ``detect`` predicate over the decoded document
(for auto-detection) and a ``parse`` function that hands each result to a
:class:`~bastion.imports.build.Builder`. Everything a parser does not decide (severity words,
rule-id namespacing, controls, scrubbing, fingerprints) is data or lives in the builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bastion.imports.build import Builder
from bastion.imports.model import Document

__all__ = ["ToolParser"]


@dataclass(frozen=True)
class ToolParser:
    """One foreign tool's reader."""

    name: str
    """Key in ``tools.yml`` and the namespace of its rule ids."""
    detect: Callable[[Document], bool]
    """Whether the document is unmistakably this tool's output."""
    parse: Callable[[Document, Builder], None]
    """Hand every result of the document to the builder."""
