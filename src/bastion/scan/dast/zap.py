"""Drive a running OWASP ZAP daemon (``--zap URL --zap-key KEY``) and import its alerts.

Through the official ``zaproxy`` client: open the target, spider it, wait for the passive
scanner to drain, optionally run the active scanner, then read the alerts. Each alert
whose ZAP plugin id has a Bastion rule becomes a finding of that rule (so rule levels,
baselines and control mappings apply alike); the others keep ZAP's plugin id as
``dast.zap.<id>``. Alerts are grouped per rule and subject like Bastion's own.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bastion.errors import InputError
from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.scan.dast.http import origin_of
from bastion.scan.dast.redact import redact_finding
from bastion.scan.dast.rules import rules_by_zap_id

__all__ = ["ZapOptions", "ZapResult", "run_zap"]

RISK = {"high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW, "informational": Severity.INFO}
CONFIDENCE = {
    "confirmed": Confidence.HIGH,
    "high": Confidence.HIGH,
    "medium": Confidence.MEDIUM,
    "low": Confidence.LOW,
    "false positive": Confidence.LOW,
}
PAGE = 500
"""Alerts read per API call."""


@dataclass(frozen=True)
class ZapOptions:
    """How to reach ZAP and how long to let it work."""

    url: str
    key: str
    active: bool = False
    time_limit_s: float = 600.0
    poll_s: float = 2.0


@dataclass
class ZapResult:
    """Findings imported from ZAP and what happened on the way."""

    findings: list[Finding] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    version: str = ""
    alerts: int = 0


def _client(options: ZapOptions) -> Any:
    from zapv2 import ZAPv2

    proxy = options.url.rstrip("/")
    return ZAPv2(apikey=options.key, proxies={"http": proxy, "https": proxy}, validate_status_code=True)


class _Zap:
    def __init__(self, options: ZapOptions, client: Any) -> None:
        self.options = options
        self.zap = client
        self.deadline = time.monotonic() + options.time_limit_s

    def call(self, what: str, func: Callable[[], Any]) -> Any:
        """Run one API call; any failure is an :class:`InputError` naming ZAP and the step."""
        try:
            value = func()
        except Exception as exc:  # requests, JSON and zapv2's own bare Exception all end here
            text = str(exc).replace(self.options.key, "***") if self.options.key else str(exc)
            raise InputError(
                f"ZAP at {self.options.url}: {what} failed: {text.splitlines()[0][:300]}"
            ) from None
        if isinstance(value, str) and value in ("bad_api_key", "no_access", "illegal_parameter"):
            raise InputError(f"ZAP at {self.options.url}: {what} refused: {value}")
        return value

    def wait(self, done: Callable[[], bool]) -> bool:
        """Poll ``done`` (quickly at first, then every ``poll_s``) until true or out of time."""
        interval = min(0.05, self.options.poll_s)
        while not done():
            if time.monotonic() >= self.deadline:
                return False
            time.sleep(interval)
            interval = min(interval * 2, self.options.poll_s)
        return True


def run_zap(target: str, options: ZapOptions, client: Any | None = None) -> ZapResult:
    """Spider ``target`` with ZAP (and active-scan it when asked); return its alerts as findings."""
    runner = _Zap(options, client if client is not None else _client(options))
    zap = runner.zap
    result = ZapResult()
    result.version = str(runner.call("reading the version", lambda: zap.core.version))
    runner.call("opening the target", lambda: zap.core.access_url(url=target, followredirects=True))
    spider = str(runner.call("starting the spider", lambda: zap.spider.scan(url=target, recurse=True)))
    if not runner.wait(lambda: int(runner.call("spider status", lambda: zap.spider.status(spider))) >= 100):
        result.notices.append("ZAP spider did not finish within the time limit; alerts so far imported")
    if not runner.wait(
        lambda: int(runner.call("passive scan queue", lambda: zap.pscan.records_to_scan)) == 0
    ):
        result.notices.append("ZAP passive scan did not drain within the time limit")
    if options.active:
        scan = str(runner.call("starting the active scan", lambda: zap.ascan.scan(url=target, recurse=True)))
        if not runner.wait(
            lambda: int(runner.call("active scan status", lambda: zap.ascan.status(scan))) >= 100
        ):
            result.notices.append("ZAP active scan did not finish within the time limit")
    alerts: list[dict[str, Any]] = []
    while True:
        page = runner.call("reading alerts", functools.partial(zap.core.alerts, target, len(alerts), PAGE))
        if not isinstance(page, list):
            raise InputError(
                f"ZAP at {options.url}: reading alerts returned {type(page).__name__}, not a list"
            )
        alerts.extend(a for a in page if isinstance(a, dict))
        if len(page) < PAGE:
            break
    result.alerts = len(alerts)
    result.findings = alerts_to_findings(alerts)
    return result


def alerts_to_findings(alerts: list[dict[str, Any]]) -> list[Finding]:
    """Group ZAP alerts (ZAP's JSON API shape) into findings."""
    by_zap = rules_by_zap_id()
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for alert in alerts:
        plugin = str(alert.get("pluginId", "")).strip()
        rules = by_zap.get(int(plugin)) if plugin.isdigit() else None
        rule_id = rules[0].id if rules else f"dast.zap.{plugin or 'unknown'}"
        url = str(alert.get("url", ""))
        key = f"{origin_of(url) if url.startswith('http') else url} {alert.get('param', '')}".strip()
        groups.setdefault((rule_id, key), []).append(alert)
    findings: list[Finding] = []
    for (rule_id, key), members in sorted(groups.items()):
        first = members[0]
        urls = sorted({str(a.get("url", "")) for a in members})
        severity = max(RISK.get(str(a.get("risk", "")).lower(), Severity.INFO) for a in members)
        cwe = str(first.get("cweid", ""))
        name = str(first.get("alert") or first.get("name") or rule_id)
        location = Location(url=urls[0] or None)
        findings.append(
            Finding(
                rule_id=rule_id,
                scanner="dast.zap",
                title=name,
                severity=severity,
                location=location,
                message=f"ZAP: {name}" + (f" ({len(urls)} URLs)" if len(urls) > 1 else ""),
                fingerprint=make_fingerprint(rule_id, Location(url=key), name),
                evidence=str(first.get("evidence", ""))[:300],
                confidence=CONFIDENCE.get(str(first.get("confidence", "")).lower(), Confidence.MEDIUM),
                cwe=(int(cwe),) if cwe.isdigit() and int(cwe) > 0 else (),
                fix=str(first.get("solution", "")),
                help_uri=str(first.get("reference", "")).split("\n")[0],
                metadata={
                    "zap_plugin_id": str(first.get("pluginId", "")),
                    "instances": len(members),
                    "urls": urls[:5],
                    "source": "zap",
                },
            )
        )
    return [redact_finding(finding) for finding in findings]
