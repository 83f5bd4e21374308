"""The catalog.* rule family: data, three frameworks per rule, every control id real."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.catalog.rules import CatalogRules, catalog_rules, parse_rules, rule
from bastion.rules import RuleSource

ENTRY = "{title: Title here, severity: low, nist: [CM-2], cis: ['1.1'], iso: [A.8.9], fix: fix it properly}"
FRAMEWORKS = Path(__file__).resolve().parents[2] / "src" / "bastion" / "comply" / "data" / "frameworks.json"


def test_every_rule_maps_to_three_frameworks() -> None:
    catalog = FRAMEWORKS.read_text(encoding="utf-8")
    rules = catalog_rules()
    assert set(rules) == {
        "catalog.version-retired",
        "catalog.version-non-compliant",
        "catalog.version-deprecated",
        "catalog.version-unapproved",
        "catalog.version-unknown",
        "catalog.version-unpinned",
        "catalog.input-not-allowed",
        "catalog.use-product",
    }
    for info in rules.values():
        assert info.scanner == "catalog" and info.fix and info.severity is not None
        assert {ref.split(":", 1)[0] for ref in info.controls} == {
            "nist-800-53-r5",
            "cis-v8",
            "iso27001-2022",
        }
        for ref in info.controls:
            assert f'"{ref.split(":", 1)[1]}"' in catalog, ref
    assert (
        rule("catalog.use-product").severity is not None
        and rule("catalog.use-product").severity.value == "low"
    )


def test_is_a_rule_source() -> None:
    source = CatalogRules()
    assert isinstance(source, RuleSource)
    assert [r.id for r in source.rules()] == list(catalog_rules())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nrules: []\n", "at least 1 item"),
        (
            "version: 1\nrules:\n  - " + ENTRY.replace("{", "{id: nope.x, ") + "\n",
            "pattern",
        ),
        (
            "version: 1\nrules:\n" + ("  - " + ENTRY.replace("{", "{id: catalog.x, ") + "\n") * 2,
            "rule catalog.x listed twice",
        ),
    ],
)
def test_broken_rules_file_is_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rules(text, "rules.yml")
