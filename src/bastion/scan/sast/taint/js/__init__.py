"""Taint analysis for JavaScript/TypeScript (Express): tree-sitter syntax, rules in ``rules.yml``.

:func:`analyze_js` is the entry point; findings are the same :class:`~..summary.TaintHit`
as the Python analysis, so :func:`~..report.to_finding` turns them into SARIF-ready findings.
"""

from __future__ import annotations

from bastion.scan.sast.taint.js.parse import JS_SUFFIXES
from bastion.scan.sast.taint.js.project import analyze_js

__all__ = ["JS_SUFFIXES", "analyze_js"]
