"""Classes of packages that used to be silently missed or misnamed (issue 13, dependency extraction).

Each test writes the lockfile shape the package manager writes and checks the exact
(name, version, skip reason) set; a non-registry source must be a visible skip, never a version.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from deps_helpers import by_name, parse

from bastion.scan.deps.model import Package
from bastion.scan.deps.parsers import Workspace, parser_for
from bastion.scan.deps.parsers.npm_source import is_semver, source_reason, split_alias
from bastion.scan.deps.parsers.pnpm import DepPath, parse_dep_path
from bastion.scan.deps.parsers.python import archive_name_version, requirement_part


def _fixture(relpath: str) -> list[Package]:
    packages, notices = parse(relpath)
    assert notices == []
    return packages


def _write(tmp_path: Path, name: str, text: str) -> list[Package]:
    (tmp_path / name).write_text(text)
    packages, notices = parse(name, tmp_path)
    assert notices == []
    return packages


def test_pnpm_v5_peer_suffixes_hosts_and_file_keys() -> None:
    packages = _fixture("npm/pnpm5/pnpm-lock.yaml")
    assert {(p.name, p.version, p.skip_reason) for p in packages} == {
        ("qs", "6.10.1", None),
        ("react", "18.0.0", None),
        ("@types/node", "18.11.9", None),
        ("@babel/core", "7.20.5", None),
        ("minimist", "1.2.5", None),
        ("local-thing", None, "local path dependency"),
        ("forked", None, "git dependency"),
    }
    named = by_name(packages)
    assert named["qs"].purl == "pkg:npm/qs@6.10.1" and named["qs"].direct is True
    assert named["qs"].line == 14 and named["forked"].line == 40


@pytest.mark.parametrize(
    ("key", "major", "expected"),
    [
        ("/qs/6.10.1_react@18.0.0", 5, DepPath("qs", "6.10.1")),
        ("/@scope/pkg/1.0.0_a1b2c3d4e5", 5, DepPath("@scope/pkg", "1.0.0")),
        ("registry.example.com/@scope/pkg/2.0.0", 5, DepPath("@scope/pkg", "2.0.0")),
        ("/lodash.merge/4.6.2", 5, DepPath("lodash.merge", "4.6.2")),
        ("/qs@6.10.1(react@18.0.0)", 6, DepPath("qs", "6.10.1")),
        ("/@babel/core@7.20.5(supports-color@5.5.0)", 6, DepPath("@babel/core", "7.20.5")),
        ("registry.example.com/qs@6.10.1", 6, DepPath("qs", "6.10.1")),
        ("qs@6.10.1", 9, DepPath("qs", "6.10.1")),
        ("'@babel/core@7.20.5'", 9, DepPath("@babel/core", "7.20.5")),
        ("pkg@1.0.0-rc.1+build.5", 9, DepPath("pkg", "1.0.0-rc.1+build.5")),
        ("local@file:vendor/local.tgz", 9, DepPath("local", "file:vendor/local.tgz")),
        ("file:../shared", 9, DepPath(None, "file:../shared")),
        ("file:../shared", 5, DepPath(None, "file:../shared")),
    ],
)
def test_pnpm_dependency_paths(key: str, major: int, expected: DepPath) -> None:
    assert parse_dep_path(key, major) == expected


def test_pnpm_v6_and_v9_non_registry_entries() -> None:
    packages = _fixture("npm/pnpm9-sources/pnpm-lock.yaml")
    assert {(p.name, p.version, p.skip_reason, p.direct) for p in packages} == {
        ("forked", None, "git dependency", True),
        ("local", None, "local path dependency", True),
        ("qs", "6.10.1", None, True),
    }
    assert by_name(packages)["qs"].line == 27  # the packages entry, not the snapshot


def test_npm_v1_aliases_and_git_shorthands() -> None:
    packages = _fixture("npm/v1-sources/package-lock.json")
    assert {(p.name, p.version, p.skip_reason) for p in packages} == {
        ("lodash", "4.17.11", None),
        ("@types/node", "18.11.9", None),
        ("from-gitlab", None, "git dependency"),
        ("from-github", None, "git dependency"),
        ("from-bitbucket", None, "git dependency"),
        ("shorthand", None, "git dependency"),
        ("from-git", None, "git dependency"),
        ("tarball", None, "tarball URL dependency"),
        ("local", None, "local path dependency"),
        ("qs", "6.5.2", None),
    }
    assert by_name(packages)["lodash"].purl == "pkg:npm/lodash@4.17.11"


def test_npm_source_classification() -> None:
    assert split_alias("npm:@scope/real@1.2.3") == ("@scope/real", "1.2.3")
    assert split_alias("npm:real") is None and split_alias("1.0.0") is None
    assert is_semver("1.0.0-rc.1+build") and not is_semver("1.0") and not is_semver("latest")
    assert source_reason("https://npm.example.com/a/-/a-1.0.0.tgz", "1.0.0") is None
    assert source_reason(None, "not-a-version") == "not a registry version ('not-a-version')"
    assert source_reason(None, None) == "no version in the lock entry"


def test_yarn_classic_non_registry_specs() -> None:
    packages = _fixture("npm/yarn-sources/yarn.lock")
    assert {(p.name, p.version, p.skip_reason) for p in packages} == {
        ("lodash", "4.17.11", None),
        ("from-gitlab", None, "git dependency"),
        ("from-github", None, "git dependency"),
        ("local", None, "local path dependency"),
        ("qs", "6.5.2", None),
    }


def test_go_replace_of_one_version_applies_to_that_version_only(tmp_path: Path) -> None:
    go_mod = """module example.com/app

go 1.21

require (
\tgithub.com/a/one v1.0.0
\tgithub.com/b/two v1.0.0
\tgithub.com/c/three v1.0.0
)

replace github.com/a/one v0.9.0 => github.com/a/one v0.9.5

replace github.com/b/two => github.com/b/two-fork v1.1.0

replace (
\tgithub.com/c/three v1.0.0 => github.com/c/three v1.0.1
\tgithub.com/c/three => ../three
)
"""
    packages = _write(tmp_path, "go.mod", go_mod)
    assert {(p.name, p.version, p.skip_reason) for p in packages} == {
        ("github.com/a/one", "v1.0.0", None),  # the replace names another version
        ("github.com/b/two-fork", "v1.1.0", None),  # unversioned: every version
        ("github.com/c/three", "v1.0.1", None),  # the versioned one wins for v1.0.0
    }


def test_requirements_per_requirement_options(tmp_path: Path) -> None:
    text = (
        "alembic==1.13.1 \\\n"
        "    --hash=sha256:2edcc97bed0bd3272611ce3a98d98279e9c209e7186e43e75bbb1b2bdfdbcc43 \\\n"
        "    --hash=sha256:4932c8558bf68f2ee92b9bbcb8218671c627064d5b08939437af6d77dc05e499\n"
        "    # via bastion (pyproject.toml)\n"
        'pyyaml==5.3 --global-option="--with-libyaml"\n'
        "numpy==1.21.0 --config-settings=setup-args=-Dblas=openblas\n"
        "scipy==1.7.0 -C setup-args=-Duse-pythran=false\n"
        "lxml==4.6.2 --install-option='--static-deps'\t# comment after a tab\n"
        "requests==2.19.0 --hash sha256:63b52e3c866428a224f97cab011de738c36aec0185aa91cfacd418b5d58911d1\n"
        "--index-url https://pypi.org/simple\n"
    )
    packages = _write(tmp_path, "requirements.txt", text)
    assert {(p.name, p.version, p.line) for p in packages} == {
        ("alembic", "1.13.1", 1),
        ("pyyaml", "5.3", 5),
        ("numpy", "1.21.0", 6),
        ("scipy", "1.7.0", 7),
        ("lxml", "4.6.2", 8),
        ("requests", "2.19.0", 9),
    }
    assert requirement_part("a==1 -C x=y --hash=sha256:00") == "a==1"


def test_requirements_wheel_and_sdist_locations(tmp_path: Path) -> None:
    text = (
        "./dist/foo_bar-1.0-py3-none-any.whl\n"
        "https://files.example.com/packages/requests-2.19.0.tar.gz\n"
        "https://files.example.com/wheels/Django-2.2.0-py3-none-any.whl#sha256=00ff\n"
        "/abs/path/PyYAML-5.3.zip\n"
        "urllib3 @ https://example.com/urllib3-1.24.1-py2.py3-none-any.whl\n"
        "other @ https://example.com/urllib3-1.24.1-py2.py3-none-any.whl\n"
        "git+https://github.com/pallets/flask.git@1.0#egg=flask\n"
        "./vendor/localpkg\n"
    )
    packages = _write(tmp_path, "requirements.txt", text)
    assert {(p.name, p.version, p.skip_reason) for p in packages} == {
        ("foo-bar", "1.0", None),
        ("requests", "2.19.0", None),
        ("django", "2.2.0", None),
        ("pyyaml", "5.3", None),
        ("urllib3", "1.24.1", None),
        ("other", None, "direct URL (https)"),  # the file is another project's
        ("flask", None, "URL or path requirement"),
        ("localpkg", None, "URL or path requirement"),
    }
    assert archive_name_version("https://x/y/not-an-archive") is None
    assert archive_name_version("old_style-0.1.tar.gz") == ("old-style", "0.1")


def test_project_lock_reads_every_pin() -> None:
    """The project's own hash-locked dev requirements: every ``name==version`` line is a package."""
    root = next(p for p in Path(__file__).resolve().parents if (p / "requirements" / "dev.txt").is_file())
    text = (root / "requirements" / "dev.txt").read_text(encoding="utf-8")
    pins = {
        line.split("==")[0].split("[")[0].lower()
        for line in text.splitlines()
        if "==" in line[:80] and line[:1].isalnum()
    }
    parser = parser_for("requirements/dev.txt")
    assert parser is not None
    result = parser.parse(text, "requirements/dev.txt", Workspace(root, set()))
    packages = result.packages
    assert result.notices == []
    assert all(p.version is not None and p.skip_reason is None for p in packages)
    assert {p.name.lower() for p in packages} == pins and len(packages) == len(pins) >= 100


@pytest.mark.parametrize(
    "line",
    [
        "Django==2.2.0",
        "a.b-c_d==1.0.post1",
        "x == 1.0rc1",
        "X_Y==2!1.0+local.7",
        "x==1.0.*",
        "x[y]==1",
        'x==1 ; python_version > "3"',
        "x===1.0",
        "x==1.0.dev3",
        "x==01.02",
        "x==1.0-1",
    ],
)
def test_simple_pin_agrees_with_pep_508(line: str) -> None:
    """The fast path for ``name==version`` gives what the full parser gives, or leaves the line to it."""
    from packaging.requirements import Requirement

    from bastion.scan.deps.parsers.python import pinned_version, simple_pin

    requirement = Requirement(line)
    fast = simple_pin(line)
    if fast is not None:
        assert fast == (requirement.name, pinned_version(requirement))
    else:
        assert requirement.extras or requirement.marker or pinned_version(requirement) != line.split("==")[-1]


def test_yarn_berry_builtin_patches_are_the_release() -> None:
    """``typescript@patch:typescript@npm%3A4.9.4#optional!builtin<compat/typescript>`` is typescript 4.9.4."""
    packages = _fixture("npm/yarn-berry-patch/yarn.lock")
    assert sorted((p.name, p.version, p.skip_reason) for p in packages) == [
        ("fsevents", "2.3.3", None),
        ("my-lib", None, "patch dependency, not a registry release"),
        ("typescript", "4.9.4", None),
    ]


def test_a_file_named_alone_is_read_by_its_folder_pattern(tmp_path: Path) -> None:
    """``bastion scan requirements/dev.txt`` hands the scanner ``dev.txt``: its folder still counts."""
    folder = tmp_path / "requirements"
    folder.mkdir()
    (folder / "prod.txt").write_text("flask==0.12.2\n")
    assert parser_for("prod.txt") is None
    parser = parser_for("prod.txt", str(folder / "prod.txt"))
    assert parser is not None and parser.name == "requirements"
    assert parser_for("notes.txt", str(tmp_path / "docs" / "notes.txt")) is None


def test_skip_reasons_do_not_repeat_the_file_name(tmp_path: Path) -> None:
    """``skipped deps svc/pom.xml: pom.xml: invalid XML`` said the file name twice."""
    from deps_helpers import make_target

    from bastion.scan.base import ScanContext
    from bastion.scan.deps.options import DepsOptions
    from bastion.scan.deps.scanner import collect_packages

    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "pom.xml").write_text("<project><dependencies>\n</project>")
    (tmp_path / "npm-shrinkwrap.json").write_text("{")
    context = ScanContext("deps")
    collect_packages(make_target(tmp_path), context, DepsOptions())
    reasons = {skip.component: skip.reason for skip in context.skips}
    assert reasons["deps svc/pom.xml"].startswith("invalid XML: ")
    assert reasons["deps npm-shrinkwrap.json"].startswith("package-lock.json: invalid JSON")
