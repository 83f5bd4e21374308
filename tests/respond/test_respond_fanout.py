"""A playbook target naming a metadata list (``metadata.ips``) acts once per element, each element
behind the allow-list and the limits on its own; the shipped block-attack-sources playbook."""

from __future__ import annotations

from pathlib import Path

from respond_helpers import Clock, FakeNft, alert

from bastion.findings import Alert, Severity
from bastion.respond.actions.registry import ActionContext
from bastion.respond.engine import Responder
from bastion.respond.ledger import Ledger, Status
from bastion.respond.playbook import Playbook, Safeguards, load_playbooks

SHIPPED = Path(__file__).parents[2] / "src" / "bastion" / "respond" / "playbooks"


def _stuffing(*ips: object) -> Alert:
    return alert(entity="198.51.100.10,198.51.100.2", kind="ip", rule_id="identity.credential-stuffing",
                 ips=list(ips))  # fmt: skip


def _book(per_minute: int = 100) -> Playbook:
    return Playbook.model_validate({
        "id": "fan", "mode": "active", "trigger": {"detector": ["identity.*"]},
        "actions": [{"type": "block-ip", "target": "metadata.ips"}], "limits": {"per_minute": per_minute},
    })  # fmt: skip


def test_targets_of_a_list_are_distinct_elements_in_order() -> None:
    spec = _book().actions[0]
    assert spec.targets_of(_stuffing("198.51.100.2", "", None, "198.51.100.4", "198.51.100.2")) == [
        "198.51.100.2", "198.51.100.4",
    ]  # fmt: skip
    assert spec.targets_of(_stuffing()) == [None]
    assert spec.targets_of(alert(src="x")) == [None]


def test_each_address_passes_the_allow_list_and_the_limits_on_its_own() -> None:
    nft = FakeNft()
    guards = Safeguards.model_validate({"allow_ips": ["10.0.0.0/8"]})
    responder = Responder(
        [_book(per_minute=2)], guards, Ledger(":memory:"), ActionContext(runner=nft), clock=Clock()
    )
    outcomes = responder.handle(_stuffing("198.51.100.2", "::ffff:10.9.9.9", "198.51.100.4", "198.51.100.6"))
    assert [(o.target, o.status) for o in outcomes] == [
        ("198.51.100.2", Status.APPLIED), ("::ffff:10.9.9.9", Status.REFUSED),
        ("198.51.100.4", Status.APPLIED), ("198.51.100.6", Status.REFUSED),
    ]  # fmt: skip
    assert "allow-list" in outcomes[1].reason and "2 actions per minute" in outcomes[3].reason
    assert set(nft.tables["inet bastion"]["sets"]["blocked4"]) == {"198.51.100.2", "198.51.100.4"}
    empty = responder.handle(_stuffing())
    assert [(o.status, o.reason) for o in empty] == [(Status.REFUSED, "alert has no metadata.ips")]


def test_shipped_block_attack_sources_fires_on_composite_entities_only() -> None:
    [book] = [b for b in load_playbooks(SHIPPED) if b.id == "block-attack-sources"]
    [single] = [b for b in load_playbooks(SHIPPED) if b.id == "block-bruteforce-ip"]
    stuffing = _stuffing("198.51.100.2")
    brute = alert(entity="198.51.100.23|arn:aws:iam::111122223333:user/deploy", kind="user",
                  rule_id="identity.brute-force", ips=["198.51.100.23"])  # fmt: skip
    assert book.trigger.matches(stuffing) and book.trigger.matches(brute)
    assert not single.trigger.matches(stuffing) and not single.trigger.matches(brute)
    assert not book.trigger.matches(
        alert(rule_id="identity.password-spray")
    )  # one address: the other playbook
    assert not book.trigger.matches(
        alert(entity="a|b", kind="user", rule_id="identity.brute-force", severity=Severity.MEDIUM)
    )
    assert book.actions[0].targets_of(brute) == ["198.51.100.23"]
