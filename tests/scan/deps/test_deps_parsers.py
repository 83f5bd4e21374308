"""Every manifest parser on a fixture shaped like the real tool's output."""

from __future__ import annotations

from pathlib import Path

import pytest
from deps_helpers import by_name, parse

from bastion.scan.deps.model import ManifestError, make_purl
from bastion.scan.deps.parsers import Workspace, parser_for
from bastion.scan.deps.parsers.javascript import parse_package_lock


def test_requirements_pins_hashes_markers_extras_includes_urls() -> None:
    packages, notices = parse("python/requirements.txt")
    named = by_name(packages)
    assert named["Django"].version == "2.2.0" and named["Django"].line == 6
    assert named["requests"].version == "2.19.0" and named["requests"].line == 9
    assert named["flask"].version == "0.12.2"
    assert named["Jinja2"].version is None and "not pinned (>=2.10)" in (named["Jinja2"].skip_reason or "")
    assert named["urllib3"].version is None  # wildcard pin
    assert named["werkzeug"].skip_reason == "editable install (-e)"
    assert (named["mylib"].version, named["mylib"].skip_reason) == ("1.0", None)  # from the sdist name
    assert named["localpkg"].skip_reason == "URL or path requirement"
    assert named["PyYAML"].path == "python/requirements/base.in" and named["PyYAML"].line == 1
    assert "pyyaml" not in {p.name for p in packages}  # constraints pin nothing
    assert notices and notices[0][1] == 16 and "not a valid requirement" in notices[0][0]
    assert named["Django"].purl == "pkg:pypi/django@2.2.0"


def test_requirements_missing_include(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r missing.txt\nsix==1.16.0\n")
    packages, notices = parse("requirements.txt", tmp_path)
    assert [p.name for p in packages] == ["six"]
    assert notices == [("included file missing.txt not found", 1)]


def test_poetry_lock_marks_direct_and_git() -> None:
    named = by_name(parse("python/poetry.lock")[0])
    assert named["jinja2"].version == "2.10" and named["jinja2"].direct is True and named["jinja2"].line == 3
    assert named["markupsafe"].direct is True  # declared in the sibling pyproject.toml
    assert named["werkzeug"].version == "2.0.0" and "git source" in (named["werkzeug"].skip_reason or "")


def test_pyproject_pep621() -> None:
    named = by_name(parse("python/pyproject.toml")[0])
    assert named["jinja2"].version == "2.10" and named["jinja2"].line == 6
    assert named["pyyaml"].version == "5.3"
    assert named["markupsafe"].skip_reason == "version not pinned (>=2.0)"
    assert named["sphinx"].scope == "optional:docs"


def test_pipfile_lock() -> None:
    named = by_name(parse("python/Pipfile.lock")[0])
    assert named["django"].version == "2.2.0" and named["django"].line == 19
    assert named["pyyaml"].scope == "dev"
    assert named["mylib"].skip_reason == "git or path source"


def test_uv_lock() -> None:
    named = by_name(parse("python/uv.lock")[0])
    assert "orders" not in named
    assert named["requests"].direct is True and named["urllib3"].direct is False
    assert named["urllib3"].version == "1.24.1"
    assert "path source" in (named["localtool"].skip_reason or "")


def test_pdm_lock() -> None:
    named = by_name(parse("pdm/pdm.lock")[0])
    assert named["flask"].version == "0.12.2" and named["flask"].line == 10


def test_package_lock_v3() -> None:
    packages, notices = parse("npm/v3/package-lock.json")
    named = by_name(packages)
    assert named["lodash"].direct is True and named["lodash"].line == 31
    assert named["qs"].direct is False and named["qs"].version == "6.7.0"
    assert named["minimist"].scope == "dev"
    assert named["forked-lib"].skip_reason == "git dependency"
    assert "shared-ui" not in named
    assert notices == []


def test_package_lock_v1_nested() -> None:
    packages = parse("npm/v1/package-lock.json")[0]
    assert {(p.name, p.version, p.direct) for p in packages} == {
        ("lodash", "4.17.15", True),
        ("mkdirp", "0.5.1", True),
        ("minimist", "0.0.8", False),
    }


def test_package_lock_bad_input() -> None:
    workspace = Workspace(Path("."))
    with pytest.raises(ManifestError) as err:
        parse_package_lock('{\n  "lockfileVersion": 3,\n  "packages": {', "package-lock.json", workspace)
    assert err.value.line == 3
    text = (
        '{\n"lockfileVersion": 7,\n"packages": {"node_modules/a": {"version": "1.0.0"},\n'
        '"node_modules/a": {"version": "2.0.0"}}}'
    )
    result = parse_package_lock(text, "package-lock.json", workspace)
    assert [p.version for p in result.packages] == ["2.0.0"]
    assert ("unknown lockfileVersion 7; read as version 3", 2) in result.notices
    assert ("duplicate key 'node_modules/a'; the last value is used", 4) in result.notices


def test_yarn_classic() -> None:
    named = by_name(parse("npm/yarn-classic/yarn.lock")[0])
    assert named["@babel/code-frame"].version == "7.12.13" and named["@babel/code-frame"].line == 5
    assert named["lodash"].version == "4.17.11" and named["lodash"].line == 12
    assert named["my-fork"].skip_reason == "git dependency"


def test_yarn_berry() -> None:
    named = by_name(parse("npm/yarn-berry/yarn.lock")[0])
    assert named["minimist"].version == "1.2.5" and named["minimist"].line == 8
    assert "orders-web" not in named
    assert named["left-pad"].version is None


def test_pnpm_v6_and_v9() -> None:
    six = by_name(parse("npm/pnpm6/pnpm-lock.yaml")[0])
    assert six["lodash"].version == "4.17.15" and six["lodash"].direct is True and six["lodash"].line == 19
    assert six["semver"].version == "7.5.1"
    nine = by_name(parse("npm/pnpm9/pnpm-lock.yaml")[0])
    assert nine["@babel/code-frame"].version == "7.12.13" and nine["qs"].version == "6.9.6"
    assert nine["qs"].direct is True


def test_pom_with_parent_properties_and_management() -> None:
    packages, notices = parse("java/multi/web/pom.xml")
    named = by_name(packages)
    struts = named["org.apache.struts:struts2-core"]
    assert (struts.version, struts.line) == ("2.3.31", 15)
    assert struts.purl == "pkg:maven/org.apache.struts/struts2-core@2.3.31"
    assert named["org.apache.logging.log4j:log4j-core"].version == "2.14.1"
    assert named["org.springframework:spring-beans"].version == "5.3.17"
    assert named["com.example.shop:shop-model"].version == "3.1.0"
    assert "version range" in (named["org.apache.commons:commons-text"].skip_reason or "")
    assert "undefined property" in (named["junit:junit"].skip_reason or "")
    assert named["junit:junit"].scope == "test"
    assert notices == []


def test_pom_bad_and_unsafe(tmp_path: Path) -> None:
    (tmp_path / "pom.xml").write_text("<project><dependencies><dependency>\n</project>")
    with pytest.raises(ManifestError, match="invalid XML"):
        parse("pom.xml", tmp_path)
    bomb = '<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY a "aaaa">]>\n<project>&a;</project>'
    (tmp_path / "pom.xml").write_text(bomb)
    with pytest.raises(ManifestError, match="refused unsafe XML"):
        parse("pom.xml", tmp_path)
    (tmp_path / "pom.xml").write_text("<settings/>")
    with pytest.raises(ManifestError, match="not a Maven POM"):
        parse("pom.xml", tmp_path)


def test_pom_parent_outside_repository(tmp_path: Path) -> None:
    (tmp_path / "pom.xml").write_text(
        "<project><parent><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-parent</artifactId>"
        "<version>2.6.3</version></parent><dependencies><dependency><groupId>a</groupId><artifactId>b</artifactId>"
        "</dependency></dependencies></project>"
    )
    packages, notices = parse("pom.xml", tmp_path)
    assert packages[0].skip_reason == "version not declared here nor managed in the repository's POMs"
    assert "parent POM is not in the repository" in notices[0][0]


def test_gradle_lockfile() -> None:
    packages, notices = parse("java/gradle/gradle.lockfile")
    named = by_name(packages)
    assert (
        named["org.apache.commons:commons-text"].version == "1.9"
        and named["org.apache.commons:commons-text"].line == 5
    )
    assert named["junit:junit"].scope == "test"
    assert notices == [("not a group:artifact:version=configurations line", 8)]


def test_go_mod() -> None:
    named = by_name(parse("go/go.mod")[0])
    assert named["github.com/dgrijalva/jwt-go"].version == "v3.2.0+incompatible"
    assert named["github.com/dgrijalva/jwt-go"].direct is True
    assert named["golang.org/x/net"].direct is False
    assert named["github.com/opencontainers/runc"].version == "v1.1.12"  # replaced
    assert named["github.com/example/internal"].skip_reason == "replaced by local path ../internal"
    assert named["google.golang.org/grpc"].line == 12
    assert named["google.golang.org/grpc"].purl == "pkg:golang/google.golang.org/grpc@v1.58.2"


def test_cargo_lock() -> None:
    named = by_name(parse("rust/Cargo.lock")[0])
    assert "orders" not in named
    assert named["regex"].version == "1.5.4" and named["regex"].line == 13
    assert named["forked"].skip_reason == "git dependency, not a registry release"


def test_gemfile_lock() -> None:
    named = by_name(parse("ruby/Gemfile.lock")[0])
    assert named["actionview"].version == "5.2.2" and named["actionview"].direct is True
    assert named["activesupport"].direct is False
    assert named["nokogiri"].version == "1.13.3"  # platform suffix removed
    assert named["internal-gem"].skip_reason == "git source, not a rubygems.org release"


def test_composer_lock() -> None:
    named = by_name(parse("php/composer.lock")[0])
    assert named["guzzlehttp/guzzle"].version == "7.4.4" and named["guzzlehttp/guzzle"].line == 9
    assert named["phpunit/phpunit"].scope == "dev"
    assert named["example/wip"].version is None


def test_nuget_lock() -> None:
    named = by_name(parse("dotnet/packages.lock.json")[0])
    assert named["Newtonsoft.Json"].version == "12.0.3" and named["Newtonsoft.Json"].direct is True
    assert named["System.Text.Json"].direct is False
    assert "Orders.Core" not in named


def test_parser_selection() -> None:
    assert parser_for("a/requirements-dev.txt") is not None
    assert parser_for("requirements/prod.txt") is not None
    assert parser_for("docs/notes.txt") is None
    assert parser_for("x/other.lockfile") is not None
    assert make_purl("npm", "@babel/core", "7.0.0") == "pkg:npm/%40babel/core@7.0.0"
