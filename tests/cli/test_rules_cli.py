"""``bastion rules list|show``: the registry's rules, through the CLI."""

from __future__ import annotations

import json

import pytest

from bastion.cli.main import main
from bastion.gate import MISSING_REASON_RULE
from bastion.report.rules import RulesFormat, render_rule, render_rules
from bastion.rules import RuleInfo
from bastion.scan.registry import Registry, RuleCatalog, rule_catalog


def test_list_json_holds_every_scanner_and_the_gate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    ids = [rule["id"] for rule in document["rules"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    scanners = {rule["scanner"] for rule in document["rules"]}
    assert {"secrets", "deps", "sast", "iac", "dast", "gate", "catalog"} <= scanners
    assert MISSING_REASON_RULE in ids and "deps.CVE-*" in ids and "sast.bandit.B602" in ids
    assert "catalog.version-deprecated" in ids and "catalog.use-product" in ids
    assert document["skipped"] == []  # the test plug-ins load (marker lists no rules)
    for rule in document["rules"]:
        assert RuleInfo.from_dict(rule).to_dict() == rule


def test_list_one_scanner_as_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list", "--scanner", "dast"]) == 0
    out = capsys.readouterr().out
    assert "dast.csp-missing" in out and "secrets." not in out and "CWE-" in out
    assert out.rstrip().endswith("rules")


def test_show_a_rule_and_a_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "show", "dast.csp-missing"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("id: dast.csp-missing\n") and "equivalent: zap: 10038" in out
    assert main(["rules", "show", "deps.CVE-2021-44228"]) == 0
    assert capsys.readouterr().out.startswith("id: deps.CVE-*\n")
    assert main(["rules", "show", MISSING_REASON_RULE]) == 0
    assert "severity: low" in capsys.readouterr().out
    assert main(["rules", "show", "catalog.version-deprecated"]) == 0
    assert "nist-800-53-r5:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rules", "show", "nope.rule"], "no rule 'nope.rule'"),
        (["rules", "list", "--scanner", "nope"], "unknown scanner 'nope'"),
        (["rules", "list", "--format", "xml"], "--format: unknown format 'xml'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_source_that_does_not_load_is_a_visible_skip() -> None:
    registry = Registry.from_entry_points()
    catalog = rule_catalog(registry, ["dast"])
    broken = RuleCatalog({"dast": catalog.by_source["dast"]}, {"gone": "scanner 'x:Y' does not load"})
    table = render_rules(broken.rules, broken.skipped, RulesFormat.TABLE, width=200)
    assert "skipped gone: scanner 'x:Y' does not load" in table
    document = json.loads(render_rules(broken.rules, broken.skipped, RulesFormat.JSON))
    assert document["skipped"] == [{"source": "gone", "reason": "scanner 'x:Y' does not load"}]


def test_render_rule_leaves_out_empty_fields_and_control_characters() -> None:
    text = render_rule(RuleInfo(id="x.a", title="bad\x1b[31m title", scanner="x"))
    assert text == "id: x.a\ntitle: bad\ufffd[31m title\nscanner: x\nseverity: varies with the finding\n"
