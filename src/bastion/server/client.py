"""Client side of uploads: ``bastion upload`` and ``bastion scan --upload`` post through here.

An upload names the repository and branch it scanned, so the server tracks each finding per
branch. When not given they are read from the CI system's variables (GitHub Actions, GitLab CI,
Azure Pipelines, Bitbucket, Jenkins, CircleCI, Buildkite; ``BASTION_REPOSITORY`` and
``BASTION_BRANCH`` first), then from git in the scanned directory (its ``origin`` remote and
checked-out branch). A remote's credentials are never sent: the server keeps host and path only.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # bastion: ignore[sast.bandit.B404] runs git with a fixed argv and no shell
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bastion.errors import InputError, UsageError

__all__ = ["CI_PLACES", "CREDENTIAL_ENV", "Place", "detect_place", "upload_document"]

CREDENTIAL_ENV = "BASTION_TOKEN"
GIT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Place:
    """The repository and branch an upload names (None: not known)."""

    repository: str | None = None
    branch: str | None = None


def _github(env: Mapping[str, str]) -> Place:
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    repo = env.get("GITHUB_REPOSITORY")
    # A pull request's run is on refs/pull/N/merge; its source branch is GITHUB_HEAD_REF.
    branch = env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME")
    return Place(f"{server}/{repo}" if repo else None, branch)


def _gitlab(env: Mapping[str, str]) -> Place:
    path = env.get("CI_PROJECT_PATH")
    repo = env.get("CI_PROJECT_URL") or (
        f"{env.get('CI_SERVER_HOST', 'gitlab.com')}/{path}" if path else None
    )
    return Place(repo, env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or env.get("CI_COMMIT_REF_NAME"))


def _azure(env: Mapping[str, str]) -> Place:
    # BUILD_SOURCEBRANCHNAME is the last segment only (release/1.2 -> 1.2): prefer the full ref.
    branch = (
        env.get("SYSTEM_PULLREQUEST_SOURCEBRANCH")
        or env.get("BUILD_SOURCEBRANCH")
        or env.get("BUILD_SOURCEBRANCHNAME")
    )
    return Place(env.get("BUILD_REPOSITORY_URI") or env.get("BUILD_REPOSITORY_NAME"), branch)


def _bitbucket(env: Mapping[str, str]) -> Place:
    name = env.get("BITBUCKET_REPO_FULL_NAME")
    return Place(f"bitbucket.org/{name}" if name else None, env.get("BITBUCKET_BRANCH"))


def _jenkins(env: Mapping[str, str]) -> Place:
    branch = env.get("CHANGE_BRANCH") or env.get("BRANCH_NAME") or env.get("GIT_BRANCH")
    if branch and branch.startswith("origin/"):
        branch = branch.removeprefix("origin/")
    return Place(env.get("GIT_URL"), branch)


CI_PLACES: tuple[tuple[str, Callable[[Mapping[str, str]], Place]], ...] = (
    ("GITHUB_ACTIONS", _github),
    ("GITLAB_CI", _gitlab),
    ("TF_BUILD", _azure),
    ("BITBUCKET_BUILD_NUMBER", _bitbucket),
    ("JENKINS_URL", _jenkins),
    ("CIRCLECI", lambda env: Place(env.get("CIRCLE_REPOSITORY_URL"), env.get("CIRCLE_BRANCH"))),
    ("BUILDKITE", lambda env: Place(env.get("BUILDKITE_REPO"), env.get("BUILDKITE_BRANCH"))),
)
"""Each CI system: the variable that says a run is on it, and how its variables name the place."""


def _git(directory: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None or not directory.is_dir():
        return None
    try:
        done = subprocess.run(  # bastion: ignore[sast.bandit.B603] git with Bastion-built arguments
            [git, "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def detect_place(
    directory: Path,
    repository: str | None = None,
    branch: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Place:
    """The place an upload of a scan of ``directory`` names: what was given, else the CI system's
    variables, else git in ``directory`` (a detached HEAD names no branch)."""
    env = os.environ if env is None else env
    found = Place(
        repository or env.get("BASTION_REPOSITORY") or None, branch or env.get("BASTION_BRANCH") or None
    )
    for marker, read in CI_PLACES:
        if found.repository and found.branch:
            break
        if env.get(marker):
            ci = read(env)
            found = Place(found.repository or ci.repository or None, found.branch or ci.branch or None)
    if not found.repository:
        found = Place(_git(directory, "config", "--get", "remote.origin.url"), found.branch)
    if not found.branch:
        # The checked-out branch, even before a first commit; a detached HEAD names none.
        found = Place(found.repository, _git(directory, "symbolic-ref", "--short", "-q", "HEAD"))
    return found


def upload_document(
    url: str,
    token: str,
    data: bytes,
    name: str,
    *,
    project: str | None = None,
    full: bool = True,
    timeout: float = 120.0,
    place: Place | None = None,
) -> dict[str, Any]:
    """POST a Bastion JSON report or SARIF log as a scan of ``place``; return the server's summary.

    ``url`` is the server's base URL. Failures become :class:`InputError` with one line
    naming the file and the server's reason.
    """
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--upload/--url {url!r}: expected an http:// or https:// URL")
    if not token:
        raise UsageError(f"no API token: pass --token or set {CREDENTIAL_ENV}")
    base = url.rstrip("/")
    path = f"/api/v1/projects/{quote(project, safe='')}/scans" if project else "/api/v1/scans"
    try:
        response = httpx.post(
            base + path,
            content=data,
            params=_params(full, place or Place()),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "X-Bastion-Filename": quote(name, safe="/._-"),
            },
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise InputError(f"{name}: upload to {base} failed: {exc}") from None
    if response.status_code != 201:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise InputError(f"{name}: upload rejected ({response.status_code}): {str(detail)[:300]}")
    result: dict[str, Any] = response.json()
    return result


def _params(full: bool, place: Place) -> dict[str, str]:
    params = {"full": "true" if full else "false"}
    if place.repository:
        params["repository"] = _no_credentials(place.repository)
    if place.branch:
        params["branch"] = place.branch
    return params


def _no_credentials(repository: str) -> str:
    """A repository URL without the user information before its host (the server drops it too:
    this keeps it off the wire and out of proxies' logs)."""
    scheme, sep, rest = repository.partition("://")
    if not sep:
        return repository
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
