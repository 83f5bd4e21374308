"""RuleInfo: the one rule contract."""

from __future__ import annotations

import json

from bastion.findings import Severity
from bastion.rules import RuleInfo, sort_rules


def _rule(**changes: object) -> RuleInfo:
    fields: dict[str, object] = {
        "id": "iac.aws.s3-bucket-encryption",
        "title": "S3 bucket without default encryption",
        "severity": Severity.HIGH,
        "scanner": "iac",
        "cwe": [311],
        "attack": ["T1530"],
        "fix": "Set server_side_encryption_configuration",
        "help_uri": "https://example.org/rules/s3",
        "controls": ["nist-800-53-r5:SC-28"],
        "equivalent_ids": {"tfsec": "aws-s3-enable-bucket-encryption", "checkov": "CKV_AWS_19"},
    }
    fields.update(changes)
    return RuleInfo(**fields)  # type: ignore[arg-type]


def test_round_trip_is_lossless_and_json_ready() -> None:
    rule = _rule()
    data = json.loads(json.dumps(rule.to_dict()))
    assert RuleInfo.from_dict(data) == rule
    assert data["equivalent_ids"] == {"checkov": "CKV_AWS_19", "tfsec": "aws-s3-enable-bucket-encryption"}
    assert data["cwe"] == [311] and rule.cwe_ids == ["CWE-311"]


def test_lists_become_tuples_so_rules_hash_and_compare() -> None:
    rule = _rule()
    assert rule.cwe == (311,) and rule.controls == ("nist-800-53-r5:SC-28",)
    assert {rule, _rule()} == {rule}
    assert _rule(severity=None).to_dict()["severity"] is None
    assert RuleInfo.from_dict(_rule(severity=None).to_dict()).severity is None


def test_sort_rules_orders_by_id_and_keeps_the_first_duplicate() -> None:
    first = _rule(id="b.one", title="first")
    rules = sort_rules([first, _rule(id="a.two"), _rule(id="b.one", title="second")])
    assert [r.id for r in rules] == ["a.two", "b.one"]
    assert rules[1].title == "first"
