"""``bastion upload`` names the repository and branch it scanned: from --repository/--branch, from
the CI system's variables, or from git in the scanned directory; a remote's credentials never
reach the server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from server_world import Live, bearer
from test_server_branches import sarif
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.server.client import CI_PLACES, Place, detect_place

runner = CliRunner()
CI_MARKERS = [marker for marker, _ in CI_PLACES]
NAMES = ("BASTION_REPOSITORY", "BASTION_BRANCH", "GITHUB_HEAD_REF")


@pytest.fixture
def no_ci(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment with no CI system's markers (the tests may run inside one)."""
    for name in (*CI_MARKERS, *NAMES):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _git(directory: Path, *args: str) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not on PATH")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run([git, "-C", str(directory), *args], check=True, capture_output=True, env=env)


def _upload(live: Live, report: Path, *extra: str) -> str:
    result = runner.invoke(
        app, ["upload", str(report), "--url", live.url, "--token", live.world.demo_token, *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _scans(live: Live) -> list[tuple[str, str]]:
    rows = httpx.get(f"{live.url}/api/v1/projects/demo/scans", headers=bearer(live.world.demo_token)).json()
    return [(row["repository"], row["branch"]) for row in rows]


def test_upload_with_options_then_from_ci_variables(
    live: Live, tmp_path: Path, no_ci: pytest.MonkeyPatch
) -> None:
    both, one = tmp_path / "both.sarif", tmp_path / "one.sarif"
    both.write_bytes(sarif("sqli", "eval"))
    one.write_bytes(sarif("sqli"))
    elsewhere = ["--source", str(tmp_path)]  # not a git checkout
    out = _upload(
        live, both, "--repository", "https://github.com/acme/shop.git", "--branch", "release/1.2", *elsewhere
    )
    assert "of github.com/acme/shop release/1.2 · 2 findings, 2 new" in out
    no_ci.setenv("GITHUB_ACTIONS", "true")
    no_ci.setenv("GITHUB_SERVER_URL", "https://github.com")
    no_ci.setenv("GITHUB_REPOSITORY", "acme/shop")
    no_ci.setenv("GITHUB_REF_NAME", "main")
    assert "of github.com/acme/shop main · 2 findings, 0 new" in _upload(live, both, *elsewhere)
    out = _upload(live, one, *elsewhere)
    assert "1 reopened" not in out and "0 fixed (1 more fixed here, still open on other branches)" in out
    no_ci.delenv("GITHUB_ACTIONS")
    no_ci.setenv("GITLAB_CI", "true")
    no_ci.setenv("CI_PROJECT_URL", "https://github.com/acme/shop")
    no_ci.setenv("CI_COMMIT_REF_NAME", "release/1.2")
    assert "1 fixed" in _upload(live, one, *elsewhere)  # fixed on release too: fixed everywhere
    assert _scans(live) == [
        ("github.com/acme/shop", "release/1.2"),
        ("github.com/acme/shop", "main"),
        ("github.com/acme/shop", "main"),
        ("github.com/acme/shop", "release/1.2"),
    ]


def test_upload_reads_git_in_the_scanned_directory(
    live: Live, tmp_path: Path, no_ci: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    _git(checkout, "init", "-q", "-b", "feature/login")
    _git(checkout, "remote", "add", "origin", "https://deploy:hunter2-secret@gitlab.example.com/team/app.git")
    report = tmp_path / "scan.sarif"
    report.write_bytes(sarif("sqli"))
    out = _upload(live, report, "--source", str(checkout))
    assert "of gitlab.example.com/team/app feature/login" in out and "hunter2" not in out
    no_ci.setenv("BASTION_BRANCH", "hotfix")
    assert "of gitlab.example.com/team/app hotfix" in _upload(live, report, "--source", str(checkout))
    no_ci.delenv("BASTION_BRANCH")
    _git(
        checkout,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    _git(checkout, "checkout", "-q", "--detach")
    assert "of gitlab.example.com/team/app default branch" in _upload(live, report, "--source", str(checkout))
    assert "of default branch" in _upload(live, report, "--source", str(tmp_path))  # no git there
    assert _scans(live)[-1] == ("gitlab.example.com/team/app", "feature/login")
    assert all("hunter2" not in repository for repository, _ in _scans(live))


def test_ci_variables_of_each_system(tmp_path: Path) -> None:
    def place(**env: str) -> Place:
        return detect_place(tmp_path, env=env)

    assert place(
        GITHUB_ACTIONS="true", GITHUB_REPOSITORY="a/b", GITHUB_REF_NAME="12/merge", GITHUB_HEAD_REF="fix"
    ) == Place("https://github.com/a/b", "fix")
    assert place(
        GITLAB_CI="true", CI_PROJECT_PATH="g/p", CI_SERVER_HOST="gl.example", CI_COMMIT_REF_NAME="main"
    ) == Place("gl.example/g/p", "main")
    azure = place(
        TF_BUILD="True",
        BUILD_REPOSITORY_URI="https://dev.azure.com/o/p/_git/r",
        BUILD_SOURCEBRANCH="refs/heads/release/1.2",
        BUILD_SOURCEBRANCHNAME="1.2",
    )
    assert azure == Place(
        "https://dev.azure.com/o/p/_git/r", "refs/heads/release/1.2"
    )  # the server drops refs/heads/
    assert place(BITBUCKET_BUILD_NUMBER="7", BITBUCKET_REPO_FULL_NAME="w/r", BITBUCKET_BRANCH="dev") == Place(
        "bitbucket.org/w/r", "dev"
    )
    assert place(JENKINS_URL="http://j", GIT_URL="https://h/r.git", GIT_BRANCH="origin/main") == Place(
        "https://h/r.git", "main"
    )
    assert place(CIRCLECI="true", CIRCLE_REPOSITORY_URL="git@github.com:a/b.git", CIRCLE_BRANCH="x") == Place(
        "git@github.com:a/b.git", "x"
    )
    assert place(BUILDKITE="true", BUILDKITE_REPO="r", BUILDKITE_BRANCH="y") == Place("r", "y")
    # Given values and Bastion's own variables come first; a CI variable without its marker is not read.
    assert detect_place(
        tmp_path, "mine", None, env={"BASTION_BRANCH": "b", "GITHUB_REF_NAME": "main"}
    ) == Place("mine", "b")
    assert place(GITHUB_REF_NAME="main") == Place(None, None)
