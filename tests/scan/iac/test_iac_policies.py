"""Every built-in policy: well-formed, unique, and right on its pass and fail examples."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from importlib import resources as importlib_resources
from pathlib import Path

import pytest

import bastion.scan.iac.policy as policy_module
from bastion.errors import InputError
from bastion.scan.iac.policy import Policy, builtin_policies, parse_policies
from bastion.scan.iac.selftest import CannotDerive, derive, examples_of, selftest

POLICIES = builtin_policies()


def test_at_least_250_policies_across_every_platform() -> None:
    assert len(POLICIES) >= 250
    providers = Counter(p.id.split(".")[1] for p in POLICIES)
    for provider, minimum in {
        "aws": 60,
        "azure": 40,
        "gcp": 40,
        "k8s": 30,
        "docker": 10,
        "compose": 10,
        "cfn": 25,
        "arm": 10,
    }.items():
        assert providers[provider] >= minimum, (provider, providers[provider])


def test_at_least_900_policies_and_every_checkov_twin_is_named() -> None:
    assert len(POLICIES) >= 900
    named = [p for p in POLICIES if p.checkov]
    assert len(named) >= 550
    assert all(p.rule_info().equivalent_ids["checkov"] == ",".join(p.checkov) for p in named)


def test_no_two_policies_are_copies_of_one_another() -> None:
    def key(p: Policy) -> tuple[object, ...]:
        condition = json.dumps([p.check, p.when], sort_keys=True)
        return tuple(sorted(p.resources)), condition

    copies = [group for group, n in Counter(key(p) for p in POLICIES).items() if n > 1]
    assert copies == []


def test_ids_are_unique_and_every_policy_says_how_to_fix() -> None:
    ids = [p.id for p in POLICIES]
    assert len(ids) == len(set(ids))
    assert all(p.fix and p.title for p in POLICIES)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_policy_passes_its_pass_examples_and_fails_its_fail_examples(policy: object) -> None:
    assert selftest(policy) == []


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_every_policy_has_both_kinds_of_example(policy: object) -> None:
    examples = examples_of(policy)
    assert examples["pass"] and examples["fail"]


def test_derivation_refuses_what_it_cannot_build() -> None:
    with pytest.raises(CannotDerive):
        derive({"attr": "a", "regex": "x"}, True)
    with pytest.raises(CannotDerive):
        derive({"python": "iam_no_admin"}, True)
    with pytest.raises(CannotDerive):
        derive({"all": [{"attr": "a", "equals": 1}, {"attr": "a", "equals": 2}]}, True)


def test_derived_examples_for_logic() -> None:
    assert derive({"attr": "a.b", "gte": 7}, True) == {"a": {"b": 7}}
    assert derive({"attr": "a.b", "gte": 7}, False) == {"a": {"b": 6}}
    assert derive({"not": {"attr": "x", "equals": True}}, True) == {"x": False}
    assert derive({"attr": "xs", "all": {"attr": "p", "lt": 3}}, False) == {"xs": [{"p": 3}]}
    assert derive({"any": [{"attr": "a", "exists": True}, {"attr": "b", "in": ["y"]}]}, False) == {
        "b": "zz-bastion-other"
    }


def test_selftest_reports_a_wrong_example() -> None:
    from dataclasses import replace

    policy = next(p for p in POLICIES if p.id == "iac.aws.rds-encrypted")
    broken = replace(
        policy, examples={"pass": [{"storage_encrypted": False}], "fail": [{"storage_encrypted": False}]}
    )
    problems = selftest(broken)
    assert len(problems) == 1 and "pass example 0 gives fail" in problems[0]


def test_shipped_loader_reads_the_same_policies_as_the_guarded_loader() -> None:
    base = importlib_resources.files("bastion.scan.iac") / "policies"
    for entry in base.iterdir():
        if not entry.name.endswith((".yml", ".yaml")):
            continue
        text = entry.read_text(encoding="utf-8")
        fast = parse_policies(text, entry.name, shipped=True)
        guarded = parse_policies(text, entry.name)
        assert fast == guarded, entry.name
        assert [p.check for p in fast] == [p.check for p in guarded]


def test_shipped_loader_reports_bad_yaml_with_the_file() -> None:
    with pytest.raises(InputError, match=r"broken\.yml: invalid YAML"):
        parse_policies("policies: [\n", "broken.yml", shipped=True)


def _fields(policies: tuple[Policy, ...] | list[Policy]) -> list[tuple[object, ...]]:
    return [tuple(getattr(p, f.name) for f in dataclasses.fields(p)) for p in policies]


def test_checked_policies_are_cached_by_file_content(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(policy_module.platformdirs, "user_cache_dir", lambda *_a, **_k: str(tmp_path))
    builtin_policies.cache_clear()
    try:
        fresh = builtin_policies()
        (cached_file,) = tmp_path.glob("iac-policies-*.json")
        builtin_policies.cache_clear()

        def refuse(*_a: object, **_k: object) -> list[Policy]:
            raise AssertionError("the YAML was read again")

        monkeypatch.setattr(policy_module, "parse_policies", refuse)
        from_cache = builtin_policies()
        assert _fields(from_cache) == _fields(fresh) == _fields(POLICIES)
        monkeypatch.undo()
        monkeypatch.setattr(policy_module.platformdirs, "user_cache_dir", lambda *_a, **_k: str(tmp_path))
        cached_file.write_text("[{]", encoding="utf-8")  # damaged: read the YAML, write it again
        builtin_policies.cache_clear()
        assert _fields(builtin_policies()) == _fields(POLICIES)
        assert json.loads(cached_file.read_text(encoding="utf-8"))[0]["id"] == POLICIES[0].id
    finally:
        builtin_policies.cache_clear()


def test_policies_json_cannot_hold_exactly_are_not_cached(tmp_path: Path) -> None:
    odd = dataclasses.replace(POLICIES[0], examples={"pass": [{80: "int key"}]})
    target = tmp_path / "c.json"
    policy_module._write_cache(target, [odd])
    assert not target.exists()
    policy_module._write_cache(target, [POLICIES[0]])
    assert _fields(policy_module._read_cache(target) or []) == _fields([POLICIES[0]])
    assert policy_module._read_cache(tmp_path / "missing.json") is None
    assert policy_module._read_cache(None) is None
