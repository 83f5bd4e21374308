"""The integrations file: trackers and notification channels, as data with a JSON schema.

.. code-block:: yaml

    trackers:
      - {name: github, kind: github, url: https://api.github.com, target: acme/shop,
         token_env: BASTION_GITHUB_TOKEN, min_severity: high, webhook_secret_env: BASTION_GH_HOOK}
    channels:
      - {name: sec-mail, kind: smtp, url: smtp://127.0.0.1:25, to: [sec@example.com]}
      - {name: chat, kind: slack, url_env: BASTION_SLACK_URL, events: [critical, kev]}
      - {name: siem, kind: webhook, url: https://siem.example/hook, secret_env: BASTION_HOOK_KEY}

Secrets (tokens, webhook URLs that carry a key, HMAC keys) are only ever named by environment
variable; the file never holds one.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from bastion.errors import ConfigError
from bastion.findings import Severity
from bastion.structured import read_yaml_mapping

__all__ = [
    "EVENTS",
    "ChannelConfig",
    "ChannelKind",
    "IntegrationsConfig",
    "TrackerConfig",
    "TrackerKind",
    "load_config",
    "parse_config",
    "secret_from_env",
]

EVENTS = ("critical", "sla", "kev")
"""What a channel is told about: a new critical finding, an SLA breach, a known-exploited one."""


class TrackerKind(enum.StrEnum):
    """Issue trackers Bastion talks to over their REST APIs."""

    GITHUB = "github"
    GITLAB = "gitlab"
    JIRA = "jira"


class ChannelKind(enum.StrEnum):
    """Notification channels."""

    SMTP = "smtp"
    SLACK = "slack"
    TEAMS = "teams"
    WEBHOOK = "webhook"


_NAME = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,99}$"}
_ENV = {"type": "string", "pattern": "^[A-Z_][A-Z0-9_]{0,127}$"}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "trackers": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "kind", "url", "target", "token_env"],
                "properties": {
                    "name": _NAME,
                    "kind": {"enum": [k.value for k in TrackerKind]},
                    "url": {"type": "string", "pattern": "^https?://"},
                    "target": {"type": "string", "minLength": 1, "maxLength": 200},
                    "token_env": _ENV,
                    "webhook_secret_env": _ENV,
                    "min_severity": {"enum": [s.value for s in Severity]},
                    "issue_type": {"type": "string", "minLength": 1, "maxLength": 50},
                    "labels": {"type": "array", "items": {"type": "string", "maxLength": 50}},
                },
            },
        },
        "channels": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "kind"],
                "properties": {
                    "name": _NAME,
                    "kind": {"enum": [k.value for k in ChannelKind]},
                    "url": {"type": "string", "pattern": "^(https?|smtp)://"},
                    "url_env": _ENV,
                    "secret_env": _ENV,
                    "to": {"type": "array", "items": {"type": "string", "format": "email"}},
                    "sender": {"type": "string"},
                    "events": {"type": "array", "items": {"enum": list(EVENTS)}, "minItems": 1},
                    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                },
                "oneOf": [{"required": ["url"]}, {"required": ["url_env"]}],
            },
        },
    },
}


@dataclass(frozen=True)
class TrackerConfig:
    """One tracker: where it is, which project/repository, and the variable holding its token."""

    name: str
    kind: TrackerKind
    url: str
    target: str
    """``owner/repo`` (GitHub), project id or ``group/project`` path (GitLab), project key (Jira)."""
    token_env: str
    webhook_secret_env: str | None = None
    min_severity: Severity = Severity.HIGH
    issue_type: str = "Bug"
    labels: tuple[str, ...] = ("security", "bastion")


@dataclass(frozen=True)
class ChannelConfig:
    """One notification channel."""

    name: str
    kind: ChannelKind
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None
    to: tuple[str, ...] = ()
    sender: str = "bastion@localhost"
    events: tuple[str, ...] = EVENTS
    retries: int = 2


@dataclass(frozen=True)
class IntegrationsConfig:
    """Every tracker and channel."""

    trackers: tuple[TrackerConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = field(default_factory=tuple)

    def tracker(self, name: str) -> TrackerConfig | None:
        """The tracker called ``name``, or None."""
        return next((t for t in self.trackers if t.name == name), None)


def parse_config(data: Any, source: str) -> IntegrationsConfig:
    """Validate ``data`` against :data:`SCHEMA`; :class:`ConfigError` names ``source`` and the field."""
    try:
        jsonschema.validate(data, SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise ConfigError(f"{source}: {where}: {exc.message}") from None
    trackers = tuple(
        TrackerConfig(
            name=t["name"],
            kind=TrackerKind(t["kind"]),
            url=t["url"].rstrip("/"),
            target=t["target"],
            token_env=t["token_env"],
            webhook_secret_env=t.get("webhook_secret_env"),
            min_severity=Severity(t.get("min_severity", "high")),
            issue_type=t.get("issue_type", "Bug"),
            labels=tuple(t.get("labels", ("security", "bastion"))),
        )
        for t in data.get("trackers", [])
    )
    channels = tuple(
        ChannelConfig(
            name=c["name"],
            kind=ChannelKind(c["kind"]),
            url=c.get("url"),
            url_env=c.get("url_env"),
            secret_env=c.get("secret_env"),
            to=tuple(c.get("to", ())),
            sender=c.get("sender", "bastion@localhost"),
            events=tuple(c.get("events", EVENTS)),
            retries=c.get("retries", 2),
        )
        for c in data.get("channels", [])
    )
    names = [t.name for t in trackers] + [c.name for c in channels]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{source}: name used twice: {', '.join(duplicates)}")
    return IntegrationsConfig(trackers, channels)


def load_config(path: Path) -> IntegrationsConfig:
    """Read and validate the integrations file at ``path`` (YAML or JSON)."""
    return parse_config(read_yaml_mapping(path, what="integrations file", error=ConfigError), str(path))


def secret_from_env(variable: str, what: str) -> str:
    """The value of ``variable``; :class:`ConfigError` naming the variable (never a value) when unset."""
    value = os.environ.get(variable, "")
    if not value:
        raise ConfigError(f"{what}: environment variable {variable} is not set")
    return value
