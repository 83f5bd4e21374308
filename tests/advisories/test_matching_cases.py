"""Hand-checked matching verdicts against real OSV records (tests/fixtures/advisories).

Each row: ecosystem, package, version, advisory (canonical id), expected verdict, and why,
read off the record's ranges by hand. Together they cover the hard cases the issue names:
pre-releases, epochs, Maven qualifiers, last_affected, explicit versions lists, open
ranges, multiple ranges, withdrawn advisories, name normalisation and alias merging.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.advisories import find_vulnerabilities

CASES = [
    # --- Maven (Maven version order) ---
    ("Maven", "org.apache.struts:struts2-core", "2.3.31", "CVE-2017-5638", True, "2.3.31 in [2.3.0, 2.3.32)"),
    ("Maven", "org.apache.struts:struts2-core", "2.3.32", "CVE-2017-5638", False, "fixed version itself"),
    (
        "Maven",
        "org.apache.struts:struts2-core",
        "2.5.10",
        "CVE-2017-5638",
        True,
        "2.5.10 < 2.5.10.1 (fourth component)",
    ),
    ("Maven", "org.apache.struts:struts2-core", "2.5.10.1", "CVE-2017-5638", False, "fixed in 2.5.10.1"),
    ("Maven", "org.apache.struts:struts2-core", "2.2.3", "CVE-2017-5638", False, "below introduced 2.3.0"),
    ("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1", "CVE-2021-44228", True, "in [2.13.0, 2.15.0)"),
    ("Maven", "org.apache.logging.log4j:log4j-core", "2.12.1", "CVE-2021-44228", True, "in [2.4, 2.12.2)"),
    (
        "Maven",
        "org.apache.logging.log4j:log4j-core",
        "2.12.2",
        "CVE-2021-44228",
        False,
        "backport fix 2.12.2",
    ),
    (
        "Maven",
        "org.apache.logging.log4j:log4j-core",
        "2.3.1",
        "CVE-2021-44228",
        False,
        "fixed 2.3.1, before 2.4",
    ),
    (
        "Maven",
        "org.apache.logging.log4j:log4j-core",
        "2.15.0",
        "CVE-2021-45046",
        True,
        "2.15.0 in [2.13.0, 2.16.0)",
    ),
    ("Maven", "org.apache.logging.log4j:log4j-core", "2.15.0", "CVE-2021-44228", False, "2.15.0 fixes 44228"),
    (
        "Maven",
        "org.apache.logging.log4j:log4j-core",
        "2.0-beta9",
        "CVE-2021-44228",
        True,
        "pre-release in [0, 2.3.1)",
    ),
    (
        "Maven",
        "org.springframework:spring-beans",
        "5.2.19.RELEASE",
        "CVE-2022-22965",
        True,
        "qualifier: < 5.2.20.RELEASE",
    ),
    ("Maven", "org.springframework:spring-beans", "5.2.20.RELEASE", "CVE-2022-22965", False, "qualifier fix"),
    ("Maven", "org.springframework:spring-beans", "5.3.18", "CVE-2022-22965", False, "fixed in 5.3.x line"),
    (
        "Maven",
        "org.springframework:spring-beans",
        "5.3.0-M1",
        "CVE-2022-22965",
        False,
        "milestone: above 5.2.20.RELEASE, below introduced 5.3.0, so in neither range",
    ),
    ("Maven", "org.apache.commons:commons-text", "1.9", "CVE-2022-42889", True, "1.9 in [1.5, 1.10.0)"),
    ("Maven", "org.apache.commons:commons-text", "1.4", "CVE-2022-42889", False, "below introduced 1.5"),
    # --- npm (semver) ---
    ("npm", "lodash", "4.17.11", "CVE-2019-10744", True, "< 4.17.12"),
    ("npm", "lodash", "4.17.12", "CVE-2019-10744", False, "fixed 4.17.12"),
    ("npm", "lodash", "4.17.19", "CVE-2020-8203", True, "< 4.17.20"),
    ("npm", "Lodash", "4.17.11", "CVE-2019-10744", True, "npm names compared lower-case"),
    ("npm", "minimist", "1.2.5", "CVE-2021-44906", True, "in [1.0.0, 1.2.6)"),
    ("npm", "minimist", "0.2.4", "CVE-2021-44906", False, "fixed 0.2.4, below 1.0.0"),
    ("npm", "qs", "6.9.6", "CVE-2022-24999", True, "one of nine ranges: [6.9.0, 6.9.7)"),
    ("npm", "qs", "6.9.7", "CVE-2022-24999", False, "fixed in its range, below the next introduced"),
    ("npm", "qs", "6.11.0", "CVE-2022-24999", False, "above every range"),
    ("npm", "semver", "7.5.1", "CVE-2022-25883", True, "in [7.0.0, 7.5.2)"),
    ("npm", "semver", "7.5.2-rc.1", "CVE-2022-25883", True, "semver pre-release sorts before 7.5.2"),
    ("npm", "semver", "6.3.1", "CVE-2022-25883", False, "fixed 6.3.1"),
    ("npm", "ua-parser-js", "0.7.29", "GHSA-pjwm-rvh2-c87w", True, "explicit versions list and range"),
    ("npm", "ua-parser-js", "0.7.28", "GHSA-pjwm-rvh2-c87w", False, "below introduced 0.7.29"),
    ("npm", "flatmap-stream", "0.1.1", "GHSA-mh6f-8j2x-4483", True, "open range: introduced 0, no fix"),
    ("npm", "node-ipc", "10.1.2", "CVE-2022-23812", True, "protestware in [10.1.1, 10.1.3)"),
    ("npm", "node-ipc", "9.2.1", "CVE-2022-23812", False, "below introduced 10.1.1"),
    # --- Go (semver with v prefix, +incompatible, pseudo-versions, last_affected) ---
    (
        "Go",
        "github.com/dgrijalva/jwt-go",
        "v3.2.0+incompatible",
        "CVE-2020-26160",
        True,
        "last_affected 3.2.0 is inclusive",
    ),
    (
        "Go",
        "github.com/dgrijalva/jwt-go",
        "v3.1.0+incompatible",
        "CVE-2020-26160",
        True,
        "below last_affected",
    ),
    (
        "Go",
        "github.com/dgrijalva/jwt-go/v4",
        "v4.0.0-preview1",
        "CVE-2020-26160",
        False,
        "fixed at the pre-release",
    ),
    ("Go", "golang.org/x/net", "v0.16.0", "CVE-2023-44487", True, "< 0.17.0"),
    ("Go", "golang.org/x/net", "v0.17.0", "CVE-2023-44487", False, "fixed"),
    (
        "Go",
        "github.com/opencontainers/runc",
        "v1.0.0-rc92",
        "CVE-2024-21626",
        False,
        "rc92 < introduced rc93",
    ),
    ("Go", "github.com/opencontainers/runc", "v1.1.11", "CVE-2024-21626", True, "in [1.0.0-rc93, 1.1.12)"),
    # --- crates.io ---
    ("crates.io", "time", "0.1.45", "CVE-2020-26235", True, "open range from 0.1, no fix for 0.1.x"),
    (
        "crates.io",
        "time",
        "0.2.23",
        "CVE-2020-26235",
        True,
        "fixed in its own range, but the record's first range opens at 0.1 with no fix and covers it",
    ),
    ("crates.io", "regex", "1.5.4", "CVE-2022-24713", True, "< 1.5.5"),
    ("crates.io", "regex", "1.5.5", "CVE-2022-24713", False, "fixed"),
    # --- RubyGems ---
    ("RubyGems", "actionview", "5.2.2", "CVE-2019-5418", True, "in [5.2.0, 5.2.2.1)"),
    ("RubyGems", "actionview", "5.2.2.1", "CVE-2019-5418", False, "four-part fix"),
    ("RubyGems", "actionview", "3.2.22", "CVE-2019-5418", False, "below every introduced"),
    ("RubyGems", "rest-client", "1.6.13", "CVE-2019-15224", True, "backdoored [1.6.10, 1.7.0)"),
    ("RubyGems", "cron_parser", "1.0.14", "CVE-2019-15224", True, "last_affected 1.0.14 inclusive"),
    ("RubyGems", "cron_parser", "1.0.15", "CVE-2019-15224", False, "above last_affected"),
    ("RubyGems", "cron_parser", "0.1.4", "CVE-2019-15224", True, "explicit versions list entry"),
    ("RubyGems", "nokogiri", "1.13.3", "CVE-2022-24836", True, "< 1.13.4"),
    # --- NuGet ---
    ("NuGet", "Newtonsoft.Json", "12.0.3", "GHSA-5crp-9r3c-p9vr", True, "< 13.0.1; no CVE alias: GHSA id"),
    ("NuGet", "newtonsoft.json", "13.0.1", "GHSA-5crp-9r3c-p9vr", False, "fixed; names case-insensitive"),
    # --- PyPI (PEP 440) ---
    ("PyPI", "Django", "2.2.0", "CVE-2019-12781", True, "in [2.2, 2.2.3)"),
    ("PyPI", "django", "2.2.3", "CVE-2019-12781", False, "fixed 2.2.3"),
    ("PyPI", "py", "1.11.0", "CVE-2022-42969", True, "last_affected 1.11.0 inclusive"),
    ("PyPI", "jinja2", "2.10", "CVE-2019-10906", True, "< 2.10.1"),
    ("PyPI", "Jinja2", "2.10.1", "CVE-2019-10906", False, "fixed 2.10.1"),
    ("PyPI", "PyYAML", "5.3", "CVE-2020-14343", True, "< 5.4"),
    ("PyPI", "pyyaml", "5.4", "CVE-2020-14343", False, "fixed 5.4"),
    ("PyPI", "pyyaml", "5.4b2", "CVE-2020-14343", True, "PEP 440 pre-release 5.4b2 < 5.4"),
    ("PyPI", "pyyaml", "1!1.0", "CVE-2020-14343", False, "epoch 1 sorts above every epoch-0 fix"),
    ("PyPI", "redis", "1.34", "PYSEC-2023-73", False, "withdrawn advisory, even though 1.34 is listed"),
    ("PyPI", "aiohttp", "0.1", "PYSEC-2022-43059", False, "withdrawn advisory"),
    ("PyPI", "werkzeug", "2.1.0", "CVE-2022-29361", True, "< 2.1.1; GIT range ignored, ECOSYSTEM range used"),
]


@pytest.mark.parametrize(("ecosystem", "package", "version", "advisory", "expected", "why"), CASES)
def test_matching_case(
    advisory_db: Path, ecosystem: str, package: str, version: str, advisory: str, expected: bool, why: str
) -> None:
    found = find_vulnerabilities(ecosystem, package, version, database=advisory_db)
    ids = {m.id for m in found} | {alias for m in found for alias in m.aliases}
    assert (advisory in ids) is expected, why


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) >= 7
