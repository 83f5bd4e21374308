"""Each action type's parameter schema (pydantic, strict): what a playbook may set per action."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AwsParams",
    "BlockIpParams",
    "EmailParams",
    "Firewall",
    "GraphParams",
    "IacRevertParams",
    "KubeParams",
    "LockAccountParams",
    "NoParams",
    "TicketParams",
    "WebhookFormat",
    "WebhookParams",
]


class _Params(BaseModel):
    """Parameters of one action: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Firewall(enum.StrEnum):
    """Which firewall ``block-ip`` drives."""

    AUTO = "auto"
    """nftables where ``nft`` is installed, else iptables."""
    NFT = "nft"
    IPTABLES = "iptables"


class BlockIpParams(_Params):
    """``block-ip``."""

    timeout_s: int = Field(default=3600, gt=0, le=30 * 86400)
    """nftables' element timeout; with iptables (no rule timeout) the playbook's TTL lifts the block."""
    firewall: Firewall = Firewall.AUTO
    nft: str = "nft"
    iptables: str = "iptables"
    ip6tables: str = "ip6tables"


class LockAccountParams(_Params):
    """``lock-linux-account``."""

    kill_sessions: bool = True


class NoParams(_Params):
    """Actions without parameters."""


class GraphParams(_Params):
    """Entra ID actions (Microsoft Graph REST)."""

    graph_url: str = "https://graph.microsoft.com/v1.0"
    token_env: str = "BASTION_GRAPH_TOKEN"


class AwsParams(_Params):
    """``aws-deactivate-key``."""

    endpoint_url: str | None = None
    region: str = "us-east-1"


class WebhookFormat(enum.StrEnum):
    """Payload shapes of ``notify-webhook``."""

    GENERIC = "generic"
    SLACK = "slack"
    TEAMS = "teams"


class WebhookParams(_Params):
    """``notify-webhook`` (also the breaker's page)."""

    url: str
    format: WebhookFormat = WebhookFormat.GENERIC
    secret_env: str | None = None
    """Environment variable holding the HMAC key; the body is signed with HMAC-SHA256."""


class EmailParams(_Params):
    """``notify-email``."""

    host: str = "127.0.0.1"
    port: int = Field(default=25, gt=0, lt=65536)
    sender: str
    to: tuple[str, ...] = Field(min_length=1)
    subject: str = "[bastion] {severity} alert on {entity}"


class TicketParams(_Params):
    """``open-ticket``: a templated webhook."""

    url: str
    template: str
    """A Jinja2 template (sandboxed) rendered with ``alert`` to the JSON body."""
    secret_env: str | None = None


class IacRevertParams(_Params):
    """``iac-revert``: write a patch and a pull-request description, never apply them."""

    out_dir: str = "bastion-changes"


class KubeParams(_Params):
    """``quarantine-pod`` (the target is ``namespace/pod``)."""

    api_url: str = "https://kubernetes.default.svc"
    token_env: str = "BASTION_KUBE_TOKEN"
