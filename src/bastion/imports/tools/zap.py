"""OWASP ZAP traditional reports, JSON (``-J``) and XML (``-x``): ``site`` -> ``alerts`` -> ``instances``.

One finding per alert and distinct instance (URL, method, parameter); instances that differ only
in ZAP's free-text ``otherinfo`` are one. ZAP's risk code gives the severity (``tools.yml``); an
alert ZAP itself marks a false positive (confidence 0) is kept as suppressed. An alert whose
plugin Bastion's DAST rules list takes that rule's controls. Descriptions are HTML: tags dropped.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bastion.findings import Confidence, Location
from bastion.imports.build import Builder, cwe_ids
from bastion.imports.equivalents import dast_equivalent
from bastion.imports.fields import items, obj, text
from bastion.imports.model import DocKind, Document
from bastion.imports.parser import ToolParser
from bastion.scan.dast.redact import redact_url

__all__ = ["PARSER"]

_TAG = re.compile(r"<[^>]{0,200}>")
_CONFIDENCE = {
    "0": Confidence.LOW,
    "1": Confidence.LOW,
    "2": Confidence.MEDIUM,
    "3": Confidence.HIGH,
    "4": Confidence.HIGH,
}
_FIELDS = (
    "pluginid",
    "alertRef",
    "alert",
    "name",
    "riskcode",
    "confidence",
    "desc",
    "solution",
    "otherinfo",
    "reference",
    "cweid",
    "wascid",
    "count",
)


def _detect(doc: Document) -> bool:
    if doc.kind is DocKind.XML:
        return str(doc.data.tag) == "OWASPZAPReport"
    data = doc.data
    return (
        doc.kind is DocKind.JSON
        and isinstance(data, dict)
        and "site" in data
        and ("@version" in data or "@programName" in data)
    )


def _plain(value: Any) -> str:
    """HTML of a ZAP field as text: tags removed, entities decoded, blank lines squeezed."""
    lines = (line.strip() for line in html.unescape(_TAG.sub("\n", text(value))).splitlines())
    return "\n".join(line for line in lines if line)


def _xml_sites(root: Any) -> list[dict[str, Any]]:
    """The XML report in the JSON report's shape."""
    sites = []
    for site in root.iter("site"):
        alerts = []
        for item in site.iter("alertitem"):
            alert: dict[str, Any] = {key: (item.findtext(key) or "") for key in _FIELDS}
            alert["instances"] = [
                {child.tag: child.text or "" for child in instance} for instance in item.iter("instance")
            ]
            alerts.append(alert)
        sites.append({"@name": site.get("name", ""), "alerts": alerts})
    return sites


def _parse(doc: Document, build: Builder) -> None:
    if doc.kind is DocKind.XML:
        build.version = doc.data.get("version", "")
        sites = _xml_sites(doc.data)
    else:
        build.version = text(doc.data.get("@version"))
        raw = doc.data["site"]
        sites = [obj(s) for s in (raw if isinstance(raw, list) else [raw])]
    for site in sites:
        for alert in items(site.get("alerts"), "alerts"):
            _alert(build, obj(alert), text(site.get("@name")))


def _alert(build: Builder, alert: dict[str, Any], site: str) -> None:
    plugin = text(alert.get("pluginid"))
    native = text(alert.get("alertRef")) or plugin or text(alert["name"])
    name = text(alert.get("name")) or text(alert.get("alert")) or native
    equivalent = dast_equivalent(plugin)
    confidence = text(alert.get("confidence"))
    instances = [obj(i) for i in items(alert.get("instances"), "instances")] or [{"uri": site}]
    seen: set[tuple[str, str, str]] = set()
    for instance in instances:
        key = (text(instance.get("uri")), text(instance.get("method")), text(instance.get("param")))
        if key in seen:
            continue
        seen.add(key)
        url = redact_url(key[0]) if key[0] else site
        where = f"{key[1]} {url}".strip() + (f" (parameter {key[2]})" if key[2] else "")
        build.add(
            "web",
            native,
            title=name,
            severity=build.severity(alert.get("riskcode")),
            location=Location(url=url or None),
            message=f"{name} at {where}",
            content="\x1f".join(key),
            evidence=text(instance.get("evidence")),
            confidence=_CONFIDENCE.get(confidence, Confidence.MEDIUM),
            cwe=cwe_ids([alert.get("cweid")]),
            fix=_plain(alert.get("solution")),
            help_uri=f"https://www.zaproxy.org/docs/alerts/{plugin}/" if plugin.isdigit() else "",
            metadata={
                "description": _plain(alert.get("desc")),
                "method": key[1] or None,
                "param": key[2] or None,
                "wasc": text(alert.get("wascid")) or None,
            },
            equivalent=equivalent,
            suppressed="ZAP marked it a false positive" if confidence == "0" else None,
        )


PARSER = ToolParser("zap", _detect, _parse)
