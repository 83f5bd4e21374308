"""Other tools' results in Bastion's one :class:`~bastion.findings.Finding` model.

``import_report(data, name, tool=None)`` reads a report of one of the tools in :func:`tool_names`
(the tool detected from the content when ``tool`` is None) and returns an
:class:`~bastion.imports.model.ImportResult`: findings with rule ids namespaced by the tool,
normalised severities, CWE and CVE ids, locations, controls from Bastion's own mapping, stable
fingerprints and every secret scrubbed; plus what the report set aside, skipped or inventoried.
How each tool maps is data: ``tools.yml`` beside this file.
"""

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
