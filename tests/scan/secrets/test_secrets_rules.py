"""Every rule's own examples, rule-set invariants, and malformed rule files."""

from __future__ import annotations

from pathlib import Path

import pytest
from secrets_helpers import rule_ids

from bastion.errors import ConfigError
from bastion.scan.secrets.detect import Detector
from bastion.scan.secrets.rules import BUILTIN_RULES, Rule, load_rule_file, load_ruleset

RULES = load_ruleset([BUILTIN_RULES]).rules


def test_at_least_two_hundred_rules_with_unique_namespaced_ids() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) >= 200
    assert len(ids) == len(set(ids))
    assert all(rule_id.startswith("secrets.") for rule_id in ids)


def test_one_rule_file_per_provider_family() -> None:
    names = {path.stem for path in BUILTIN_RULES.glob("*.toml")}
    expected = {"github", "gitlab", "aws", "azure", "gcp", "slack", "payments", "comms", "packages"}
    assert expected | {"cloud", "ai", "saas", "keys", "uris", "jwt"} <= names


@pytest.mark.parametrize("path", sorted(BUILTIN_RULES.glob("*.toml")), ids=lambda p: p.name)
def test_built_in_rules_pass_the_full_validation_users_rules_get(path: Path) -> None:
    # Built-in rules skip regex compilation at load (they compile on first use); this is
    # the check that lets them: untrusted loading compiles and demands the secret group.
    for rule in load_rule_file(path, trusted=False):
        assert "secret" in rule.pattern.groupindex


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_keywords_occur_in_every_positive_example(rule: Rule) -> None:
    for example in rule.examples.positive:
        assert any(keyword in example.lower() for keyword in rule.keywords), example


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_positive_examples_match_their_rule(detector: Detector, rule: Rule) -> None:
    for example in rule.examples.positive:
        assert rule.id in rule_ids(detector, example), f"{rule.id} missed its own positive example"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_negative_examples_do_not_produce_the_rule(detector: Detector, rule: Rule) -> None:
    for example in rule.examples.negative:
        assert rule.id not in rule_ids(detector, example), f"{rule.id} fired on a negative example"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "custom.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = """
[[rules]]
id = "secrets.acme-token"
description = "ACME internal token"
regex = '(?P<secret>acme_[a-z0-9]{20})'
keywords = ["acme_"]
severity = "high"
confidence = "high"
examples.positive = ["t = acme_abcdefghij0123456789"]
examples.negative = ["t = acme_short"]
"""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('severity = "high"', 'severity = "urgent"'), "severity"),
        (('keywords = ["acme_"]', "keywords = []"), "keywords"),
        (("(?P<secret>acme_", "(acme_"), "regex"),
        (("(?P<secret>acme_[a-z0-9]{20})", "(?P<secret>acme_[a-z0-9]{20}"), "regex"),
        (('confidence = "high"', 'confidence = "high"\nscore = 3'), "score"),
        (('examples.negative = ["t = acme_short"]', "examples.negative = []"), "examples.negative"),
        (("validator", "validator"), None),
    ],
)
def test_a_malformed_rule_names_file_rule_and_field(
    tmp_path: Path, change: tuple[str, str], field: str | None
) -> None:
    body = GOOD.replace(*change)
    if field is None:
        body = GOOD.replace('confidence = "high"', 'confidence = "high"\nvalidator = "sha1"')
        field = "validator"
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as raised:
        load_rule_file(path)
    message = str(raised.value)
    assert str(path) in message
    assert "secrets.acme-token" in message
    assert field in message


def test_invalid_toml_and_duplicate_ids_are_config_errors(tmp_path: Path) -> None:
    bad = _write(tmp_path, "[[rules]\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_rule_file(bad)
    _write(tmp_path, GOOD.replace("secrets.acme-token", "secrets.github-pat-classic"))
    with pytest.raises(ConfigError, match="already defined"):
        load_ruleset([BUILTIN_RULES, tmp_path])


def test_missing_rule_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_ruleset([tmp_path / "nope"])


def test_a_user_rule_directory_adds_rules(tmp_path: Path) -> None:
    _write(tmp_path, GOOD)
    ruleset = load_ruleset([BUILTIN_RULES, tmp_path])
    detector = Detector(ruleset)
    assert "secrets.acme-token" in rule_ids(detector, "t = acme_k3j5h6g7f8d9s0a1q2w3")
    assert ruleset.by_id("secrets.acme-token").source == tmp_path / "custom.toml"
