"""Playbooks as data: the shipped ones load, bad ones fail with one line naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from respond_helpers import alert, write_playbook

import bastion.respond
from bastion.errors import InputError
from bastion.findings import Alert, Severity
from bastion.respond.actions.base import TargetKind
from bastion.respond.playbook import Mode, load_playbook, load_playbooks, load_safeguards

SHIPPED = Path(bastion.respond.__file__).parent / "playbooks"


def test_shipped_playbooks_and_safeguards_load() -> None:
    books = load_playbooks(SHIPPED)
    assert {b.id for b in books} == {
        "block-attack-sources",
        "block-bruteforce-ip",
        "lock-compromised-account",
        "revert-iac-drift",
    }
    guards = load_safeguards(SHIPPED / "_safeguards.example.yaml")
    assert guards.breaker.max_per_minute == 30
    assert guards.allow_list().protects(TargetKind.IP, "::ffff:10.9.9.9")


def test_new_playbook_defaults_to_dry_run(tmp_path: Path) -> None:
    path = write_playbook(tmp_path)
    text = path.read_text().replace("mode: active\n", "")
    path.write_text(text)
    assert load_playbook(path).mode is Mode.DRY_RUN


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"actions": [{"type": "format-disk"}]}, "actions.0.type: unknown action 'format-disk'"),
        ({"colour": "red"}, "colour: unknown field"),
        (
            {"actions": [{"type": "block-ip", "params": {"timeout": 5}}]},
            "actions.0: params.timeout: unknown field",
        ),
        (
            {"actions": [{"type": "block-ip", "params": {"timeout_s": -1}}]},
            "params.timeout_s: Input should be greater than 0",
        ),
        ({"trigger": {"min_severity": "urgent"}}, "trigger.min_severity: unknown severity 'urgent'"),
        ({"trigger": {"entity": {"in_cidrs": ["10.0.0.300/8"]}}}, "trigger.entity.in_cidrs"),
        ({"actions": [{"type": "block-ip", "target": "alert.entity"}]}, "actions.0.target: use 'entity'"),
        ({"version": 9}, "version: unsupported playbook version 9"),
        ({"actions": []}, "actions: Tuple should have at least 1 item"),
    ],
)
def test_bad_playbook_is_one_line_naming_file_and_field(tmp_path: Path, change: dict, expected: str) -> None:
    path = write_playbook(tmp_path, **change)
    with pytest.raises(InputError) as err:
        load_playbook(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_duplicate_ids_and_empty_directory_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no playbook"):
        load_playbooks(tmp_path)
    write_playbook(tmp_path, "a")
    (tmp_path / "b.yaml").write_text((tmp_path / "a.yaml").read_text())
    with pytest.raises(InputError, match=r"b\.yaml: id: playbook id .a. is used twice"):
        load_playbooks(tmp_path)


def test_trigger_positive_and_near_misses(tmp_path: Path) -> None:
    book = load_playbook(
        write_playbook(
            tmp_path,
            trigger={
                "detector": ["identity.*"],
                "rule": ["*spray*"],
                "min_severity": "high",
                "min_score": 0.5,
                "entity": {
                    "kind": "ip",
                    "in_cidrs": ["203.0.113.0/24"],
                    "not_in_cidrs": ["203.0.113.128/25"],
                },
            },
        )
    )
    assert book.trigger.matches(alert())
    assert not book.trigger.matches(alert(severity=Severity.MEDIUM))
    assert not book.trigger.matches(alert(score=0.4))
    assert not book.trigger.matches(alert(detector="watch.pca"))
    assert not book.trigger.matches(alert(rule_id="identity.travel"))
    assert not book.trigger.matches(alert(entity="198.51.100.1"))
    assert not book.trigger.matches(alert(entity="203.0.113.200"))
    assert not book.trigger.matches(alert(entity="alice", kind="user"))
    assert book.trigger.matches(alert(entity="::ffff:203.0.113.9"))


def test_target_from_metadata(tmp_path: Path) -> None:
    book = load_playbook(
        write_playbook(tmp_path, actions=[{"type": "block-ip", "target": "metadata.src_ip"}])
    )
    assert (
        book.actions[0].target_of(alert(entity="alice", kind="user", src_ip="198.51.100.4")) == "198.51.100.4"
    )
    assert book.actions[0].target_of(alert(entity="alice", kind="user")) is None


def test_bad_safeguards_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("allow_ips: ['10.0.0.1/99']\n")
    with pytest.raises(InputError, match=r"s.yaml: .*10.0.0.1/99"):
        load_safeguards(path)
    path.write_text("allow_ip: []\n")
    with pytest.raises(InputError, match="allow_ip: unknown field"):
        load_safeguards(path)


@pytest.mark.parametrize(
    ("playbook", "example", "fires"),
    [
        ("block-bruteforce-ip", alert(), True),
        ("block-bruteforce-ip", alert(severity=Severity.LOW), False),
        ("block-bruteforce-ip", alert(entity="127.0.0.1"), False),
        ("block-bruteforce-ip", alert(rule_id="identity.impossible-travel"), False),
        ("block-bruteforce-ip", alert(entity="alice", kind="user"), False),
        (
            "lock-compromised-account",
            alert(entity="alice", kind="user", rule_id="identity.impossible-travel"),
            True,
        ),
        (
            "lock-compromised-account",
            alert(entity="alice", kind="user", rule_id="identity.mfa-fatigue", score=0.5),
            False,
        ),
        (
            "lock-compromised-account",
            alert(entity="alice", kind="user", rule_id="identity.password-spray"),
            False,
        ),
        (
            "revert-iac-drift",
            alert(detector="drift.terraform", entity="aws_s3_bucket.logs", kind="resource"),
            True,
        ),
        ("revert-iac-drift", alert(detector="watch.pca"), False),
    ],
)
def test_shipped_playbooks_fire_on_their_examples_and_not_on_near_misses(
    playbook: str, example: Alert, fires: bool
) -> None:
    [book] = [b for b in load_playbooks(SHIPPED) if b.id == playbook]
    assert book.trigger.matches(example) is fires
