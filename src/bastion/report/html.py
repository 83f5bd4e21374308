"""HTML report: one self-contained page (no scripts, no external resources) for a CI artifact.

Rendered with Jinja2 and autoescaping on, so text from the scanned code cannot inject markup;
the page carries a Content-Security-Policy that forbids scripts, so an archive viewer that
serves it from a CI host's origin runs nothing from it. No absolute path of the scanning
machine appears: locations are the findings' relative ones.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from bastion import __version__
from bastion.findings import Severity
from bastion.gate import GateResult
from bastion.report.table import summary_line

__all__ = ["render"]

_COLORS = {
    Severity.CRITICAL: "#8b0000",
    Severity.HIGH: "#c62828",
    Severity.MEDIUM: "#b26a00",
    Severity.LOW: "#1565c0",
    Severity.INFO: "#616161",
}

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bastion report: {{ verdict }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; } .failed { color: #b71c1c; } .passed { color: #1b5e20; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } code { font-size: 12px; word-break: break-all; }
.sev { color: #fff; border-radius: 3px; padding: 0 .4rem; font-weight: 600; white-space: nowrap; }
.fix { color: #1b5e20; } .muted { color: #666; }
</style>
</head>
<body>
<h1 class="{{ 'failed' if failed else 'passed' }}">Bastion: {{ verdict }}</h1>
<p><strong>{{ summary }}</strong></p>
{% if counts %}<table><tr><th>Severity</th><th>Findings</th></tr>
{% for sev, n in counts %}<tr>
<td><span class="sev" style="background:{{ colors[sev] }}">{{ sev.value }}</span></td><td>{{ n }}</td>
</tr>
{% endfor %}</table>{% endif %}
{% if findings %}<h2>Findings</h2>
<table><tr><th>Severity</th><th>Rule</th><th>Location</th><th>Finding</th></tr>
{% for f in findings %}<tr>
<td><span class="sev" style="background:{{ colors[f.severity] }}">{{ f.severity.value }}</span></td>
<td>{% if f.help_uri.startswith("https://") %}<a href="{{ f.help_uri }}" rel="noopener noreferrer">\
<code>{{ f.rule_id }}</code></a>{% else %}<code>{{ f.rule_id }}</code>{% endif %}
<br><span class="muted">{{ f.scanner }} · confidence {{ f.confidence.value }}</span></td>
<td><code>{{ f.location.describe() }}</code></td>
<td><strong>{{ f.title }}</strong>{% if f.message and f.message != f.title %}<br>{{ f.message }}{% endif %}
{% if f.evidence %}<br><code>{{ f.evidence }}</code>{% endif %}
{% if f.fix %}<br><span class="fix">Fix: {{ f.fix }}</span>{% endif %}
{% if f.cwe %}<br><span class="muted">{% for n in f.cwe %}CWE-{{ n }} {% endfor %}</span>{% endif %}
{% if f.controls %}<br><span class="muted">{{ f.controls | join(", ") }}</span>{% endif %}</td>
</tr>
{% endfor %}</table>{% else %}<p>No findings.</p>{% endif %}
{% if failures %}<h2>Scanner failures</h2>
<ul>{% for line in failures %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
{% if unchecked %}<h2>Not checked ({{ unchecked | length }})</h2>
<ul>{% for line in unchecked %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
<p class="muted">{{ suppressed }} suppressed, {{ baselined }} baselined (not shown) ·
Bastion {{ version }}</p>
</body>
</html>
"""

if TYPE_CHECKING:
    from jinja2 import Template


@cache
def _page() -> Template:
    """The compiled page (Jinja2 loads on the first HTML report, not with every command)."""
    from jinja2 import Environment

    # autoescape: the text on the page is the scanned code's
    return Environment(autoescape=True, keep_trailing_newline=True).from_string(_TEMPLATE)


def render(result: GateResult) -> str:
    """The report as one HTML page."""
    counts = result.counts()
    return _page().render(
        verdict="gate failed" if result.failed else "gate passed",
        failed=result.failed,
        summary=summary_line(result),
        counts=[(s, counts[s]) for s in sorted(Severity, reverse=True) if counts[s]],
        colors=_COLORS,
        findings=sorted(result.findings, key=lambda f: (-f.severity.rank, f.rule_id, f.location.describe())),
        failures=[failure.describe() for failure in result.scan.failures],
        unchecked=result.unchecked,
        suppressed=len(result.suppressed),
        baselined=len(result.baselined),
        version=__version__,
    )
