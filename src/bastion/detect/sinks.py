"""Where Alerts go, for every detector (logs, identity, Sigma): a table, JSON lines, a webhook.

Each sink takes :class:`bastion.findings.Alert` values one at a time and is closed once at the end.
:class:`AlertFormat` names the stream formats (``--format``), :func:`open_sinks` builds the sinks
for a format, and :func:`alert_output` is the one writer for an alerts file (``-o FILE``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TextIO, assert_never

import httpx

from bastion.atomic import atomic_open
from bastion.errors import InputError, UsageError
from bastion.findings import Alert

__all__ = [
    "AlertFormat",
    "AlertSink",
    "JsonLinesSink",
    "TableSink",
    "WebhookSink",
    "alert_output",
    "open_sinks",
]


class AlertFormat(StrEnum):
    """How alerts are written to a stream: a human-readable table or one JSON object a line."""

    TABLE = "table"
    JSONL = "jsonl"

    @classmethod
    def parse(cls, text: str) -> AlertFormat:
        """The format called ``text`` (``json`` is accepted for ``jsonl``); :class:`UsageError`
        naming the choices for anything else."""
        if text == "json":
            return cls.JSONL
        try:
            return cls(text)
        except ValueError:
            choices = ", ".join(cls)
            raise UsageError(f"unknown --format {text!r} (choose from {choices})") from None


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


def stream_sink(fmt: AlertFormat, stream: TextIO) -> AlertSink:
    """The sink writing alerts to ``stream`` in ``fmt``."""
    match fmt:
        case AlertFormat.TABLE:
            return TableSink(stream)
        case AlertFormat.JSONL:
            return JsonLinesSink(stream)
        case _:
            assert_never(fmt)


def open_sinks(fmt: AlertFormat, stream: TextIO, webhook: str | None = None) -> list[AlertSink]:
    """The sinks of one run: ``stream`` in ``fmt``, and a webhook when a URL is given."""
    sinks = [stream_sink(fmt, stream)]
    if webhook:
        sinks.append(WebhookSink(webhook))
    return sinks


@contextmanager
def alert_output(path: Path | None, *, streaming: bool) -> Iterator[TextIO]:
    """Where alerts are written: stdout, or the file ``path``.

    A finite run (``streaming=False``) writes the file whole or not at all, through
    :mod:`bastion.atomic`; a run that follows a growing source writes each alert as it is
    raised, so the file can be watched while the run goes on. :class:`InputError` when the
    file cannot be written.
    """
    if path is None:
        yield sys.stdout
        return
    with ExitStack() as stack:
        try:
            stream = stack.enter_context(path.open("w", encoding="utf-8") if streaming else atomic_open(path))
        except OSError as exc:
            raise InputError(f"{path}: cannot write alerts: {exc.strerror or exc}") from None
        yield stream
