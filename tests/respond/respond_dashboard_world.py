"""A respond ledger with one pending approval and one action in force, for the dashboard tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from respond_helpers import alert, write_playbook

from bastion.findings import Severity
from bastion.respond.actions.registry import ActionContext
from bastion.respond.engine import Responder
from bastion.respond.ledger import Ledger
from bastion.respond.playbook import load_playbooks, load_safeguards


@dataclass
class RespondWorld:
    """Paths and ids of the seeded ledger."""

    ledger: Path
    playbooks: Path
    changes: Path
    pending: str
    applied: str


def seed(tmp_path: Path, requester: str = "maya") -> RespondWorld:
    """Two drift alerts: a critical one waits for approval, a medium one is applied with a TTL."""
    books, changes = tmp_path / "playbooks", tmp_path / "changes"
    write_playbook(books, "revert-drift", trigger={"detector": ["drift.*"]},
                   actions=[{"type": "iac-revert", "params": {"out_dir": str(changes)}}],
                   approval={"at_or_above": "critical", "expires_s": 3600}, ttl_s=7200)  # fmt: skip
    ledger = Ledger(tmp_path / "ledger.sqlite")
    responder = Responder(
        load_playbooks(books), load_safeguards(None), ledger, ActionContext(), requested_by=requester
    )
    outcomes = []
    for name, severity in (("logs", Severity.CRITICAL), ("audit", Severity.MEDIUM)):
        drift = alert(entity=f"aws_s3_bucket.{name}", kind="resource", detector="drift.tf", severity=severity,
                      path=f"{name}.tf", current="acl = 1\n", expected="acl = 2\n")  # fmt: skip
        outcomes += responder.handle(drift)
    ledger.close()
    pending, applied = outcomes
    assert (pending.status.value, applied.status.value) == ("pending", "applied")
    return RespondWorld(tmp_path / "ledger.sqlite", books, changes, pending.action_id, applied.action_id)
