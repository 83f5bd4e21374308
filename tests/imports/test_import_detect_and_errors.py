"""Auto-detection (one tool, several, none) and bad input: one line naming the file, never a traceback."""

from __future__ import annotations

import json

import pytest
from import_samples import FIXTURES, sample_files

from bastion.errors import InputError, UsageError
from bastion.imports import detect_tool, import_report, tool_names
from bastion.imports.decode import decode
from bastion.imports.importer import PARSERS
from bastion.imports.model import tool_specs


def error_of(data: bytes, name: str = "report.json", tool: str | None = None, **kwargs: int) -> str:
    """The one-line message importing ``data`` fails with."""
    with pytest.raises(InputError) as caught:
        import_report(data, name, tool, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(name)
    return message


def test_every_parser_has_a_spec_and_every_spec_a_parser() -> None:
    assert sorted(tool_names()) == sorted(tool_specs())
    assert len(set(tool_names())) == len(PARSERS)


def test_each_fixture_is_claimed_by_exactly_one_parser() -> None:
    for path in sample_files():
        document = decode(path.read_bytes(), path.name)
        claims = [p.name for p in PARSERS if p.detect(document)]
        assert len(claims) == 1, (path, claims)
        assert detect_tool(document) == claims[0]


def test_ambiguous_document_lists_the_candidates() -> None:
    both = {"bomFormat": "CycloneDX", "spdxVersion": "SPDX-2.3", "packages": []}
    message = error_of(json.dumps(both).encode())
    assert "ambiguous, could be cyclonedx, spdx" in message and "--tool" in message
    result = import_report(json.dumps(both).encode(), "report.json", "spdx")
    assert result.tool == "spdx"


def test_unknown_document_lists_every_tool() -> None:
    message = error_of(b'{"hello": "world"}')
    assert "cannot tell which tool wrote it" in message and ", ".join(tool_names()) in message
    assert "cannot tell" in error_of(b"[]")


def test_bastion_report_and_sarif_are_recognised_as_native() -> None:
    sarif = {"version": "2.1.0", "runs": []}
    assert "upload it as it is" in error_of(json.dumps(sarif).encode(), "x.sarif")


def test_named_tool_must_match_the_content() -> None:
    data = (FIXTURES / "trivy/misconfigurations_and_secrets.json").read_bytes()
    message = error_of(data, tool="grype")
    assert "not Grype output (it looks like trivy)" in message
    with pytest.raises(UsageError, match="unknown tool 'nessus'"):
        import_report(data, "report.json", "nessus")


def test_an_empty_report_of_the_named_tool_is_empty_not_an_error() -> None:
    result = import_report(b"[]", "gitleaks.json", "gitleaks")
    assert result.tool == "gitleaks" and result.findings == []


@pytest.mark.parametrize("name", ["trivy/misconfigurations_and_secrets.json", "checkov/demo-app-infra.json"])
def test_truncated_json(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert "not valid JSON" in error_of(data[: len(data) // 2])


def test_truncated_json_lines_name_the_line() -> None:
    data = (FIXTURES / "trufflehog/v3_git.jsonl").read_bytes()
    assert "line 2 is not valid JSON" in error_of(data[: len(data) // 2], "hog.jsonl")


def test_truncated_and_hostile_xml() -> None:
    data = (FIXTURES / "zap/basic-traditional-xml.xml").read_bytes()
    assert "not well-formed XML" in error_of(data[:400], "zap.xml")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<OWASPZAPReport>&b;</OWASPZAPReport>"
    )
    assert "entities are not expanded" in error_of(bomb, "bomb.xml")


@pytest.mark.parametrize(
    ("tool", "document"),
    [
        ("trivy", {"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": [{"PkgName": "a"}]}]}),
        ("trivy", {"SchemaVersion": 2, "Results": "not a list"}),
        ("trivy", {"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": {"a": 1}}]}),
        ("grype", {"matches": [{"vulnerability": "CVE-1"}], "source": {}}),
        ("gitleaks", [{"RuleID": "x", "File": "a", "StartLine": 1}, "not a leak"]),
        ("npm-audit", {"auditReportVersion": 2, "vulnerabilities": ["not", "a", "mapping"]}),
        ("checkov", {"check_type": "terraform", "results": {"failed_checks": [{"check_name": "no id"}]}}),
        ("semgrep", {"results": [{"check_id": "x"}, 5], "errors": [], "paths": {}}),
        ("zap", {"@version": "2", "site": [{"alerts": "none"}]}),
        ("pip-audit", {"dependencies": [{"name": "x", "version": "1", "vulns": "none"}]}),
        ("cyclonedx", {"bomFormat": "CycloneDX", "vulnerabilities": [{"ratings": []}]}),
    ],
)
def test_wrong_types_and_missing_fields(tool: str, document: object) -> None:
    message = error_of(json.dumps(document).encode())
    assert f"not a valid {tool_specs()[tool].title} report" in message


def test_wrong_type_of_a_number_field_is_an_error_not_a_crash() -> None:
    document = {
        "SchemaVersion": 2,
        "Results": [{"Target": "x", "Vulnerabilities": [{"VulnerabilityID": None}]}],
    }
    result = import_report(json.dumps(document).encode(), "t.json")  # an id of the wrong type reads as ""
    assert result.findings[0].rule_id == "trivy.unknown"


def test_too_large_empty_binary_and_deep() -> None:
    data = (FIXTURES / "grype/TestJsonDirsPresenter.json").read_bytes()
    assert "larger than the 1,000 bytes" in error_of(data, max_bytes=1000)
    assert "the file is empty" in error_of(b"  \n")
    assert "not UTF-8" in error_of(b"\xff\xfe\x00garbage")
    assert "nested too deeply" in error_of(b"[" * 100_000 + b"]" * 100_000)
    lines = b'{"template-id": "a", "info": {}}\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    assert "nested too deeply" in error_of(lines, "deep.jsonl")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"version": 2, "tools": {}}, "version 2 is not supported"),
        (
            {"version": 1, "tools": {"x": {"title": "X", "kinds": {}, "severities": {"bad": "severe"}}}},
            "tools.x",
        ),
        ({"version": 1, "tools": {"x": {"title": "X", "kinds": {"k": {"category": "dast"}}}}}, "controls_as"),
        ({"version": 1, "tools": {"x": {"title": "X", "kinds": {}, "colour": "red"}}}, "unknown key"),
    ],
)
def test_tools_yml_is_validated_in_one_line(raw: object, message: str) -> None:
    from bastion.errors import ConfigError
    from bastion.imports.model import parse_specs

    with pytest.raises(ConfigError) as caught:
        parse_specs(raw)
    assert message in str(caught.value) and "\n" not in str(caught.value)
