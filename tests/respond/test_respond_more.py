"""Every action type plans from a playbook; the breaker pages through its webhook; a target that
vanished is a one-line failure with nothing applied."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from respond_helpers import Clock, FakeNft, alert, write_playbook

from bastion.respond.actions.base import CommandResult, RecordingRunner
from bastion.respond.actions.registry import ActionContext, ActionType
from bastion.respond.engine import Responder
from bastion.respond.ledger import Ledger, Status
from bastion.respond.playbook import Safeguards, load_playbooks

PARAMS = {
    ActionType.NOTIFY_WEBHOOK: {"url": "http://127.0.0.1:1/h"},
    ActionType.NOTIFY_EMAIL: {"sender": "b@example.org", "to": ["soc@example.org"]},
    ActionType.OPEN_TICKET: {"url": "http://127.0.0.1:1/t", "template": '{"s": "{{ alert.entity }}"}'},
    ActionType.AWS_DEACTIVATE_KEY: {"endpoint_url": "http://127.0.0.1:1"},
}


@pytest.mark.parametrize("kind", list(ActionType))
def test_every_action_type_plans_in_dry_run(tmp_path: Path, kind: ActionType) -> None:
    target = {ActionType.BLOCK_IP: "entity", ActionType.QUARANTINE_POD: "metadata.pod"}.get(
        kind, "metadata.subject"
    )
    write_playbook(
        tmp_path / "pb", mode="dry-run",
        actions=[{"type": kind.value, "target": target, "params": PARAMS.get(kind, {})}],
    )  # fmt: skip
    responder = Responder(load_playbooks(tmp_path / "pb"), Safeguards(), Ledger(tmp_path / "l.sqlite"),
                          ActionContext(runner=RecordingRunner()))  # fmt: skip
    drift = {"path": "main.tf", "current": "a = 1\n", "expected": "a = 2\n"}
    [outcome] = responder.handle(alert(subject="eve", pod="shop/web-1", **drift))
    assert outcome.status is Status.PLANNED, outcome.reason
    assert outcome.plan is not None and outcome.plan.steps


def test_breaker_pages_through_its_webhook(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    write_playbook(tmp_path / "pb")
    guards = Safeguards.model_validate(
        {"breaker": {"max_per_minute": 1, "page": {"url": "http://127.0.0.1/page"}}}
    )
    ctx = ActionContext(runner=FakeNft(), http=httpx.Client(transport=httpx.MockTransport(hook)))
    responder = Responder(
        load_playbooks(tmp_path / "pb"), guards, Ledger(tmp_path / "l.sqlite"), ctx, clock=Clock()
    )
    statuses = [responder.handle(alert(entity=f"198.51.100.{n}"))[0].status for n in range(3)]
    assert statuses == [Status.APPLIED, Status.REFUSED, Status.REFUSED]
    assert len(seen) == 1
    assert "circuit breaker tripped" in json.loads(seen[0].content)["alert"]["explanation"]


def test_vanished_target_fails_in_one_line_with_nothing_applied(tmp_path: Path) -> None:
    runner = RecordingRunner({"getent shadow": CommandResult(2)})
    write_playbook(
        tmp_path / "pb", trigger={"detector": ["identity.*"]}, actions=[{"type": "lock-linux-account"}]
    )
    responder = Responder(load_playbooks(tmp_path / "pb"), Safeguards(), Ledger(tmp_path / "l.sqlite"),
                          ActionContext(runner=runner), clock=Clock())  # fmt: skip
    [outcome] = responder.handle(alert(entity="ghost", kind="user"))
    assert outcome.status is Status.FAILED
    assert outcome.reason == "lock-linux-account: user 'ghost' does not exist"
    assert [c[0][0] for c in runner.calls] == ["getent"]  # no usermod, no pkill
