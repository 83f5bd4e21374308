"""The rule data: bandit's CWE table is complete, the curated semgrep rules are well-formed."""

from __future__ import annotations

import re

import pytest
import yaml

from bastion.scan.sast import builtin_rules
from bastion.scan.sast.bandit import bandit_test_ids
from bastion.scan.sast.cwe import bandit_rules, parse_cwe_ids
from bastion.scan.sast.semgrep import load_rule_set


def test_every_bandit_test_id_is_mapped() -> None:
    shipped = bandit_test_ids()
    assert len(shipped) > 60  # sanity: the plug-ins and blacklists really loaded
    missing = sorted(set(shipped) - set(bandit_rules()))
    assert missing == [], f"add these bandit tests to bandit_cwe.toml: {missing}"


def test_no_stale_ids_in_the_table() -> None:
    assert sorted(set(bandit_rules()) - set(bandit_test_ids())) == []


@pytest.mark.parametrize("test_id", sorted(bandit_rules()))
def test_bandit_entry_is_complete(test_id: str) -> None:
    rule = bandit_rules()[test_id]
    assert re.fullmatch(r"B\d{3}", test_id)
    assert rule.cwe and all(0 < c < 2000 for c in rule.cwe)
    assert rule.title and "\n" not in rule.title
    assert rule.fix.endswith(".")


def test_password_tests_are_redacted() -> None:
    assert {t for t, r in bandit_rules().items() if r.redact} == {"B105", "B106", "B107"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["CWE-89: Improper Neutralization"], (89,)),
        ("CWE-79: XSS", (79,)),
        (["CWE-329: a", "cwe-1204: b", "CWE-329 again"], (329, 1204)),
        (["OWASP A03"], ()),
        (None, ()),
        ([42], ()),
    ],
)
def test_parse_cwe_ids(value: object, expected: tuple[int, ...]) -> None:
    assert parse_cwe_ids(value) == expected


def _rules() -> list[dict[str, object]]:
    data = yaml.safe_load(builtin_rules().read_text(encoding="utf-8"))
    rules = data["rules"]
    assert isinstance(rules, list)
    return rules


def test_curated_rules_count_and_unique_ids() -> None:
    ids = [r["id"] for r in _rules()]
    assert 20 <= len(ids) <= 30
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: str(r["id"]))
def test_curated_rule_metadata(rule: dict[str, object]) -> None:
    assert re.fullmatch(r"(python|js)-[a-z0-9-]+", str(rule["id"]))
    assert rule["severity"] in {"ERROR", "WARNING", "INFO"}
    meta = rule["metadata"]
    assert isinstance(meta, dict)
    assert meta["title"] and meta["remediation"]
    assert meta["confidence"] in {"HIGH", "MEDIUM", "LOW"}
    assert parse_cwe_ids(meta["cwe"]), "metadata.cwe must name at least one CWE-<n>"
    assert all(str(ref).startswith("https://") for ref in meta["references"])


def test_curated_rules_cover_python_and_javascript() -> None:
    rules = load_rule_set([builtin_rules()])
    assert {".py", ".js", ".ts", ".tsx"} <= rules.suffixes
    assert "*" not in rules.suffixes
