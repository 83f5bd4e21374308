"""Every action type, its parameter schema, and how it is built: one explicit table."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
from pydantic import BaseModel

from bastion.respond.actions.base import Action, NotInstalled, Runner, SubprocessRunner
from bastion.respond.actions.params import (
    AwsParams,
    BlockIpParams,
    EmailParams,
    Firewall,
    GraphParams,
    IacRevertParams,
    KubeParams,
    LockAccountParams,
    NoParams,
    TicketParams,
    WebhookParams,
    _Params,
)

if TYPE_CHECKING:
    from bastion.findings import Alert
    from bastion.respond.actions.libnft import NftCommands
    from bastion.store.db import Store

__all__ = ["ActionContext", "ActionType", "build_action", "params_model"]


class ActionType(enum.StrEnum):
    """The action names a playbook may use."""

    BLOCK_IP = "block-ip"
    LOCK_LINUX_ACCOUNT = "lock-linux-account"
    DISABLE_BASTION_USER = "disable-bastion-user"
    REVOKE_BASTION_TOKEN = "revoke-bastion-token"  # bastion: ignore[sast.bandit.B105] an action name
    ENTRA_DISABLE_USER = "entra-disable-user"
    ENTRA_REVOKE_SESSIONS = "entra-revoke-sessions"
    AWS_DEACTIVATE_KEY = "aws-deactivate-key"
    NOTIFY_WEBHOOK = "notify-webhook"
    NOTIFY_EMAIL = "notify-email"
    OPEN_TICKET = "open-ticket"
    IAC_REVERT = "iac-revert"
    QUARANTINE_POD = "quarantine-pod"


_PARAMS: dict[ActionType, type[_Params]] = {
    ActionType.BLOCK_IP: BlockIpParams,
    ActionType.LOCK_LINUX_ACCOUNT: LockAccountParams,
    ActionType.DISABLE_BASTION_USER: NoParams,
    ActionType.REVOKE_BASTION_TOKEN: NoParams,
    ActionType.ENTRA_DISABLE_USER: GraphParams,
    ActionType.ENTRA_REVOKE_SESSIONS: GraphParams,
    ActionType.AWS_DEACTIVATE_KEY: AwsParams,
    ActionType.NOTIFY_WEBHOOK: WebhookParams,
    ActionType.NOTIFY_EMAIL: EmailParams,
    ActionType.OPEN_TICKET: TicketParams,
    ActionType.IAC_REVERT: IacRevertParams,
    ActionType.QUARANTINE_POD: KubeParams,
}


def params_model(action: ActionType) -> type[BaseModel]:
    """The parameter schema of ``action``."""
    return _PARAMS[action]


@dataclass
class ActionContext:
    """The outside world actions use, injected (tests pass recorders and loopback stand-ins)."""

    runner: Runner = field(default_factory=SubprocessRunner)
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10.0))
    store: Callable[[], Store] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)
    installed: dict[str, bool] = field(default_factory=dict)
    """Programs probed once through :attr:`runner` (``nft``: is it there, or does block-ip fall back)."""
    nft_library: NftCommands | None = None
    """libnftables, when the caller loaded it (:func:`~bastion.respond.actions.libnft.load_libnftables`):
    block-ip then runs nft's commands in this process instead of starting the program twice an alert."""

    def has(self, program: str) -> bool:
        """Whether ``program`` runs through :attr:`runner` (probed once with ``--version``)."""
        if self.nft_library is not None and program.rsplit("/", 1)[-1] == "nft":
            return True
        if program not in self.installed:
            try:
                self.runner.run([program, "--version"])
                self.installed[program] = True
            except NotInstalled:
                self.installed[program] = False
        return self.installed[program]


def build_action(action: ActionType, params: Mapping[str, Any], alert: Alert, ctx: ActionContext) -> Action:
    """A ready action for one alert."""
    p = _PARAMS[action].model_validate(dict(params))
    match action:
        case ActionType.BLOCK_IP:
            from bastion.respond.actions.iptables import IptablesBlockIp
            from bastion.respond.actions.nft import NftBlockIp

            b = cast(BlockIpParams, p)
            if b.firewall is Firewall.IPTABLES or (b.firewall is Firewall.AUTO and not ctx.has(b.nft)):
                return IptablesBlockIp(ctx.runner, b.iptables, b.ip6tables)
            if ctx.nft_library is not None:
                from bastion.respond.actions.libnft import LibNftRunner

                return NftBlockIp(LibNftRunner(ctx.nft_library, ctx.runner, b.nft), b.timeout_s, b.nft)
            return NftBlockIp(ctx.runner, b.timeout_s, b.nft)
        case ActionType.LOCK_LINUX_ACCOUNT:
            from bastion.respond.actions.linux import LockLinuxAccount

            return LockLinuxAccount(ctx.runner, cast(LockAccountParams, p).kill_sessions)
        case ActionType.DISABLE_BASTION_USER | ActionType.REVOKE_BASTION_TOKEN:
            from bastion.respond.actions.accounts import DisableBastionUser, RevokeBastionToken

            cls = DisableBastionUser if action is ActionType.DISABLE_BASTION_USER else RevokeBastionToken
            return cls(ctx.store)
        case ActionType.ENTRA_DISABLE_USER | ActionType.ENTRA_REVOKE_SESSIONS:
            from bastion.respond.actions.cloud import EntraDisableUser, EntraRevokeSessions

            graph = EntraDisableUser if action is ActionType.ENTRA_DISABLE_USER else EntraRevokeSessions
            g = cast(GraphParams, p)
            return graph(ctx.http, g.graph_url, ctx.env.get(g.token_env, ""))
        case ActionType.AWS_DEACTIVATE_KEY:
            from bastion.respond.actions.cloud import AwsDeactivateKey

            a = cast(AwsParams, p)
            return AwsDeactivateKey(a.endpoint_url, a.region)
        case ActionType.NOTIFY_WEBHOOK | ActionType.NOTIFY_EMAIL | ActionType.OPEN_TICKET:
            from bastion.respond.actions.notify import build_notifier

            return build_notifier(p, alert, ctx)
        case ActionType.QUARANTINE_POD:
            from bastion.respond.actions.kube import QuarantinePod

            k = cast(KubeParams, p)
            return QuarantinePod(k.api_url, ctx.env.get(k.token_env, ""))
        case ActionType.IAC_REVERT:
            from bastion.respond.actions.iac import IacRevert

            return IacRevert(ctx.base_dir / cast(IacRevertParams, p).out_dir, alert)
