"""Each manifest editor raises one version and changes nothing else, or says why it cannot."""

from __future__ import annotations

import pytest

from bastion.fix.manifests import Bump, edit_manifest, manifest_for


def _edit(path: str, text: str, package: str, current: str, target: str, ecosystem: str = "PyPI") -> tuple:
    outcome = edit_manifest(path, text, Bump(ecosystem, package, current, target))
    return outcome.text, outcome.note


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Django==2.2.0\n", "Django==2.2.28\n"),
        ("django == 2.2.0  # pinned\n", "django ==2.2.28  # pinned\n"),
        (
            "Django[argon2]==2.2.0 ; python_version >= '3.6'\n",
            "Django[argon2]==2.2.28 ; python_version >= '3.6'\n",
        ),
        ("django>=2.0,<3\n", "django>=2.2.28,<3\n"),
        ("django~=2.2.0\n", "django~=2.2.28\n"),
        ("django>2.0\n", "django>=2.2.28\n"),
    ],
)
def test_requirements_lines(line: str, expected: str) -> None:
    text, note = _edit("requirements.txt", "flask==1.0\n" + line, "django", "2.2.0", "2.2.28")
    assert text == "flask==1.0\n" + expected
    assert note == ""


def test_requirements_upper_bound_that_excludes_the_fix_is_left_with_a_note() -> None:
    text, note = _edit("requirements-dev.txt", "django>=2.0,<2.2.10\n", "Django", "2.2.0", "2.2.28")
    assert text is None
    assert "still excludes 2.2.28" in note


def test_requirements_hashes_of_the_old_version_are_removed_with_a_note() -> None:
    before = "Django==2.2.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
    before += "flask==1.0 \\\n    --hash=sha256:cc\n"
    text, note = _edit("requirements.txt", before, "django", "2.2.0", "2.2.28")
    assert text == "Django==2.2.28\nflask==1.0 \\\n    --hash=sha256:cc\n"
    assert "--hash lines of django were removed" in note


def test_a_name_that_only_starts_alike_is_not_touched() -> None:
    text, note = _edit("requirements.txt", "django-extensions==2.2.0\n", "django", "2.2.0", "2.2.28")
    assert text is None and "no version constraint" in note


def test_pyproject_pep621_and_poetry_tables() -> None:
    pep621 = '[project]\ndependencies = [\n    "jinja2==2.10",\n'
    pep621 += "    \"pyyaml==5.3 ; python_version >= '3.8'\",\n]\n"
    text, _ = _edit("pyproject.toml", pep621, "PyYAML", "5.3", "5.4")
    assert text == pep621.replace("pyyaml==5.3", "pyyaml==5.4")
    poetry = '[tool.poetry.dependencies]\npython = "^3.10"\nrequests = "^2.19.0"\n'
    poetry += 'Jinja2 = { version = "2.10", optional = true }\n'
    text, _ = _edit("pyproject.toml", poetry, "requests", "2.19.0", "2.31.0")
    assert text == poetry.replace('"^2.19.0"', '"^2.31.0"')
    text, _ = _edit("pyproject.toml", poetry, "jinja2", "2.10", "2.11.3")
    assert 'Jinja2 = { version = "2.11.3", optional = true }' in (text or "")


def test_pipfile_and_cargo_toml() -> None:
    text, _ = _edit("Pipfile", '[packages]\ndjango = "==2.2.0"\n', "Django", "2.2.0", "2.2.28")
    assert text == '[packages]\ndjango = "==2.2.28"\n'
    cargo = '[dependencies]\nregex = "1.5.4"\nserde = { version = "1.0", features = ["derive"] }\n'
    text, _ = _edit("Cargo.toml", cargo, "regex", "1.5.4", "1.5.5", "crates.io")
    assert text == cargo.replace('"1.5.4"', '"1.5.5"')


@pytest.mark.parametrize(
    ("before", "after"),
    [("^4.17.11", "^4.17.21"), ("~4.17.11", "~4.17.21"), ("4.17.11", "4.17.21"), (">=4.17.11", ">=4.17.21")],
)
def test_package_json_keeps_the_range_operator(before: str, after: str) -> None:
    text = (
        '{\n  "name": "x",\n  "dependencies": {\n    "lodash": "' + before + '",\n    "qs": "6.7.0"\n  }\n}\n'
    )
    new, _ = _edit("package.json", text, "lodash", "4.17.11", "4.17.21", "npm")
    assert new == text.replace(before, after)


def test_package_json_complex_range_and_transitive() -> None:
    text = '{\n  "devDependencies": {\n    "lodash": "^3 || ^4.17.11"\n  },\n'
    text += '  "scripts": {\n    "qs": "1.0"\n  }\n}\n'
    new, note = _edit("package.json", text, "lodash", "4.17.11", "4.17.21", "npm")
    assert new is None and "edit by hand" in note
    new, note = _edit("package.json", text, "qs", "1.0", "6.7.3", "npm")
    assert new is None and "not a direct dependency" in note


def test_package_json_on_one_line_is_raised_not_overridden() -> None:
    """A direct entry sharing its line with others is raised in place: an ``overrides`` pin
    against a direct dependency is an error to npm (EOVERRIDE), which the real npm reported."""
    text = (
        '{"name": "x", "overrides": {"qs": "6.7.0"}, "dependencies": {"lodash": "~4.17.11", "qs": "6.7.0"}}\n'
    )
    new, note = _edit("package.json", text, "qs", "6.7.0", "6.7.3", "npm")
    assert new == text.replace('"qs": "6.7.0"}}', '"qs": "6.7.3"}}') and note == ""
    new, _ = _edit("package.json", text, "lodash", "4.17.11", "4.17.21", "npm")
    assert new == text.replace("~4.17.11", "~4.17.21")


def test_package_json_direct_entry_it_cannot_change_is_never_overridden() -> None:
    text = '{"dependencies": {"lodash": "4.17.11 || 5"}}\n'
    outcome = edit_manifest(
        "package.json", text, Bump("npm", "lodash", "4.17.11", "4.17.21", "package-lock.json")
    )
    assert outcome.text is None and "direct dependency" in outcome.note


def test_go_mod_block_and_single_line() -> None:
    text = "module x\n\nrequire (\n\tgolang.org/x/net v0.15.0 // indirect\n)\n\n"
    text += "require google.golang.org/grpc v1.58.2\n"
    new, _ = _edit("go.mod", text, "golang.org/x/net", "v0.15.0", "0.17.0", "Go")
    assert new == text.replace("v0.15.0", "v0.17.0")
    new, _ = _edit("go.mod", text, "google.golang.org/grpc", "1.58.2", "1.58.3", "Go")
    assert new == text.replace("v1.58.2", "v1.58.3")
    new, note = _edit("go.mod", text, "example.com/other", "1.0.0", "1.0.1", "Go")
    assert new is None and "not required" in note


POM = """<project>
  <properties><struts2.version>2.3.31</struts2.version></properties>
  <dependencies>
    <dependency><groupId>org.apache.struts</groupId><artifactId>struts2-core</artifactId>
      <version>${struts2.version}</version></dependency>
    <dependency><groupId>org.springframework</groupId><artifactId>spring-beans</artifactId>
      <version>5.3.17</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>${junit.version}</version></dependency>
  </dependencies>
</project>
"""


def test_pom_version_and_property() -> None:
    new, _ = _edit("pom.xml", POM, "org.apache.struts:struts2-core", "2.3.31", "2.3.32", "Maven")
    assert new == POM.replace("<struts2.version>2.3.31<", "<struts2.version>2.3.32<")
    new, _ = _edit("pom.xml", POM, "org.springframework:spring-beans", "5.3.17", "5.3.18", "Maven")
    assert new == POM.replace("5.3.17", "5.3.18")


@pytest.mark.parametrize(
    ("package", "message"),
    [
        ("org.apache.logging.log4j:log4j-core", "parent or BOM"),
        ("junit:junit", "defined elsewhere"),
        ("org.example:absent", "not declared"),
    ],
)
def test_pom_cases_left_to_a_person(package: str, message: str) -> None:
    new, note = _edit("pom.xml", POM, package, "1", "2", "Maven")
    assert new is None and message in note


def test_pom_property_with_another_value() -> None:
    new, note = _edit("pom.xml", POM, "org.apache.struts:struts2-core", "2.3.20", "2.3.32", "Maven")
    assert new is None and "not '2.3.20'" in note


def test_gemfile() -> None:
    text = "source 'https://rubygems.org'\ngem 'rest-client', '~> 1.6.13'\ngem \"nokogiri\"\n"
    new, _ = _edit("Gemfile", text, "rest-client", "1.6.13", "1.7.0", "RubyGems")
    assert new == text.replace("'~> 1.6.13'", "'~> 1.7.0'")
    new, note = _edit("Gemfile", text, "nokogiri", "1.13.3", "1.13.4", "RubyGems")
    assert new is None and "lockfile refresh" in note
    new, note = _edit("Gemfile", text, "rails", "5", "6", "RubyGems")
    assert new is None and "not declared" in note


def test_unknown_manifest_kind_and_manifest_for() -> None:
    new, note = _edit("packages.lock.json", "{}", "x", "1", "2", "NuGet")
    assert new is None and "does not edit" in note
    assert manifest_for("web/package-lock.json") == "web/package.json"
    assert manifest_for("poetry.lock") == "pyproject.toml"
    assert manifest_for("requirements/base.in") == "requirements/base.in"


GRADLE = """dependencies {
    implementation 'org.apache.logging.log4j:log4j-core:2.14.1'
    implementation("org.apache.commons:commons-text:1.9")
    implementation group: 'org.springframework', name: 'spring-beans', version: '5.3.17'
    implementation "com.example:lib:$libVersion"
}
"""


@pytest.mark.parametrize(
    ("package", "current", "target", "old", "new"),
    [
        (
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "2.16.0",
            "log4j-core:2.14.1'",
            "log4j-core:2.16.0'",
        ),
        ("org.apache.commons:commons-text", "1.9", "1.10.0", 'commons-text:1.9"', 'commons-text:1.10.0"'),
        ("org.springframework:spring-beans", "5.3.17", "5.3.18", "version: '5.3.17'", "version: '5.3.18'"),
    ],
)
def test_gradle_coordinates_and_maps(package: str, current: str, target: str, old: str, new: str) -> None:
    for name in ("build.gradle", "build.gradle.kts"):
        text, _ = _edit(name, GRADLE, package, current, target, "Maven")
        assert text == GRADLE.replace(old, new)


def test_gradle_version_from_a_variable_or_absent() -> None:
    text, note = _edit("build.gradle", GRADLE, "com.example:lib", "1.0", "1.1", "Maven")
    assert text is None and "comes from a variable" in note
    text, note = _edit("build.gradle", GRADLE, "org.example:gone", "1.0", "1.1", "Maven")
    assert text is None and "not declared" in note


def test_composer_json() -> None:
    text = '{\n  "require": {\n    "guzzlehttp/guzzle": "^7.4.1"\n  },\n'
    text += '  "require-dev": {\n    "x/y": "1.0"\n  }\n}\n'
    new, _ = _edit("composer.json", text, "guzzlehttp/guzzle", "7.4.1", "7.4.5", "Packagist")
    assert new == text.replace("^7.4.1", "^7.4.5")
    new, note = _edit("composer.json", text, "a/b", "1", "2", "Packagist")
    assert new is None and "not required in composer.json" in note


CSPROJ = """<Project Sdk="Microsoft.NET.Sdk">
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" Version="12.0.3" />
    <PackageReference Include="Serilog">
      <Version>2.10.0</Version>
    </PackageReference>
    <PackageReference Include="Dapper" />
  </ItemGroup>
</Project>
"""


def test_msbuild_package_references() -> None:
    new, _ = _edit("api/Api.csproj", CSPROJ, "Newtonsoft.Json", "12.0.3", "13.0.1", "NuGet")
    assert new == CSPROJ.replace('Version="12.0.3"', 'Version="13.0.1"')
    new, _ = _edit("Api.fsproj", CSPROJ, "serilog", "2.10.0", "2.12.0", "NuGet")
    assert new == CSPROJ.replace("<Version>2.10.0</Version>", "<Version>2.12.0</Version>")
    new, note = _edit("Api.csproj", CSPROJ, "Dapper", "1", "2", "NuGet")
    assert new is None and "no PackageReference version" in note
    props = '<Project>\n  <ItemGroup>\n    <PackageVersion Include="Newtonsoft.Json" Version="12.0.3" />\n'
    props += "  </ItemGroup>\n</Project>\n"
    new, _ = _edit("Directory.Packages.props", props, "Newtonsoft.Json", "12.0.3", "13.0.1", "NuGet")
    assert new == props.replace("12.0.3", "13.0.1")
