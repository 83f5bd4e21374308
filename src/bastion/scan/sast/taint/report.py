"""Taint hits as :class:`~bastion.findings.Finding` s, with the trace in ``metadata``.

``metadata["flow"]`` lists every step (``path``, ``line``, ``note``) from the source to the
sink; the SARIF writer turns it into ``codeFlows`` so GitHub shows the trace.
"""

from __future__ import annotations

from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.scan.sast.taint.summary import TaintHit
from bastion.scan.sast.taint.values import ALL_CWES

__all__ = ["TOOL", "to_finding"]

TOOL = "taint"
"""The tool name in ``metadata["tools"]``."""

_FIX = {
    78: "Pass an argument list without shell=True or quote with shlex.quote; never build commands from input",
    94: "Never build templates from input: pass the input as a template variable instead.",
    95: "Never eval/exec input; parse it (ast.literal_eval, json.loads) or dispatch on an allow-list.",
    89: "Use a parameterised query (cursor.execute(sql, params)) instead of building the SQL string.",
    90: "Escape the value with ldap.filter.escape_filter_chars before putting it in the filter.",
    643: "Use XPath variables (tree.xpath('//u[@n=$n]', n=value)) instead of building the expression.",
    79: "Render through an autoescaping template or escape with markupsafe.escape/html.escape.",
    22: "Reduce the name with os.path.basename/secure_filename, or check the resolved path stays in the base",
    601: "Redirect only to relative paths or to hosts on an allow-list (url_has_allowed_host_and_scheme).",
    502: "Deserialise untrusted data only with a data-only format (json) or yaml.safe_load.",
    611: "Parse untrusted XML with defusedxml, or an lxml parser with resolve_entities=False.",
    501: "Validate the value before storing it in the session; store server-side identifiers only.",
    328: "Use SHA-256 or stronger (a password hash such as argon2 for passwords); MD5/SHA-1 are broken.",
    330: "Use the secrets module (secrets.token_urlsafe) or random.SystemRandom for security values.",
    614: "Set cookies with secure=True and httponly=True (and samesite).",
}


def to_finding(hit: TaintHit) -> Finding:
    """One finding for one hit: located at the sink, with source, trace and CWE."""
    rule = hit.rule
    rule_id = f"sast.taint.{rule.id}"
    location = Location(path=hit.sink.path, start_line=hit.sink.line, end_line=hit.sink.line)
    source = hit.flow.steps[0] if hit.flow.steps else hit.sink
    steps = [*hit.flow.steps]
    if not steps or steps[-1] != hit.sink:
        steps.append(hit.sink)
    cleared = sorted(c for c in hit.flow.cleared if c != ALL_CWES)
    why = (
        f"the sanitizers on this path clear CWE-{', CWE-'.join(map(str, cleared))} only"
        if cleared
        else "no sanitizer or guard on this path"
    )
    if hit.flow.origin.kind == "api":
        message = f"{rule.title}: {hit.call} (CWE-{rule.cwe})"
    else:
        origin = f"{hit.flow.origin.label} ({source.path}:{source.line})"
        message = f"{origin} reaches {hit.call} (CWE-{rule.cwe}); {why}"
    return Finding(
        rule_id=rule_id,
        scanner="sast",
        title=rule.title,
        severity=Severity.parse(rule.severity),
        location=location,
        message=message,
        fingerprint=make_fingerprint(rule_id, location, hit.sink.note),
        evidence=hit.sink.note,
        confidence=Confidence.HIGH if hit.flow.origin.label != "environment variable" else Confidence.MEDIUM,
        cwe=(rule.cwe,),
        fix=_FIX.get(rule.cwe, ""),
        metadata={
            "tool": TOOL,
            "tools": [TOOL],
            "source": {"label": hit.flow.origin.label, "path": source.path, "line": source.line},
            "sink": {"call": hit.call, "path": hit.sink.path, "line": hit.sink.line},
            "flow": [{"path": s.path, "line": s.line, "note": s.note} for s in steps if s.path],
        },
    )
