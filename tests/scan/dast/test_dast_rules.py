"""Rules data, rule levels (Bastion and ZAP baseline formats), JS library detection and advisories."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from dast_helpers import scan

from bastion.errors import ConfigError
from bastion.findings import Finding, Location, Severity
from bastion.gate import GatePolicy, GateResult
from bastion.results import ScanResult
from bastion.rules import RuleLevel
from bastion.scan.dast.active import sensitive_paths
from bastion.scan.dast.http import FetcherOptions
from bastion.scan.dast.jslibs import Advisory, OsvLookup, _advisory, detect_libraries, library_patterns
from bastion.scan.dast.levels import load_levels
from bastion.scan.dast.rules import get_rule, list_rules, rules_by_zap_id
from bastion.scan.dast.scanner import DastOptions, scan_async


def test_rules_are_complete_and_stable() -> None:
    rules = list_rules()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)) >= 28
    assert all(re.fullmatch(r"dast\.[a-z0-9-]+", i) for i in ids)
    assert all(r.title and r.description and r.fix and r.cwe > 0 for r in rules)
    assert {r.kind for r in rules} == {"passive", "active"}
    zap = rules_by_zap_id()
    for plugin in (10020, 10021, 10038, 10035, 10010, 10011, 10027, 10054, 10036, 10037, 10003, 40012, 40018):
        assert plugin in zap, plugin
    assert get_rule("dast.csp-missing").zap_id == 10038
    with pytest.raises(KeyError):
        get_rule("dast.nope")


def test_data_files_compile() -> None:
    assert len(library_patterns()) >= 10 and len(sensitive_paths()) >= 15
    assert all(p.path.startswith("/") for p in sensitive_paths())


def test_zap_baseline_file(tmp_path: Path) -> None:
    conf = tmp_path / "zap-baseline.conf"
    conf.write_text(
        "# comment\n\n10020\tFAIL\t(Anti-clickjacking Header)\n10096\tIGNORE\t(Timestamp Disclosure)\n"
        "99999\tWARN\t(Unknown)\n10010\tINFO\n*\tOUTOFSCOPE\t.*/legacy/.*\n10021\tOUTOFSCOPE\t.*\\.js$\n"
        "dast.csp-missing IGNORE\n"
    )
    levels = load_levels(conf)
    assert {k: v for k, v in levels.levels.items() if not k.startswith("dast.zap.")} == {
        "dast.clickjacking": RuleLevel.FAIL,
        "dast.cookie-no-httponly": RuleLevel.INFO,
        "dast.csp-missing": RuleLevel.IGNORE,
    }
    assert any("10096 (Timestamp Disclosure)" in n for n in levels.notices)
    assert any("99999 has no Bastion equivalent" in n for n in levels.notices)
    assert (
        levels.levels["dast.zap.10096"] is RuleLevel.IGNORE
        and levels.levels["dast.zap.99999"] is RuleLevel.WARN
    )

    def finding(rule: str, url: str) -> Finding:
        return Finding(rule, "dast", "t", Severity.LOW, Location(url=url), "m", rule + url)

    kept, dropped = levels.apply(
        [
            finding("dast.clickjacking", "http://s/legacy/a"),
            finding("dast.content-type-options", "http://s/a.js"),
            finding("dast.content-type-options", "http://s/a"),
            finding("dast.csp-missing", "http://s/"),
        ]
    )
    assert [f.location.url for f in kept] == ["http://s/a"]
    assert {d.reason for d in dropped} == {
        "rules file: OUTOFSCOPE .*/legacy/.*",
        "rules file: OUTOFSCOPE .*\\.js$",
        "rules file: IGNORE",
    }


def test_toml_rules_file(tmp_path: Path) -> None:
    conf = tmp_path / "dast-rules.toml"
    conf.write_text('[rules]\n"dast.csp-missing" = "fail"\n"*" = "warn"\n[[out_of_scope]]\nurl = "/admin"\n')
    levels = load_levels(conf)
    assert levels.levels["dast.csp-missing"] is RuleLevel.WARN  # later keys win, like later lines
    assert levels.out_of_scope[0][0] == "*"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.conf", "10020\n", "expected 'id<TAB>LEVEL"),
        ("a.conf", "10020\tSOMETIMES\n", "unknown level"),
        ("a.conf", "dast.nope\tWARN\n", "unknown rule id"),
        ("a.conf", "10020\tOUTOFSCOPE\n", "needs a URL regex"),
        ("a.conf", "10020\tOUTOFSCOPE\t[\n", "invalid OUTOFSCOPE regex"),
        ("a.toml", "[rules\n", "invalid TOML"),
        ("a.toml", "levels = 1\n", "unknown key 'levels'"),
        ("a.toml", "rules = 1\n", "expected a table"),
        ("a.toml", "[[out_of_scope]]\nrule = '*'\n", "expected a table with rule and url"),
    ],
)
def test_bad_rules_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_levels(path)


def test_missing_and_unreadable_rules_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rules file not found"):
        load_levels(tmp_path / "none.conf")
    binary = tmp_path / "bin.conf"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="cannot read rules file"):
        load_levels(binary)


def test_gate_levels() -> None:
    def finding(rule: str, severity: Severity) -> Finding:
        return Finding(rule, "dast", "t", severity, Location(url="http://s/"), "m", rule)

    findings = [
        finding("dast.csp-missing", Severity.LOW),
        finding("dast.xss-reflected", Severity.HIGH),
        finding("dast.sql-injection", Severity.HIGH),
    ]
    levels = {"dast.csp-missing": RuleLevel.FAIL, "dast.xss-reflected": RuleLevel.WARN}
    gate = GateResult(
        ScanResult(Path("."), ["dast"]), findings, policy=GatePolicy(Severity.HIGH, levels=levels)
    )
    assert [f.rule_id for f in gate.blocking] == ["dast.csp-missing", "dast.sql-injection"]
    gate.policy = GatePolicy(None, levels=levels)
    assert [f.rule_id for f in gate.blocking] == ["dast.csp-missing"]


@pytest.mark.parametrize(
    ("url", "text", "expected"),
    [
        ("https://code.jquery.com/jquery-1.12.4.min.js", None, ("jquery", "1.12.4", "url")),
        ("https://s.test/wp-includes/js/jquery/jquery.min.js?ver=3.5.1", None, ("jquery", "3.5.1", "url")),
        (
            "https://s.test/js/vendor.js",
            "/*! jQuery v2.2.4 | (c) jQuery Foundation */",
            ("jquery", "2.2.4", "content"),
        ),
        (
            "https://s.test/js/ui.js",
            "/*! jQuery UI - v1.12.1 - 2016-09-14",
            ("jquery-ui", "1.12.1", "content"),
        ),
        ("https://s.test/a.js", "/**\n * @license AngularJS v1.5.8\n", ("angular", "1.5.8", "content")),
        (
            "https://s.test/b.js",
            "/*!\n * Bootstrap v3.3.7 (http://getbootstrap.com)",
            ("bootstrap", "3.3.7", "content"),
        ),
        ("https://cdnjs.test/ajax/libs/lodash.js/4.17.4/lodash.min.js", None, ("lodash", "4.17.4", "url")),
        (
            "https://s.test/l.js",
            "/**\n * @license\n * Lodash <https://lodash.com/>\n */\n var VERSION = '4.17.15';",
            ("lodash", "4.17.15", "content"),
        ),
        (
            "https://s.test/m.js",
            "//! moment.js\n//! version : 2.29.1\n//! authors : Tim Wood",
            ("moment", "2.29.1", "content"),
        ),
        ("https://s.test/h.js", "/**!\n @license handlebars v4.0.11", ("handlebars", "4.0.11", "content")),
        ("https://s.test/u.js", "//     Underscore.js 1.8.3\n", ("underscore", "1.8.3", "content")),
        ("https://unpkg.test/vue@2.5.16/dist/vue.js", None, ("vue", "2.5.16", "url")),
        ("https://s.test/p.js", "/*! @license DOMPurify 2.0.7 |", ("dompurify", "2.0.7", "content")),
        ("https://s.test/knockout-3.4.2.js", None, ("knockout", "3.4.2", "url")),
    ],
)
def test_library_detection(url: str, text: str | None, expected: tuple[str, str, str]) -> None:
    found = detect_libraries(url, text)
    assert [(d.name, d.version, d.how) for d in found] == [expected]


def test_no_library_in_plain_scripts() -> None:
    assert detect_libraries("https://s.test/app.js", "function jquery() { return 1.2; }") == []


class FakeLookup:
    """An advisory source that knows one jQuery advisory."""

    def available(self) -> bool:
        return True

    def find(self, name: str, version: str) -> list[Advisory]:
        if name == "jquery" and version.startswith("1."):
            return [
                Advisory(
                    "GHSA-rmxg-73gg-4p98",
                    "XSS in jQuery.htmlPrefilter",
                    Severity.MEDIUM,
                    ("CVE-2020-11022",),
                    ("3.5.0",),
                )
            ]
        return []


def test_vulnerable_library_with_an_advisory_source(vulnerable_url: str, hardened_url: str) -> None:
    options = DastOptions(vulnerable_url + "/", FetcherOptions(insecure=True, rate=0))
    result = asyncio.run(scan_async(options, advisories=FakeLookup()))
    library = [f for f in result.findings if f.rule_id == "dast.vulnerable-js-library"]
    assert len(library) == 1
    assert library[0].metadata["advisories"] == ["GHSA-rmxg-73gg-4p98"]
    assert library[0].metadata["fixed_versions"] == ["3.5.0"] and library[0].severity is Severity.MEDIUM
    hardened = DastOptions(hardened_url + "/", FetcherOptions(insecure=True, rate=0))
    assert asyncio.run(scan_async(hardened, advisories=FakeLookup())).findings == []


def test_osv_lookup_degrades_gracefully() -> None:
    def missing(_: str) -> Any:
        raise ImportError("No module named 'bastion.advisories'")

    lookup = OsvLookup(importer=missing)
    assert (
        not lookup.available() and "not installed" in lookup.reason and lookup.find("jquery", "1.0.0") == []
    )

    class NoDb:
        def database_available(self, **_: Any) -> bool:
            return False

        def find_vulnerabilities(self, **_: Any) -> list[Any]:
            return []

    lookup = OsvLookup(importer=lambda _: NoDb())
    assert not lookup.available() and "advisory database absent" in lookup.reason

    class Broken:
        def database_available(self, **_: Any) -> bool:
            raise OSError("corrupt index")

        def find_vulnerabilities(self, **_: Any) -> list[Any]:
            return [
                {
                    "id": "GHSA-1",
                    "summary": "s",
                    "severity": "MODERATE",
                    "aliases": ["CVE-1"],
                    "fixed": "2.0.0",
                }
            ]

    lookup = OsvLookup(Path("advisories.db"), importer=lambda _: Broken())
    assert not lookup.available() and "corrupt index" in lookup.reason
    assert lookup.find("x", "1") == [Advisory("GHSA-1", "s", Severity.MEDIUM, ("CVE-1",), ("2.0.0",))]
    assert OsvLookup(importer=lambda _: object()).reason.endswith("no find_vulnerabilities()")


def test_advisory_shapes() -> None:
    class Obj:
        id = "OSV-1"
        details = "d"
        severity = Severity.HIGH
        fixed_versions = ("1.2.3",)

    assert _advisory(Obj()) == Advisory("OSV-1", "d", Severity.HIGH, (), ("1.2.3",))
    assert _advisory({"severity": "unknown"}).severity is None


def test_passive_scan_without_advisories_notes_it(vulnerable_url: str) -> None:
    result = scan(vulnerable_url + "/", max_requests=40)
    assert any("not checked for vulnerabilities" in n for n in result.notices)
