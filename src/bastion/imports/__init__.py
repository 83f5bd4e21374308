"""Other tools' results in Bastion's one :class:`~bastion.findings.Finding` model.

``import_report(data, name, tool=None)`` reads a report of one of the tools in :func:`tool_names`
(the tool detected from the content when ``tool`` is None) and returns an
:class:`~bastion.imports.model.ImportResult`: findings with rule ids namespaced by the tool,
normalised severities, CWE and CVE ids, locations, controls from Bastion's own mapping, stable
fingerprints and every secret scrubbed; plus what the report set aside, skipped or inventoried.
How each tool maps is data: ``tools.yml`` beside this file.

The names below are loaded on first use: the parsers bring the IaC policies, the advisory
tables and the store's scrubber with them, which a command that imports nothing should not pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.imports.importer import detect_tool, import_document, import_report, is_native, tool_names
    from bastion.imports.model import Component, ImportResult

__all__ = [
    "Component",
    "ImportResult",
    "detect_tool",
    "import_document",
    "import_report",
    "is_native",
    "tool_names",
]

_HOMES = {
    "Component": "bastion.imports.model",
    "ImportResult": "bastion.imports.model",
    "detect_tool": "bastion.imports.importer",
    "import_document": "bastion.imports.importer",
    "import_report": "bastion.imports.importer",
    "is_native": "bastion.imports.importer",
    "tool_names": "bastion.imports.importer",
}


def __getattr__(name: str) -> Any:
    """Load an exported name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bastion.imports' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
