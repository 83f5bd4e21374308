"""Where Alerts go, for every detector (logs, identity, Sigma): a table, JSON lines, a webhook.

Each sink takes :class:`bastion.findings.Alert` values one at a time and is closed once at the end.
"""

from __future__ import annotations

import json
from typing import Protocol, TextIO

import httpx

from bastion.errors import InputError
from bastion.findings import Alert

__all__ = ["AlertSink", "JsonLinesSink", "TableSink", "WebhookSink"]


class AlertSink(Protocol):
    """Where alerts go."""

    def emit(self, alert: Alert) -> None:
        """Deliver one alert."""

    def close(self) -> None:
        """Finish."""


class TableSink:
    """Human-readable alerts, one block each."""

    def __init__(self, stream: TextIO) -> None:
        """Write to ``stream``."""
        self.stream = stream
        self.count = 0

    def emit(self, alert: Alert) -> None:
        """Print one alert."""
        self.count += 1
        self.stream.write(
            f"[{alert.severity.value.upper()}] {alert.detector} {alert.entity_kind}={alert.entity} "
            f"score={alert.score:.3g} {alert.window_start.isoformat()}..{alert.window_end.isoformat()}"
            f"{' ATT&CK ' + ','.join(alert.techniques) if alert.techniques else ''}\n"
            f"  {alert.explanation}\n"
        )
        for line in alert.evidence:
            self.stream.write(f"    | {line[:300]}\n")

    def close(self) -> None:
        """Print the summary line."""
        self.stream.write(f"{self.count} alert(s)\n")


class JsonLinesSink:
    """One JSON object (Alert.to_dict) a line."""

    def __init__(self, stream: TextIO) -> None:
        """Write to ``stream``."""
        self.stream = stream
        self.count = 0

    def emit(self, alert: Alert) -> None:
        """Write one alert."""
        self.count += 1
        self.stream.write(json.dumps(alert.to_dict()) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Nothing to finish."""


class WebhookSink:
    """POSTs each alert as JSON to a URL; a failed delivery is an InputError naming the URL."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        """Deliver to ``url`` (http or https)."""
        if not url.startswith(("http://", "https://")):
            raise InputError(f"{url}: webhook URL must start with http:// or https://")
        self.url = url
        self.client = httpx.Client(timeout=timeout)
        self.count = 0

    def emit(self, alert: Alert) -> None:
        """Deliver one alert."""
        try:
            response = self.client.post(self.url, json=alert.to_dict())
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise InputError(f"{self.url}: webhook delivery failed ({exc})") from None
        self.count += 1

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
