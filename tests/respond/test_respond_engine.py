"""The safeguards hold: dry-run default, allow-lists, breaker, approval, TTL undo, kill switch,
audit chain, crash recovery; and no partial state on bad requests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from respond_helpers import Clock, FakeNft, alert, write_playbook

from bastion.errors import InputError
from bastion.findings import Severity
from bastion.respond.actions.registry import ActionContext
from bastion.respond.engine import Responder
from bastion.respond.ledger import Ledger, Status
from bastion.respond.playbook import Safeguards, load_playbooks


def make(
    tmp_path: Path,
    nft: FakeNft | None = None,
    clock: Clock | None = None,
    safeguards: dict[str, Any] | None = None,
    requested_by: str = "respond-bot",
    **playbook: Any,
) -> tuple[Responder, FakeNft, Clock]:
    nft = nft or FakeNft()
    clock = clock or Clock()
    write_playbook(tmp_path / "pb", **playbook)
    pages: list[str] = []
    responder = Responder(
        load_playbooks(tmp_path / "pb"),
        Safeguards.model_validate(safeguards or {}),
        Ledger(tmp_path / "ledger.sqlite"),
        ActionContext(runner=nft),
        clock=clock,
        requested_by=requested_by,
        on_page=pages.append,
    )
    responder.pages = pages  # type: ignore[attr-defined]
    return responder, nft, clock


def test_dry_run_plans_and_changes_nothing(tmp_path: Path) -> None:
    responder, nft, _ = make(tmp_path, mode="dry-run")
    [outcome] = responder.handle(alert())
    assert outcome.status is Status.PLANNED
    assert outcome.plan is not None and '"val": "203.0.113.7"' in outcome.plan.steps[-1]
    assert nft.tables == {}
    assert [e.event for e in responder.ledger.entries()] == ["plan"]


def test_active_apply_then_undo_restores_ruleset(tmp_path: Path) -> None:
    responder, nft, _ = make(tmp_path)
    before = nft.ruleset()
    [outcome] = responder.handle(alert())
    assert outcome.status is Status.APPLIED
    assert nft.tables["inet bastion"]["sets"]["blocked4"] == {"203.0.113.7": 600}
    assert [e.event for e in responder.ledger.entries()] == ["intent", "applied"]
    responder.undo(outcome.action_id, "alice")
    assert nft.ruleset() == before
    with pytest.raises(InputError, match="already undone"):
        responder.undo(outcome.action_id, "alice")
    assert responder.ledger.verify() is None


def test_same_target_is_not_blocked_twice(tmp_path: Path) -> None:
    responder, _, _ = make(tmp_path)
    assert responder.handle(alert())[0].status is Status.APPLIED
    second = responder.handle(alert())[0]
    assert (second.status, second.reason) == (Status.REFUSED, "already in force")


@pytest.mark.parametrize("entity", ["::ffff:10.0.0.7", "10.0.0.0/7", "192.0.2.10"])
def test_allow_list_checked_before_apply(tmp_path: Path, entity: str) -> None:
    responder, nft, _ = make(tmp_path, safeguards={"allow_ips": ["10.0.0.0/8", "192.0.2.10"]})
    [outcome] = responder.handle(alert(entity=entity))
    assert outcome.status is Status.REFUSED
    assert "allow-listed" in outcome.reason
    assert nft.tables == {}


def test_allow_listed_host_is_not_touched(tmp_path: Path) -> None:
    responder, nft, _ = make(tmp_path, safeguards={"allow_hosts": ["monitor.example.org"]})
    [outcome] = responder.handle(alert(host="MONITOR.example.org"))
    assert outcome.status is Status.REFUSED
    assert nft.tables == {}


def test_flood_of_10000_alerts_trips_the_breaker_at_the_count(tmp_path: Path) -> None:
    responder, nft, clock = make(
        tmp_path, safeguards={"breaker": {"max_per_minute": 25, "max_per_hour": 1000}}
    )
    statuses = []
    for n in range(10_000):
        ip = f"198.{18 + n // 65536}.{(n // 256) % 256}.{n % 256}"
        statuses.extend(o.status for o in responder.handle(alert(entity=ip)))
        if n % 2000 == 0:
            clock.advance(0.001)  # all within one minute
    assert statuses.count(Status.APPLIED) == 25
    assert statuses[:25] == [Status.APPLIED] * 25
    assert set(statuses[25:]) == {Status.REFUSED}
    assert len(nft.tables["inet bastion"]["sets"]["blocked4"]) == 25
    assert responder.breaker == "25 actions in a minute"
    assert len(responder.pages) == 1  # type: ignore[attr-defined]
    clock.advance(120)  # still open after the minute: only a person closes it
    assert responder.handle(alert(entity="198.51.100.99"))[0].reason.startswith("circuit breaker is open")
    responder.reset_breaker("alice")
    assert responder.handle(alert(entity="198.51.100.99"))[0].status is Status.APPLIED


def test_per_playbook_limit_refuses_without_tripping(tmp_path: Path) -> None:
    responder, _, _ = make(tmp_path, limits={"per_minute": 2, "per_hour": 10})
    outcomes = [responder.handle(alert(entity=f"198.51.100.{n}"))[0] for n in range(4)]
    assert [o.status for o in outcomes] == [Status.APPLIED, Status.APPLIED, Status.REFUSED, Status.REFUSED]
    assert "2 actions per minute" in outcomes[2].reason
    assert responder.breaker == ""


def test_kill_switch_stops_everything(tmp_path: Path) -> None:
    responder, nft, _ = make(tmp_path)
    responder.set_kill_switch(True, "alice")
    [outcome] = responder.handle(alert())
    assert (outcome.status, outcome.reason) == (Status.REFUSED, "kill switch is on")
    assert nft.tables == {}
    responder.set_kill_switch(False, "alice")
    assert responder.handle(alert(entity="198.51.100.1"))[0].status is Status.APPLIED


APPROVAL = {"approval": {"at_or_above": "high", "expires_s": 600}}


@pytest.mark.parametrize("approver", ["respond-bot", "RESPOND-BOT", "rеspond-bot"])  # noqa: RUF001
def test_approval_by_the_requester_is_refused(tmp_path: Path, approver: str) -> None:
    responder, nft, _ = make(tmp_path, **APPROVAL)
    [outcome] = responder.handle(alert())
    assert outcome.status is Status.PENDING
    assert nft.tables == {}
    with pytest.raises(InputError, match="cannot approve it"):
        responder.approve(outcome.action_id, approver)
    assert nft.tables == {}
    record = responder.ledger.get(outcome.action_id)
    assert record is not None and record.status is Status.PENDING


def test_approval_by_another_person_applies(tmp_path: Path) -> None:
    responder, nft, _ = make(tmp_path, **APPROVAL)
    [outcome] = responder.handle(alert())
    assert responder.handle(alert(severity=Severity.MEDIUM))[0].status is Status.REFUSED  # pending already
    approved = responder.approve(outcome.action_id[:8], "alice")
    assert approved.status is Status.APPLIED
    assert "203.0.113.7" in nft.tables["inet bastion"]["sets"]["blocked4"]
    events = [(e.event, e.actor) for e in responder.ledger.entries(outcome.action_id)]
    assert events == [
        ("approval-requested", "respond-bot"),
        ("approved", "alice"),
        ("intent", "respond-bot"),
        ("applied", "bastion-respond"),
    ]


def test_approval_expires(tmp_path: Path) -> None:
    responder, nft, clock = make(tmp_path, **APPROVAL)
    [outcome] = responder.handle(alert())
    clock.advance(601)
    with pytest.raises(InputError, match="expired"):
        responder.approve(outcome.action_id, "alice")
    assert nft.tables == {}
    record = responder.ledger.get(outcome.action_id)
    assert record is not None and record.status is Status.REFUSED


def test_listed_action_needs_approval_even_when_low(tmp_path: Path) -> None:
    responder, _, _ = make(tmp_path, approval={"actions": ["block-ip"]})
    assert responder.handle(alert(severity=Severity.LOW))[0].status is Status.PENDING


def test_ttl_undo_unless_confirmed(tmp_path: Path) -> None:
    responder, nft, clock = make(tmp_path, ttl_s=60)
    before = nft.ruleset()
    first = responder.handle(alert(entity="198.51.100.1"))[0]
    kept = responder.handle(alert(entity="198.51.100.2"))[0]
    responder.confirm(kept.action_id, "alice")
    clock.advance(30)
    assert responder.expire() == []
    clock.advance(31)
    [expired] = responder.expire()
    assert (expired.action_id, expired.status) == (first.action_id, Status.UNDONE)
    assert set(nft.tables["inet bastion"]["sets"]["blocked4"]) == {"198.51.100.2"}
    responder.undo(kept.action_id, "alice")
    assert nft.ruleset() == before


def test_failed_apply_leaves_no_partial_state(tmp_path: Path) -> None:
    responder, nft, _ = make(tmp_path, nft=FakeNft(fail_apply=True))
    [outcome] = responder.handle(alert())
    assert outcome.status is Status.FAILED
    assert "Operation not permitted" in outcome.reason
    assert nft.tables == {}
    with pytest.raises(InputError, match="only an applied action can be undone"):
        responder.undo(outcome.action_id, "alice")


def test_unknown_action_id(tmp_path: Path) -> None:
    responder, _, _ = make(tmp_path)
    with pytest.raises(InputError, match="no such action"):
        responder.undo("deadbeefdeadbeef", "alice")
    with pytest.raises(InputError, match="no applied action"):
        responder.confirm("deadbeefdeadbeef", "alice")


def test_missing_target_field_is_refused(tmp_path: Path) -> None:
    responder, _, _ = make(tmp_path, actions=[{"type": "block-ip", "target": "metadata.src_ip"}])
    [outcome] = responder.handle(alert(entity="alice", kind="user"))
    assert (outcome.status, outcome.reason) == (Status.REFUSED, "alert has no metadata.src_ip")


class Crash(BaseException):
    """Stands for the process dying (kill -9, power loss) between apply and the audit write."""


def test_crash_between_apply_and_audit_is_recovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    responder, nft, clock = make(tmp_path)

    def die(*_: Any, **__: Any) -> None:
        raise Crash

    monkeypatch.setattr(responder, "_record_applied", die)
    with pytest.raises(Crash):
        responder.handle(alert())
    assert "203.0.113.7" in nft.tables["inet bastion"]["sets"]["blocked4"]  # applied, not recorded
    monkeypatch.undo()
    restarted, _, _ = make(tmp_path, nft=nft, clock=clock)
    [found] = restarted.recover()
    assert found.status is Status.APPLIED
    assert "recovered" in found.reason
    assert restarted.ledger.entries()[-1].event == "recovered"
    restarted.undo(found.action_id, "alice")
    assert "inet bastion" not in nft.tables or not nft.tables["inet bastion"]["sets"]["blocked4"]


def test_crash_before_apply_is_recorded_as_not_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    responder, nft, clock = make(tmp_path)
    from bastion.respond.actions import nft as nft_module

    def die(*_: Any, **__: Any) -> None:
        raise Crash

    monkeypatch.setattr(nft_module.NftBlockIp, "apply", die)
    with pytest.raises(Crash):
        responder.handle(alert())
    monkeypatch.undo()
    restarted, _, _ = make(tmp_path, nft=nft, clock=clock)
    [found] = restarted.recover()
    assert found.status is Status.FAILED
    assert "not applied" in found.reason


def test_audit_log_is_append_only_and_tamper_evident(tmp_path: Path) -> None:
    responder, _, _ = make(tmp_path)
    responder.handle(alert())
    responder.set_kill_switch(True, "alice")
    assert responder.ledger.verify() is None
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        responder.ledger.db.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        responder.ledger.db.execute("DELETE FROM audit WHERE seq = 2")
    # someone with the file drops the triggers and rewrites history
    responder.ledger.db.execute("DROP TRIGGER audit_no_update")
    responder.ledger.db.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
    assert responder.ledger.verify() == 2
    responder.ledger.db.execute("DROP TRIGGER audit_no_delete")
    responder.ledger.db.execute("UPDATE audit SET actor = 'respond-bot' WHERE seq = 2")
    responder.ledger.db.execute("DELETE FROM audit WHERE seq = 1")
    assert responder.ledger.verify() == 1


def test_two_processes_cannot_both_take_the_last_slot(tmp_path: Path) -> None:
    other_done: list[Status] = []

    class Racing(FakeNft):
        def run(self, argv: Any, stdin: str | None = None) -> Any:
            if argv[1] == "get" and not other_done and "198.51.100.1" in argv[-1]:
                other, _, _ = make(tmp_path / "other", nft=self, limits={"per_minute": 1, "per_hour": 10})
                other.ledger.close()
                other.ledger = Ledger(tmp_path / "ledger.sqlite")  # the same ledger, another connection
                other_done.append(other.handle(alert(entity="198.51.100.2"))[0].status)
            return super().run(argv, stdin)

    responder, nft, _ = make(tmp_path, nft=Racing(), limits={"per_minute": 1, "per_hour": 10})
    [outcome] = responder.handle(alert(entity="198.51.100.1"))
    assert other_done == [Status.APPLIED]
    assert (outcome.status, outcome.reason) == (Status.REFUSED, "playbook pb reached 1 actions per minute")
    assert set(nft.tables["inet bastion"]["sets"]["blocked4"]) == {"198.51.100.2"}


def test_ttl_undo_that_fails_is_retried_later_not_on_every_alert(tmp_path: Path) -> None:
    responder, nft, clock = make(tmp_path, ttl_s=60)
    applied = responder.handle(alert())[0]
    nft.fail_apply = True  # the delete batch fails from now on
    clock.advance(61)
    [failed] = responder.expire()
    assert failed.status is Status.APPLIED and "undo failed" in failed.reason
    assert responder.expire() == []  # not again at once
    nft.fail_apply = False
    clock.advance(301)
    [done] = responder.expire()
    assert (done.action_id, done.status) == (applied.action_id, Status.UNDONE)
    assert [e.event for e in responder.ledger.entries(applied.action_id)][-2:] == ["undo-failed", "undone"]
