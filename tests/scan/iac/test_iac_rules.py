"""IaC policies as validated data: every shipped file passes the schema; the scanner lists its
policies as the one rule contract (RuleInfo) with their checkov and tfsec ids."""

from __future__ import annotations

from importlib import resources as importlib_resources

import pytest
import yaml

from bastion.findings import Severity
from bastion.rules import RuleInfo
from bastion.scan.iac import portgen
from bastion.scan.iac.policy import builtin_policies
from bastion.scan.iac.scanner import IacScanner
from bastion.scan.iac.schema import PolicySpec, validate_policy

SHIPPED = sorted(
    (entry.name, entry.read_text(encoding="utf-8"))
    for entry in (importlib_resources.files("bastion.scan.iac") / "policies").iterdir()
    if entry.name.endswith((".yml", ".yaml"))
)


@pytest.mark.parametrize(("name", "text"), SHIPPED, ids=[name for name, _ in SHIPPED])
def test_every_shipped_policy_passes_the_schema(name: str, text: str) -> None:
    raw = [p for document in yaml.safe_load_all(text) for p in document["policies"]]
    specs = [validate_policy(p, f"{name}: policies[{i}]") for i, p in enumerate(raw)]
    assert specs and all(isinstance(s, PolicySpec) and s.id.startswith("iac.") for s in specs)


def test_rules_are_the_shipped_policies_with_equivalent_ids() -> None:
    rules = IacScanner().rules()
    assert all(isinstance(r, RuleInfo) and r.scanner == "iac" for r in rules)
    assert [r.id for r in rules] == [p.id for p in builtin_policies()]
    by_id = {r.id: r for r in rules}
    s3 = by_id["iac.cfn.s3-public-access-block"]
    assert s3.equivalent_ids == {"checkov": "CKV_AWS_53,CKV_AWS_54,CKV_AWS_55,CKV_AWS_56"}
    assert s3.severity is Severity.HIGH and s3.fix and s3.title == "S3 bucket blocks public access"
    assert sum(1 for r in rules if "checkov" in r.equivalent_ids) >= 50
    assert all(r.fix and r.severity is not None for r in rules)
    assert not IacScanner.shardable and not IacScanner.reads_history


def test_ports_policies_come_from_the_generator() -> None:
    generated = {p["id"] for p in portgen.policies()}
    shipped = {p.id for p in builtin_policies() if p.origin == "policies/ports.yml"}
    assert generated == shipped and len(generated) >= 20
    assert portgen.TARGET.read_text(encoding="utf-8") == portgen.render()


def test_schema_errors_name_the_policy_and_field() -> None:
    check = {"attr": "a", "exists": True}
    base = {"id": "iac.a.b", "title": "t", "severity": "low", "resource": "r", "check": check}
    cases = [
        ({**base, "tfsec": ["X"]}, "p[0] (iac.a.b).tfsec: must be a list of tfsec ids"),
        ({**base, "checkov": ["nope"]}, "p[0] (iac.a.b).checkov: must be a list of checkov ids"),
        ({**base, "kics": ["CKV_AWS_24"]}, "p[0] (iac.a.b).kics: must be a list of KICS query ids"),
        ({**base, "when": {"attr": "a"}}, "p[0] (iac.a.b).when: "),
        ({**base, "zz": 1, "aa": 2}, "p[0]: unknown key 'aa'"),
        ({"id": "iac.a.b"}, "p[0]: missing required key 'title'"),
        ({**base, "id": 3}, "p[0].id: 3 must look like iac.<provider>.<name>"),
    ]
    for raw, message in cases:
        with pytest.raises(ValueError) as info:
            validate_policy(raw, "p[0]")
        assert str(info.value).startswith(message), str(info.value)
    assert validate_policy({**base, "examples": None, "description": "d"}, "p[0]").description == "d"
