"""Findings of different tools at one place and weakness are reported once, listing every tool:
a secret in a Terraform provider (secrets and iac scanners), bandit's and semgrep's imported
reports of one call, a CVE found by two dependency tools; one tool's findings never merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bastion.cli.main import main
from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.gate import merge_across_tools

IMPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
# The secrets rule file's own generated examples: they grant nothing.
PROVIDER = (
    'provider "aws" {\n  region     = "eu-west-1"\n  access_key = "ACCARYFKRUSWHCIOAAJN"\n'
    '  secret_key = "5dY9DUaPNqLJaqpQJk5JsxSssmIkhFuJ1tFnTCwE"\n}\n'
)


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_secret_in_a_provider_block_is_one_finding(tmp_path: Path) -> None:
    root = tmp_path / "infra"
    root.mkdir()
    (root / "main.tf").write_text(PROVIDER, encoding="utf-8")
    out = tmp_path / "report.json"
    assert main(["scan", str(root), "-s", "iac,secrets", "-f", "json", "-o", str(out), "-q"]) == 1
    findings = _json(out)["findings"]
    [merged] = [f for f in findings if f["metadata"].get("tools")]
    assert merged["rule_id"] == "secrets.aws-access-key-id"
    assert merged["metadata"]["tools"] == ["secrets", "iac"]
    assert merged["metadata"]["also_reported_as"] == ["iac.aws.provider-hardcoded-credentials"]
    assert merged["severity"] == "high"  # the worse of the two: merging never weakens the gate
    assert not any(f["rule_id"] == "iac.aws.provider-hardcoded-credentials" for f in findings)


def test_imported_bandit_and_semgrep_reports_merge_in_ci_render(tmp_path: Path) -> None:
    reports = {}
    for tool in ("bandit", "semgrep"):
        reports[tool] = tmp_path / f"{tool}.json"
        code = main(
            ["import", str(IMPORTS / tool / "demo-app.json"), "-f", "json", "-o", str(reports[tool]), "-q"]
        )
        assert code == 0
    merged_path, sarif_path = tmp_path / "merged.json", tmp_path / "merged.sarif"
    code = main(
        [
            "ci", "render", str(reports["bandit"]), "--with", str(reports["semgrep"]),
            "--to", f"json={merged_path}", "--to", f"sarif={sarif_path}",
        ]
    )  # fmt: skip
    assert code == 0
    counts = {tool: len(_json(path)["findings"]) for tool, path in reports.items()}
    merged = _json(merged_path)["findings"]
    both = [f for f in merged if f["metadata"].get("tools") == ["bandit", "semgrep"]]
    assert both and len(merged) == counts["bandit"] + counts["semgrep"] - len(both)
    shell = next(f for f in both if f["rule_id"] == "bandit.B602")
    assert shell["metadata"]["also_reported_as"] == ["semgrep.python-subprocess-shell-dynamic"]
    results = _json(sarif_path)["runs"][0]["results"]
    places = [
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]) for r in results
    ]
    assert "semgrep.python-subprocess-shell-dynamic" not in {rule for _, rule in places}


def _dep(tool: str, advisory: str, aliases: list[str], line: int = 3, **extra: Any) -> Finding:
    location = Location("requirements.txt", line, line)
    return Finding(
        rule_id=f"{tool}.{advisory}",
        scanner=tool,
        title=advisory,
        severity=extra.pop("severity", Severity.MEDIUM),
        location=location,
        message=advisory,
        fingerprint=make_fingerprint(f"{tool}.{advisory}", location, advisory),
        cwe=(79,),
        metadata={
            "tool": tool,
            "ecosystem": extra.pop("ecosystem", "PyPI"),
            "package": extra.pop("package", "Django"),
            "installed_version": "3.2.9",
            "advisory": advisory,
            "aliases": aliases,
        },
    )


def test_dependency_findings_merge_on_any_alias_across_tools_only() -> None:
    ours = _dep("deps", "GHSA-aaaa-bbbb-cccc", ["CVE-2021-1"])
    theirs = _dep("trivy", "CVE-2021-1", [], severity=Severity.CRITICAL, ecosystem="pypi", package="django")
    other_cve = _dep("trivy", "CVE-2021-2", [])
    same_tool = _dep("deps", "PYSEC-2021-9", ["CVE-2021-1"])
    out = merge_across_tools([ours, theirs, other_cve, same_tool])
    assert [f.rule_id for f in out] == ["deps.GHSA-aaaa-bbbb-cccc", "trivy.CVE-2021-2", "deps.PYSEC-2021-9"]
    assert out[0].metadata["tools"] == ["deps", "trivy"]
    assert out[0].severity is Severity.CRITICAL


def test_one_tool_never_merges_with_itself() -> None:
    first = _dep("secrets", "a", [])
    second = _dep("secrets", "b", [])
    plain = [f.with_changes(metadata={"tool": "secrets"}) for f in (first, second)]
    assert merge_across_tools(plain) == plain
