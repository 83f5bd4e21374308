"""Every parser on real outputs of its tool (tests/fixtures/imports, see SOURCE.md there)."""

from __future__ import annotations

import json

import pytest
from import_samples import FIXTURES, sample_files

from bastion.findings import Confidence, Finding, Location, Severity
from bastion.imports import ImportResult, import_report
from bastion.imports.model import tool_specs

# file -> (tool, findings, suppressed, skips)
EXPECTED = {
    "bandit/demo-app.json": ("bandit", 11, 0, 0),
    "checkov/demo-app-infra.json": ("checkov", 54, 0, 0),
    "cyclonedx/vex.json": ("cyclonedx", 0, 1, 0),
    "gitleaks/data_one_v7.json": ("gitleaks", 1, 0, 0),
    "gitleaks/gitleaks8_many.json": ("gitleaks", 4, 0, 0),
    "grype/TestJsonDirsPresenter.json": ("grype", 2, 0, 0),
    "kics/E2E_CLI_032_RESULT-excerpt.json": ("kics", 6, 0, 0),
    "kics/findings_with_null_fields.json": ("kics", 3, 0, 0),
    "npm-audit/v1_one_vuln.json": ("npm-audit", 1, 0, 0),
    "npm-audit/v2_one_vuln.json": ("npm-audit", 2, 0, 0),
    "nuclei/multiple_v3.jsonl": ("nuclei", 4, 0, 0),
    "osv-scanner/some_findings.json": ("osv-scanner", 1, 0, 0),
    "pip-audit/many_vulns_new.json": ("pip-audit", 7, 0, 1),
    "semgrep/demo-app.json": ("semgrep", 10, 0, 0),
    "spdx/SPDXJSONExample-v2.3-packages.spdx.json": ("spdx", 0, 0, 0),
    "tfsec/many_findings_current.json": ("tfsec", 7, 0, 0),
    "trivy/kubernetes-excerpt.json": ("trivy", 3, 0, 0),
    "trivy/misconfigurations_and_secrets.json": ("trivy", 5, 0, 0),
    "trufflehog/v3_git.jsonl": ("trufflehog", 2, 0, 0),
    "zap/5_zap_sample_one.xml": ("zap", 3, 0, 0),
    "zap/basic-traditional-json.json": ("zap", 1, 0, 0),
    "zap/basic-traditional-xml.xml": ("zap", 1, 0, 0),
}


SOURCES = {"tool", "cvss", "cwe", "equivalent", "default", "unrated"}


def load(name: str, tool: str | None = None) -> ImportResult:
    """Import one fixture."""
    return import_report((FIXTURES / name).read_bytes(), name, tool)


def by_rule(result: ImportResult, rule_id: str) -> list[Finding]:
    """The findings of one rule."""
    return [f for f in result.findings if f.rule_id == rule_id]


def test_every_fixture_file_is_expected() -> None:
    files = {str(p.relative_to(FIXTURES)) for p in sample_files()}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_detected_and_counted(name: str) -> None:
    tool, findings, suppressed, skips = EXPECTED[name]
    result = load(name)
    assert (result.tool, len(result.findings), len(result.suppressed), len(result.skips)) == (
        tool,
        findings,
        suppressed,
        skips,
    )
    assert result == load(name, tool)  # naming the tool gives the same result


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings_follow_the_model(name: str) -> None:
    result = load(name)
    spec = tool_specs()[result.tool]
    for finding in [*result.findings, *(s.finding for s in result.suppressed)]:
        assert finding.rule_id.startswith(f"{result.tool}.") and finding.scanner == result.tool
        assert Finding.from_dict(finding.to_dict()) == finding
        assert finding.controls, f"{finding.rule_id} has no controls"
        assert finding.metadata["tool"] == result.tool
        assert finding.metadata["category"] in {k.category.value for k in spec.kinds.values()}
        assert finding.metadata["severity_source"] in SOURCES
        loc = finding.location
        assert loc.path or loc.url or loc.purl or loc.commit, finding.rule_id
    fingerprints = [f.fingerprint for f in result.findings]
    assert len(set(fingerprints)) == len(fingerprints)
    assert fingerprints == [f.fingerprint for f in load(name).findings]  # stable across runs


def test_gitleaks() -> None:
    result = load("gitleaks/gitleaks8_many.json")
    aws = by_rule(result, "gitleaks.aws-access-token")
    assert len(aws) == 2 and aws[0].fingerprint != aws[1].fingerprint  # one per commit
    assert aws[0].location == Location(
        path="/conf/aws.tf",
        start_line=2,
        end_line=2,
        start_column=24038,
        end_column=24057,
        commit="74d53286c550630f80847d37f68aa3065554ac813544072ccd1278da71fafe31",
    )
    assert aws[0].severity is Severity.HIGH and aws[0].metadata["severity_source"] == "default"
    assert aws[0].cwe == (798,)  # as Bastion's own secrets findings
    assert "nist-800-53-r5:IA-5" in aws[0].controls
    key = by_rule(result, "gitleaks.RSA-PK")[0]
    assert key.location.commit is None and "nist-800-53-r5:SC-12" in key.controls  # secrets.*private-key*
    generic = by_rule(result, "gitleaks.generic-api-key")[0]
    assert generic.evidence == 'apikey = "dfjk\u2026(24 chars)"'


def test_gitleaks_7_rule_names_become_ids() -> None:
    finding = load("gitleaks/data_one_v7.json").findings[0]
    assert finding.rule_id == "gitleaks.asymmetric-private-key" and finding.title == "Asymmetric Private Key"
    assert finding.location == Location(
        path="cert-key.pem", commit="9afb561b348d59eceb6dc82c0061fb07bee09f7b"
    )
    assert "nist-800-53-r5:SC-12" in finding.controls and finding.evidence == "----\u2026(27 chars)"


def test_trufflehog_severity_from_verification_and_no_raw() -> None:
    result = load("trufflehog/v3_git.jsonl")
    assert result.duplicates == 1  # the URI record appears twice in the sample
    aws = by_rule(result, "trufflehog.AWS")[0]
    assert aws.severity is Severity.CRITICAL and aws.metadata["verified"] is True
    commit = "fbc14303ffbf8fb1c2c1914e8dda7d0121633aca"
    assert aws.location == Location(path="keys", start_line=4, commit=commit)
    assert aws.evidence == "AKIA\u2026(20 chars)"


def test_trivy_fs_vulnerabilities_misconfigurations_secrets() -> None:
    result = load("trivy/misconfigurations_and_secrets.json")
    vuln = by_rule(result, "trivy.CVE-2021-33503")[0]
    assert vuln.severity is Severity.HIGH and vuln.cwe == (400,)
    assert vuln.location.path == "requirements.txt"
    assert vuln.metadata["package"] == "urllib3" and vuln.metadata["fixed_versions"] == ["1.26.5"]
    assert vuln.metadata["cvss_score"] == 7.5 and vuln.fix == "Upgrade urllib3 to 1.26.5 or later."
    assert "nist-800-53-r5:SI-2" in vuln.controls  # deps.* controls
    misconf = by_rule(result, "trivy.DS002")[0]
    assert misconf.metadata["category"] == "iac" and "nist-800-53-r5:CM-6" in misconf.controls
    secrets = by_rule(result, "trivy.github-pat")
    assert [s.location.describe() for s in secrets] == ["Dockerfile:24", "secret.txt:1"]
    assert all(s.severity is Severity.CRITICAL for s in secrets)


def test_trivy_misconfiguration_code_is_evidence_with_literals_masked() -> None:
    report = json.loads((FIXTURES / "trivy/misconfigurations_and_secrets.json").read_text())
    misconfiguration = report["Results"][1]["Misconfigurations"][0]
    misconfiguration["CauseMetadata"].update(
        StartLine=3,
        EndLine=3,
        Code={
            "Lines": [
                {"Number": 2, "Content": "FROM python:3.11", "IsCause": False},
                {"Number": 3, "Content": 'ENV DB_PASSWORD="hunter2hunter2"', "IsCause": True},
            ]
        },
    )
    finding = by_rule(import_report(json.dumps(report).encode(), "t.json"), "trivy.DS002")[0]
    assert finding.evidence == 'ENV DB_PASSWORD="***"' and finding.location.start_line == 3


def test_trivy_kubernetes_cluster_report() -> None:
    result = load("trivy/kubernetes-excerpt.json")
    apt = by_rule(result, "trivy.CVE-2020-27350")
    assert [f.metadata["resource"] for f in apt] == [
        "default/Deployment/redis-follower",
        "default/Deployment/redis-leader",
    ]
    assert apt[0].location == Location(purl="pkg:deb/debian/apt@1.8.2.1")  # built from Type: Trivy gave none
    assert apt[0].fingerprint != apt[1].fingerprint and apt[0].metadata["aliases"] == ["DSA-4808-1"]
    assert "monitoring-test-cluster" in result.notices[0].message


def test_kics_real_output() -> None:
    result = load("kics/E2E_CLI_032_RESULT-excerpt.json")
    ingress = by_rule(result, "kics.e415f8d3-fc2b-4f52-88ab-1129e8c8d3f5")
    assert [f.location.describe() for f in ingress] == [
        "e2e/fixtures/samples/positive.yaml:32",
        "e2e/fixtures/samples/positive.yaml:24",
    ]
    assert ingress[0].cwe == (668,) and ingress[0].metadata["resource"] == "EcsSecurityGroupSSHinbound"
    assert "nist-800-53-r5:SC-7" in ingress[0].controls  # iac.*-open-* through the title
    http = by_rule(result, "kics.275a3217-ca37-40c1-a6cf-bb57d245ab32")[0]
    assert (
        http.severity is Severity.MEDIUM
        and "actual: 'Resources.ALBListener.Protocol' equals to 'HTTP'" in http.message
    )


def test_trivy_image_and_legacy_shapes() -> None:
    image = {
        "SchemaVersion": 2,
        "ArtifactName": "alpine:3.10",
        "ArtifactType": "container_image",
        "Results": [
            {
                "Target": "alpine:3.10 (alpine 3.10.2)",
                "Class": "os-pkgs",
                "Type": "alpine",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2019-1549",
                        "PkgName": "openssl",
                        "InstalledVersion": "1.1.1c-r0",
                        "PkgIdentifier": {"PURL": "pkg:apk/alpine/openssl@1.1.1c-r0"},
                        "Severity": "UNKNOWN",
                        "CVSS": {"nvd": {"V3Score": 5.3}},
                        "Status": "not_affected",
                    }
                ],
            }
        ],
    }
    result = import_report(json.dumps(image).encode(), "image.json")
    assert not result.findings and len(result.suppressed) == 1
    finding = result.suppressed[0].finding
    assert finding.location == Location(purl="pkg:apk/alpine/openssl@1.1.1c-r0")
    assert finding.severity is Severity.MEDIUM and finding.metadata["severity_source"] == "cvss"
    legacy = [{"Target": "app.jar", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "x"}]}]
    old = import_report(json.dumps(legacy).encode(), "legacy.json")
    assert old.tool == "trivy" and old.findings[0].metadata["severity_source"] == "unrated"
    assert old.findings[0].severity is Severity.HIGH


def test_cve_ids_are_kept_across_tools() -> None:
    trivy = by_rule(load("trivy/misconfigurations_and_secrets.json"), "trivy.CVE-2021-33503")[0]
    npm = load("npm-audit/v1_one_vuln.json").findings[0]
    grype = by_rule(load("grype/TestJsonDirsPresenter.json"), "grype.CVE-1999-0002")[0]
    osv = load("osv-scanner/some_findings.json").findings[0]
    assert trivy.metadata["cve"] == ["CVE-2021-33503"] and npm.metadata["cve"] == ["CVE-2017-16042"]
    assert grype.metadata["cve"] == ["CVE-1999-0002"] and "cve" not in osv.metadata  # a MAL- id has none


def test_grype_kev_and_fix() -> None:
    result = load("grype/TestJsonDirsPresenter.json")
    low = by_rule(result, "grype.CVE-1999-0001")[0]
    assert low.severity is Severity.LOW and low.metadata["fixed_versions"] == ["1.2.1", "2.1.3", "3.4.0"]
    assert low.location.path == "/foo/bar/somefile-1.txt"
    critical = by_rule(result, "grype.CVE-1999-0002")[0]
    assert critical.severity is Severity.CRITICAL and critical.metadata["kev"] is True
    assert critical.location.purl == "pkg:deb/package-2@2.2.2" and "known exploited" in critical.title


def test_osv_scanner_groups_and_cwe_severity() -> None:
    finding = load("osv-scanner/some_findings.json").findings[0]
    assert finding.rule_id == "osv-scanner.MAL-2023-1035"
    assert finding.metadata["aliases"] == ["GHSA-8348-2q94-ffjx"]
    assert finding.cwe == (506,) and finding.location.purl == "pkg:npm/flot-axis@0.0.0"
    # bastion: ignore[sast.bandit.B108] the lockfile path osv-scanner printed, compared as text
    assert finding.location.path == "/tmp/components/yarn.lock"
    assert finding.metadata["severity_source"] in {"cwe", "unrated"}


def test_pip_audit_skip_is_visible_and_unrated_is_high() -> None:
    result = load("pip-audit/many_vulns_new.json")
    skip = result.skips[0]
    assert skip.component == "pip-audit:azure-devops" and "not found on PyPI" in skip.reason
    django = by_rule(result, "pip-audit.PYSEC-2021-439")[0]
    assert django.location.purl == "pkg:pypi/django@3.2.9"
    assert django.severity is Severity.HIGH and django.metadata["severity_source"] == "unrated"
    assert django.fix == "Upgrade django to one of 2.2.25, 3.1.14, 3.2.10."
    assert by_rule(result, "pip-audit.PYSEC-2021-852")[0].fix.startswith("No fixed version of lxml")


def test_npm_audit_v1_and_v2() -> None:
    v1 = load("npm-audit/v1_one_vuln.json").findings[0]
    assert v1.rule_id == "npm-audit.CVE-2017-16042" and v1.severity is Severity.CRITICAL
    assert v1.cwe == (94,) and v1.location.purl == "pkg:npm/growl@1.9.2"
    v2 = load("npm-audit/v2_one_vuln.json").findings
    assert {f.rule_id for f in v2} == {"npm-audit.GHSA-gxpj-cx7g-858c", "npm-audit.GHSA-9vvw-cc9w-f27h"}
    moderate = next(f for f in v2 if f.rule_id.endswith("858c"))
    assert moderate.severity is Severity.MEDIUM and moderate.cwe == (400,)
    assert moderate.location == Location(path="node_modules/debug", purl="pkg:npm/debug")
    assert moderate.fix == "Upgrade express to 4.18.3."


def test_checkov_equivalent_policy_gives_severity_and_controls() -> None:
    result = load("checkov/demo-app-infra.json")
    ssh = by_rule(result, "checkov.CKV_AWS_24")[0]
    assert ssh.location == Location(path="infra/main.tf", start_line=14, end_line=24)
    assert ssh.metadata["equivalent_ids"] and ssh.metadata["equivalent_ids"][0].startswith("iac.aws.")
    assert ssh.metadata["severity_source"] == "equivalent"
    assert {f.metadata["framework"] for f in result.findings} == {"terraform", "dockerfile", "kubernetes"}
    unmapped = [f for f in result.findings if "equivalent_ids" not in f.metadata]
    assert all(f.severity is Severity.MEDIUM and f.metadata["severity_source"] == "default" for f in unmapped)


def test_checkov_skip_is_suppressed_with_reason() -> None:
    report = {
        "check_type": "terraform",
        "results": {
            "failed_checks": [],
            "skipped_checks": [
                {
                    "check_id": "CKV_AWS_20",
                    "check_name": "S3 Bucket has an ACL defined which allows public READ access.",
                    "check_result": {"result": "SKIPPED", "suppress_comment": "public website bucket"},
                    "file_path": "/s3.tf",
                    "file_line_range": [1, 5],
                    "resource": "aws_s3_bucket.site",
                }
            ],
        },
        "summary": {"parsing_errors": 1, "checkov_version": "3.3.30"},
    }
    result = import_report(json.dumps(report).encode(), "skip.json")
    assert not result.findings and result.suppressed[0].reason == "checkov:skip: public website bucket"
    assert result.tool_version == "3.3.30" and "could not parse 1 terraform" in result.notices[0].message


def test_tfsec_and_kics() -> None:
    tfsec = load("tfsec/many_findings_current.json")
    ingress = by_rule(tfsec, "tfsec.aws-vpc-no-public-ingress-sgr")[0]
    assert ingress.severity is Severity.CRITICAL and ingress.location.start_line == 40
    assert ingress.help_uri.startswith("https://tfsec.dev/docs/aws/vpc/")
    encryption = by_rule(tfsec, "tfsec.aws-autoscaling-enable-at-rest-encryption")[0]
    assert "nist-800-53-r5:SC-28" in encryption.controls  # iac.*encrypt* through the slug
    kics = load("kics/findings_with_null_fields.json")
    same_line = [f for f in kics.findings if f.location.path == "network.tf"]
    assert len(same_line) == 2 and same_line[0].fingerprint != same_line[1].fingerprint
    first = by_rule(kics, "kics.q1-null-expected")[0]
    assert first.severity is Severity.HIGH and "actual: Resource is not encrypted" in first.message


def test_semgrep_and_bandit_take_bastions_sast_controls() -> None:
    semgrep = load("semgrep/demo-app.json")
    shell = by_rule(semgrep, "semgrep.python-subprocess-shell-dynamic")[0]
    assert shell.severity is Severity.HIGH and shell.cwe == (78,) and shell.location.start_line == 17
    assert "nist-800-53-r5:SI-10" in shell.controls  # sast.semgrep.*subprocess*
    assert semgrep.tool_version == "1.187.0"
    bandit = load("bandit/demo-app.json")
    b602 = by_rule(bandit, "bandit.B602")[0]
    assert b602.location.path == "app.py" and b602.location.start_line == 17 and b602.cwe == (78,)
    assert "nist-800-53-r5:SI-10" in b602.controls and b602.confidence is Confidence.HIGH
    password = by_rule(bandit, "bandit.B105")[0]
    assert password.evidence == 'DB_PASSWORD = "***"' and "nist-800-53-r5:IA-5" in password.controls


def test_zap_json_xml_agree_and_map_to_bastion_rules() -> None:
    from_json = load("zap/basic-traditional-json.json").findings[0]
    from_xml = load("zap/basic-traditional-xml.xml").findings[0]
    assert from_json.fingerprint == from_xml.fingerprint and from_json.severity is Severity.HIGH
    assert from_json.location.url == "http://example.com/example_3" and from_json.cwe == (123,)
    assert from_json.metadata["description"] == "XSS Description" and from_json.fix == "Test Solution"
    cookies = load("zap/5_zap_sample_one.xml")
    assert cookies.duplicates == 3  # the second alert repeats the first one's instances
    cookie = cookies.findings[0]
    assert cookie.severity is Severity.LOW and cookie.confidence is Confidence.MEDIUM
    assert cookie.metadata.get("equivalent_ids", ["dast.cookie"])[0].startswith("dast.")


def test_nuclei_keeps_extracted_results_apart() -> None:
    result = load("nuclei/multiple_v3.jsonl")
    tls = by_rule(result, "nuclei.tls-version")
    assert len(tls) == 2 and {f.evidence for f in tls} == {"tls12", "tls13"}
    caa = by_rule(result, "nuclei.caa-fingerprint")[0]
    assert caa.cwe == (200,) and caa.severity is Severity.INFO and caa.location.url == "www.asdf.de"


def test_cyclonedx_vex_not_affected_is_set_aside() -> None:
    result = load("cyclonedx/vex.json")
    suppressed = result.suppressed[0]
    assert suppressed.reason.startswith("VEX not_affected; code_not_reachable")
    finding = suppressed.finding
    assert finding.rule_id == "cyclonedx.CVE-2020-25649" and finding.cwe == (611,)
    assert finding.location.purl == "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"
    assert finding.severity is Severity.HIGH and finding.metadata["cvss_score"] == 8.2


def test_cyclonedx_exploitable_is_a_finding_and_components_are_inventory() -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [
            {"bom-ref": "lodash", "name": "lodash", "version": "4.17.15", "purl": "pkg:npm/lodash@4.17.15"}
        ],
        "vulnerabilities": [
            {
                "id": "CVE-2020-8203",
                "ratings": [{"severity": "high"}],
                "analysis": {"state": "exploitable"},
                "affects": [{"ref": "lodash"}],
            }
        ],
    }
    result = import_report(json.dumps(bom).encode(), "bom.json")
    assert [f.location.purl for f in result.findings] == ["pkg:npm/lodash@4.17.15"]
    assert result.inventory[0].name == "lodash"


def test_spdx_is_an_inventory_and_advisory_refs_are_findings() -> None:
    result = load("spdx/SPDXJSONExample-v2.3-packages.spdx.json")
    assert [c.name for c in result.inventory] == ["glibc", "Apache Commons Lang", "Jena", "Saxon"]
    assert result.inventory[2].purl == "pkg:maven/org.apache.jena/apache-jena@3.12.0"
    assert "4 packages read as an inventory" in result.notices[0].message
    document = json.loads((FIXTURES / "spdx/SPDXJSONExample-v2.3-packages.spdx.json").read_text())
    document["packages"][2]["externalRefs"].append(
        {
            "referenceCategory": "SECURITY",
            "referenceType": "advisory",
            "referenceLocator": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
        }
    )
    flagged = import_report(json.dumps(document).encode(), "with-advisory.spdx.json")
    assert [f.rule_id for f in flagged.findings] == ["spdx.CVE-2021-44228"]
    assert flagged.findings[0].location.purl == "pkg:maven/org.apache.jena/apache-jena@3.12.0"


def test_tool_errors_are_notices_on_the_file() -> None:
    semgrep = {
        "version": "1.187.0",
        "results": [],
        "errors": [{"type": "Syntax error", "message": "Syntax error at line 3:\n def (", "path": "./b.py"}],
        "paths": {"scanned": ["bad.py"]},
    }
    notice = import_report(json.dumps(semgrep).encode(), "semgrep.json").notices[0]
    assert notice.path == "b.py" and notice.message == "semgrep: Syntax error at line 3:"
    bandit = {
        "errors": [{"filename": "./broken.py", "reason": "syntax error while parsing AST from file"}],
        "generated_at": "2026-12-07T00:00:00Z",
        "metrics": {},
        "results": [],
    }
    notice = import_report(json.dumps(bandit).encode(), "bandit.json").notices[0]
    assert notice.path == "broken.py" and "syntax error" in notice.message


def test_zap_single_site_object_and_false_positive() -> None:
    report = {
        "@version": "2.15.0",
        "site": {
            "@name": "https://shop.example",
            "alerts": [
                {
                    "pluginid": "10038",
                    "name": "Content Security Policy (CSP) Header Not Set",
                    "riskcode": "2",
                    "confidence": "0",
                    "instances": [{"uri": "https://shop.example/?token=abc", "method": "GET"}],
                }
            ],
        },
    }
    result = import_report(json.dumps(report).encode(), "zap.json")
    assert not result.findings and result.suppressed[0].reason == "ZAP marked it a false positive"
    finding = result.suppressed[0].finding
    assert finding.severity is Severity.MEDIUM and finding.location.url is not None


def test_grype_ignored_matches_are_suppressed() -> None:
    document = json.loads((FIXTURES / "grype/TestJsonDirsPresenter.json").read_text())
    document["ignoredMatches"] = [document["matches"].pop()]
    result = import_report(json.dumps(document).encode(), "grype.json")
    assert [f.rule_id for f in result.findings] == ["grype.CVE-1999-0001"]
    assert result.suppressed[0].reason == "ignored by a Grype ignore rule"


def test_trufflehog_raw_that_is_not_base64_is_still_hidden() -> None:
    secret = "plain-text-secret-value-1234"  # generated, grants nothing
    record = {
        "SourceMetadata": {"Data": {"Github": {"link": "https://github.com/o/r/blob/x/a.txt#L1"}}},
        "DetectorName": "Generic",
        "Verified": False,
        "Raw": secret,
        "Redacted": f"token={secret}",
    }
    finding = import_report(json.dumps(record).encode(), "hog.json").findings[0]
    assert secret not in json.dumps(finding.to_dict()) and finding.severity is Severity.HIGH
    assert finding.location.url == "https://github.com/o/r/blob/x/a.txt#L1"


def test_trivy_passed_misconfigurations_and_legacy_tfsec_words() -> None:
    trivy = json.loads((FIXTURES / "trivy/misconfigurations_and_secrets.json").read_text())
    trivy["Results"][1]["Misconfigurations"][0]["Status"] = "PASS"
    assert not by_rule(import_report(json.dumps(trivy).encode(), "t.json"), "trivy.DS002")
    legacy = {
        "results": [
            {
                "rule_id": "AWS002",
                "link": "https://tfsec.dev/docs/aws/AWS002/",
                "location": {"filename": "s3.tf", "start_line": 1, "end_line": 3},
                "description": "Resource 'aws_s3_bucket.b' does not have logging enabled.",
                "severity": "ERROR",
            }
        ]
    }
    finding = import_report(json.dumps(legacy).encode(), "tfsec.json").findings[0]
    assert finding.severity is Severity.HIGH and finding.help_uri == "https://tfsec.dev/docs/aws/AWS002/"
