"""The responder: every action, automatic or approved, passes the safeguards here and only here.

Order: allow-list (before anything else looks at the target); dry-run stops at the plan; approval
(a pending request another person must approve before it expires); then :meth:`Responder._gate`:
kill switch, circuit breaker, blast-radius limits (per playbook; the total trips the breaker and
pages a human), read once cheaply and again under the ledger's write lock together with the intent
record, so two processes cannot both take the last slot; apply; the applied record with its undo
time. Every step is written to the audit chain.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bastion.errors import InputError
from bastion.findings import Alert
from bastion.respond.actions.base import Action, ActionError, Plan, TargetGone, TargetKind
from bastion.respond.actions.params import WebhookParams
from bastion.respond.actions.registry import ActionContext, ActionType, build_action
from bastion.respond.ledger import ActionRecord, Ledger, Status
from bastion.respond.playbook import ActionSpec, Mode, Playbook, Safeguards
from bastion.respond.safeguards import AllowList, user_skeleton

__all__ = ["Outcome", "Responder"]

KILL_SWITCH = "kill_switch"
BREAKER = "breaker"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
RETRY_UNDO = timedelta(minutes=5)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Outcome:
    """What happened to one action for one alert (or one command)."""

    action_id: str
    playbook: str
    action: str
    target: str
    status: Status
    reason: str = ""
    plan: Plan | None = None


@dataclass
class Responder:
    """Runs playbooks on alerts behind the safeguards; constructed by the CLI, passed down."""

    playbooks: list[Playbook]
    safeguards: Safeguards
    ledger: Ledger
    ctx: ActionContext = field(default_factory=ActionContext)
    clock: Callable[[], datetime] = _utcnow
    requested_by: str = "bastion-respond"
    on_page: Callable[[str], None] | None = None
    allow: AllowList = field(init=False)

    def __post_init__(self) -> None:
        self.allow = self.safeguards.allow_list()
        self._books = {b.id: b for b in self.playbooks}

    # state ------------------------------------------------------------------------------
    @property
    def kill_switch(self) -> bool:
        """Whether every automatic action is stopped by hand."""
        return self.ledger.setting(KILL_SWITCH) == "on"

    @property
    def breaker(self) -> str:
        """Why the breaker tripped ('' when closed)."""
        return self.ledger.setting(BREAKER)

    def set_kill_switch(self, on: bool, actor: str) -> None:
        """Turn the kill switch on or off (audited)."""
        with self.ledger.transaction():
            self.ledger.set_setting(KILL_SWITCH, "on" if on else "off")
            self.ledger.audit(self.clock(), "kill-switch", "-", actor, {"on": on})

    def reset_breaker(self, actor: str) -> None:
        """Close the circuit breaker (audited)."""
        with self.ledger.transaction():
            self.ledger.set_setting(BREAKER, "")
            self.ledger.audit(self.clock(), "breaker-reset", "-", actor, {})

    # alerts -----------------------------------------------------------------------------
    def handle(self, alert: Alert, *, dry_run: bool = False) -> list[Outcome]:
        """Run every playbook the alert triggers (``dry_run`` plans even active playbooks)."""
        outcomes: list[Outcome] = []
        for book in self.playbooks:
            if not book.trigger.matches(alert):
                continue
            dry = dry_run or book.mode is Mode.DRY_RUN
            outcomes.extend(
                self._one(book, spec, alert, dry, target)
                for spec in book.actions
                for target in spec.targets_of(alert)
            )
        return outcomes

    def _one(
        self, book: Playbook, spec: ActionSpec, alert: Alert, dry_run: bool, target: str | None
    ) -> Outcome:
        now = self.clock()
        record = ActionRecord(
            id=secrets.token_hex(8),
            playbook=book.id,
            action=spec.type.value,
            target=target or "",
            status=Status.PLANNED,
            requested_by=self.requested_by,
            created_at=now,
            applied_at=None,
            undo_at=None,
            approval_expires_at=None,
            confirmed=False,
            saved={},
            alert=alert.to_dict(),
            before="",
            spec=spec.model_dump(mode="json"),
        )
        if target is None:
            return self._close(record, Status.REFUSED, f"alert has no {spec.target}", event="refused")
        try:
            action = build_action(spec.type, spec.params, alert, self.ctx)
            refusal = self._protected(action, target, alert)  # before anything else looks at it
            if refusal:
                return self._close(record, Status.REFUSED, refusal, event="refused")
            plan = action.plan(target)
        except ActionError as exc:
            return self._close(record, Status.FAILED, str(exc), event="plan-failed")
        if dry_run:
            return self._close(record, Status.PLANNED, "dry-run", plan=plan, event="plan")
        if self.ledger.in_force(book.id, spec.type.value, target) is not None:
            return Outcome(
                record.id, book.id, spec.type.value, target, Status.REFUSED, "already in force", plan
            )
        if book.approval.required(alert, spec.type):
            expires = now + timedelta(seconds=book.approval.expires_s)
            pending = ActionRecord(
                **{**record.__dict__, "status": Status.PENDING, "approval_expires_at": expires}
            )
            return self._close(
                pending,
                Status.PENDING,
                f"needs approval by someone other than {self.requested_by}",
                plan=plan,
                event="approval-requested",
            )
        return self._execute(book, record, action, plan, fresh=True)

    def _close(
        self, record: ActionRecord, status: Status, reason: str, *, plan: Plan | None = None, event: str
    ) -> Outcome:
        with self.ledger.transaction():
            self.ledger.insert(ActionRecord(**{**record.__dict__, "status": status}))
            detail: dict[str, Any] = {"reason": reason, "target": record.target, "action": record.action}
            if plan is not None:
                detail["plan"] = list(plan.steps)
            self.ledger.audit(self.clock(), event, record.id, record.requested_by, detail)
        return Outcome(record.id, record.playbook, record.action, record.target, status, reason, plan)

    # the gate ---------------------------------------------------------------------------
    def _protected(self, action: Action, target: str, alert: Alert) -> str | None:
        reason = self.allow.protects(action.kind, target)
        if reason is None and action.kind is not TargetKind.NONE:
            host = alert.entity if alert.entity_kind == "host" else alert.metadata.get("host")
            if isinstance(host, str) and host:
                reason = self.allow.protects(TargetKind.HOST, host)
        return reason

    def _gate(self, book: Playbook, now: datetime) -> tuple[str, str] | None:
        """Why no action may be applied now: (reason, why the breaker trips or ''), or None.
        Reads the kill switch, the breaker and the counts of applied actions from the ledger."""
        if self.kill_switch:
            return "kill switch is on", ""
        if self.breaker:
            return f"circuit breaker is open ({self.breaker})", ""
        if self.ledger.applied_since(now - MINUTE, book.id) >= book.limits.per_minute:
            return f"playbook {book.id} reached {book.limits.per_minute} actions per minute", ""
        if self.ledger.applied_since(now - HOUR, book.id) >= book.limits.per_hour:
            return f"playbook {book.id} reached {book.limits.per_hour} actions per hour", ""
        limits = self.safeguards.breaker
        for window, cap, name in (
            (MINUTE, limits.max_per_minute, "minute"),
            (HOUR, limits.max_per_hour, "hour"),
        ):
            if self.ledger.applied_since(now - window, None) >= cap:
                why = f"{cap} actions in a {name}"
                return f"circuit breaker tripped ({why})", why
        return None

    def _open_breaker(self, why: str) -> None:
        """Record the trip; call inside a ledger transaction, then :meth:`_page` after it."""
        self.ledger.set_setting(BREAKER, why)
        self.ledger.audit(self.clock(), "breaker-tripped", "-", "bastion-respond", {"reason": why})

    def _page(self, why: str) -> None:
        message = f"bastion respond: circuit breaker tripped ({why}); every automatic action is stopped"
        if self.on_page is not None:
            self.on_page(message)
        page = self.safeguards.breaker.page
        if page is not None:
            try:
                params = WebhookParams.model_validate(page)
                alert = Alert.from_dict(
                    {
                        "detector": "respond.breaker",
                        "severity": "critical",
                        "score": 1.0,
                        "entity": "respond",
                        "entity_kind": "service",
                        "window_start": self.clock().isoformat(),
                        "window_end": self.clock().isoformat(),
                        "explanation": message,
                    }
                )
                build_action(ActionType.NOTIFY_WEBHOOK, params.model_dump(), alert, self.ctx).apply("respond")
            except (ActionError, ValueError) as exc:
                with self.ledger.transaction():
                    self.ledger.audit(
                        self.clock(), "page-failed", "-", "bastion-respond", {"reason": str(exc)}
                    )

    def _execute(
        self, book: Playbook, record: ActionRecord, action: Action, plan: Plan, *, fresh: bool
    ) -> Outcome:
        alert = Alert.from_dict(record.alert)
        refusal = self._protected(action, record.target, alert)
        if refusal is None:
            gate = self._gate(book, self.clock())  # cheap first look: a flood stops here
            if gate is not None:
                refusal, why = gate
                if why:
                    with self.ledger.transaction():
                        self._open_breaker(why)
                    self._page(why)
        if refusal:
            return self._refuse(record, refusal, plan, fresh)
        try:
            before = action.check(record.target)
        except ActionError as exc:
            if fresh:
                return self._close(record, Status.FAILED, str(exc), plan=plan, event="apply-failed")
            return self._transition(record, Status.FAILED, "apply-failed", str(exc), plan)
        now = self.clock()
        with self.ledger.transaction():  # under the write lock: the gate again, then the intent record
            gate = self._gate(book, now)
            if gate is None:
                if fresh:
                    self.ledger.insert(
                        ActionRecord(
                            **{
                                **record.__dict__,
                                "status": Status.INTENT,
                                "applied_at": now,
                                "before": before,
                            }
                        )
                    )
                else:
                    self.ledger.update(record.id, status=Status.INTENT, applied_at=now, before=before)
                detail = {"target": record.target, "action": record.action, "before": before}
                self.ledger.audit(
                    now, "intent", record.id, record.requested_by, {**detail, "plan": list(plan.steps)}
                )
            elif gate[1]:
                self._open_breaker(gate[1])
        if gate is not None:  # another process got there between the first look and the lock
            if gate[1]:
                self._page(gate[1])
            return self._refuse(record, gate[0], plan, fresh)
        try:
            saved = action.apply(record.target)
        except ActionError as exc:
            return self._transition(record, Status.FAILED, "apply-failed", str(exc), plan)
        undo_at = now + timedelta(seconds=book.ttl_s) if book.ttl_s and plan.reversible else None
        self._record_applied(record.id, saved, undo_at)
        return Outcome(
            record.id, record.playbook, record.action, record.target, Status.APPLIED, "applied", plan
        )

    def _refuse(self, record: ActionRecord, reason: str, plan: Plan, fresh: bool) -> Outcome:
        if fresh:
            return self._close(record, Status.REFUSED, reason, plan=plan, event="refused")
        return self._transition(record, Status.REFUSED, "refused", reason, plan)

    def _record_applied(self, action_id: str, saved: dict[str, Any], undo_at: datetime | None) -> None:
        with self.ledger.transaction():
            self.ledger.update(action_id, status=Status.APPLIED, saved=saved, undo_at=undo_at)
            self.ledger.audit(
                self.clock(),
                "applied",
                action_id,
                "bastion-respond",
                {"saved": saved, "undo_at": undo_at.isoformat() if undo_at else None},
            )

    def _transition(
        self,
        record: ActionRecord,
        status: Status,
        event: str,
        reason: str,
        plan: Plan | None = None,
        actor: str = "bastion-respond",
    ) -> Outcome:
        with self.ledger.transaction():
            self.ledger.update(record.id, status=status)
            self.ledger.audit(self.clock(), event, record.id, actor, {"reason": reason})
        return Outcome(record.id, record.playbook, record.action, record.target, status, reason, plan)

    # commands ---------------------------------------------------------------------------
    def _load(self, action_id: str) -> tuple[ActionRecord, Playbook | None, Action]:
        record = self.ledger.get(action_id)
        if record is None:
            raise InputError(f"action {action_id!r}: no such action in {self.ledger.path}")
        spec = ActionSpec.model_validate(record.spec)
        action = build_action(spec.type, spec.params, Alert.from_dict(record.alert), self.ctx)
        return record, self._books.get(record.playbook), action

    def approve(self, action_id: str, approver: str) -> Outcome:
        """Approve a pending action as ``approver`` (not the requester) and apply it through the gate."""
        record, book, action = self._load(action_id)
        if record.status is not Status.PENDING:
            raise InputError(f"action {record.id}: is {record.status.value}, not pending approval")
        if user_skeleton(approver) == user_skeleton(record.requested_by):
            with self.ledger.transaction():
                self.ledger.audit(
                    self.clock(),
                    "approval-refused",
                    record.id,
                    approver,
                    {"reason": "approver is the requester"},
                )
            raise InputError(
                f"action {record.id}: {approver!r} requested it and cannot approve it; another person must"
            )
        if record.approval_expires_at is not None and self.clock() >= record.approval_expires_at:
            self._transition(record, Status.REFUSED, "approval-expired", "approval expired", actor=approver)
            raise InputError(
                f"action {record.id}: approval request expired {record.approval_expires_at:%Y-%m-%d %H:%M}"
            )
        if book is None:
            raise InputError(
                f"action {record.id}: playbook {record.playbook!r} is not loaded (pass its --playbooks DIR)"
            )
        with self.ledger.transaction():
            self.ledger.audit(
                self.clock(), "approved", record.id, approver, {"requested_by": record.requested_by}
            )
        return self._execute(book, record, action, action.plan(record.target), fresh=False)

    def deny(self, action_id: str, actor: str, reason: str = "") -> Outcome:
        """Refuse a pending action (anyone may say no, the requester included); nothing is applied."""
        record = self.ledger.get(action_id)
        if record is None:
            raise InputError(f"action {action_id!r}: no such action in {self.ledger.path}")
        if record.status is not Status.PENDING:
            raise InputError(f"action {record.id}: is {record.status.value}, not pending approval")
        why = f"denied by {actor}" + (f": {reason}" if reason else "")
        return self._transition(record, Status.REFUSED, "denied", why, actor=actor)

    def undo(self, action_id: str, actor: str) -> Outcome:
        """Put an applied action's target back as it was; one line and no change when it cannot."""
        record, _, action = self._load(action_id)
        if record.status is Status.UNDONE:
            raise InputError(f"action {record.id}: already undone")
        if record.status is not Status.APPLIED:
            raise InputError(
                f"action {record.id}: is {record.status.value}; only an applied action can be undone"
            )
        try:
            action.undo(record.target, record.saved)
        except ActionError as exc:
            with self.ledger.transaction():
                self.ledger.audit(self.clock(), "undo-failed", record.id, actor, {"reason": str(exc)})
            raise InputError(f"action {record.id}: undo failed: {exc}") from None
        return self._transition(record, Status.UNDONE, "undone", f"undone by {actor}", actor=actor)

    def confirm(self, action_id: str, actor: str) -> Outcome:
        """Keep an applied action: no automatic undo after its TTL."""
        record = self.ledger.get(action_id)
        if record is None or record.status is not Status.APPLIED:
            raise InputError(f"action {action_id!r}: no applied action with this id")
        with self.ledger.transaction():
            self.ledger.update(record.id, confirmed=1)
            self.ledger.audit(self.clock(), "confirmed", record.id, actor, {})
        return Outcome(
            record.id, record.playbook, record.action, record.target, Status.APPLIED, f"confirmed by {actor}"
        )

    def expire(self) -> list[Outcome]:
        """Undo applied actions whose TTL passed (unless confirmed); refuse expired approval requests.
        An undo that fails is audited and tried again after :data:`RETRY_UNDO`."""
        now, outcomes = self.clock(), []
        undo, expired = self.ledger.due(now)
        for record in undo:
            try:
                outcomes.append(self.undo(record.id, "ttl"))
            except InputError as exc:
                with self.ledger.transaction():
                    self.ledger.update(record.id, undo_at=now + RETRY_UNDO)
                outcomes.append(
                    Outcome(
                        record.id, record.playbook, record.action, record.target, Status.APPLIED, str(exc)
                    )
                )
        outcomes.extend(
            self._transition(record, Status.REFUSED, "approval-expired", "approval expired")
            for record in expired
        )
        return outcomes

    def recover(self) -> list[Outcome]:
        """Find intents left by a crash between apply and its audit record, and record what happened."""
        outcomes = []
        for record in self.ledger.with_status(Status.INTENT):
            try:
                _, book, action = self._load(record.id)
                now_state = action.check(record.target)
            except (ActionError, InputError, TargetGone) as exc:
                outcomes.append(
                    self._transition(
                        record, Status.UNKNOWN, "recovered", f"state unknown after a crash: {exc}"
                    )
                )
                continue
            if now_state == record.before or now_state == "n/a":
                status = Status.UNKNOWN if now_state == "n/a" else Status.FAILED
                why = (
                    "not observable after a crash"
                    if now_state == "n/a"
                    else f"not applied (state still {now_state})"
                )
                outcomes.append(self._transition(record, status, "recovered", why))
                continue
            ttl = book.ttl_s if book is not None else None
            undo_at = record.applied_at + timedelta(seconds=ttl) if ttl and record.applied_at else None
            with self.ledger.transaction():
                self.ledger.update(
                    record.id, status=Status.APPLIED, saved={"recovered": True}, undo_at=undo_at
                )
                self.ledger.audit(
                    self.clock(),
                    "recovered",
                    record.id,
                    "bastion-respond",
                    {"reason": f"applied before a crash ({record.before} -> {now_state})"},
                )
            outcomes.append(
                Outcome(
                    record.id,
                    record.playbook,
                    record.action,
                    record.target,
                    Status.APPLIED,
                    f"recovered: applied ({record.before} -> {now_state})",
                )
            )
        return outcomes

    def run(self, alerts: Iterable[Alert | None]) -> list[Outcome]:
        """Handle each alert in turn, undoing expired actions before the first and after each;
        a ``None`` is a clock tick from an idle stream: only the expiry runs."""
        outcomes = self.expire()
        for alert in alerts:
            if alert is not None:
                outcomes.extend(self.handle(alert))
            outcomes.extend(self.expire())
        return outcomes
