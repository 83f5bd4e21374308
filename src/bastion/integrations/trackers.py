"""GitHub, GitLab and Jira issues over their REST APIs: open one, read its state.

Endpoints used (and nothing else, so a stand-in implements exactly these):

* GitHub: ``POST /repos/{owner}/{repo}/issues``, ``GET /repos/{owner}/{repo}/issues/{number}``
  (``Authorization: Bearer``; state ``open`` | ``closed``).
* GitLab: ``POST /api/v4/projects/{id}/issues``, ``GET /api/v4/projects/{id}/issues/{iid}``
  (``PRIVATE-TOKEN``; state ``opened`` | ``closed``).
* Jira: ``POST /rest/api/2/issue``, ``GET /rest/api/2/issue/{key}?fields=status``
  (``Authorization: Basic`` for ``email:api-token``, else ``Bearer`` for a personal access
  token; closed when the status category is ``done``).

Errors name the tracker and the HTTP status, never the token.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from bastion.errors import BastionError
from bastion.integrations.config import TrackerConfig, TrackerKind

__all__ = ["IssueDraft", "RemoteIssue", "Tracker", "TrackerError", "open_tracker"]

TIMEOUT_S = 15.0


class TrackerError(BastionError):
    """A tracker refused or could not be reached (the message never holds a credential)."""


@dataclass(frozen=True)
class IssueDraft:
    """What to open: a title, a Markdown body and labels."""

    title: str
    body: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoteIssue:
    """An issue as the tracker reports it."""

    key: str
    """``owner/repo#42``, ``group/project#7`` or ``SEC-12``: unique within one tracker."""
    url: str
    closed: bool


class Tracker(Protocol):
    """An issue tracker: open an issue, read one back."""

    def create(self, draft: IssueDraft) -> RemoteIssue:
        """Open an issue; raises :class:`TrackerError`."""
        ...

    def fetch(self, key: str) -> RemoteIssue:
        """The issue ``key`` as it is now; raises :class:`TrackerError`."""
        ...


class _Rest:
    """An httpx client with the tracker's auth header; one place that maps failures."""

    def __init__(self, config: TrackerConfig, headers: dict[str, str], transport: httpx.BaseTransport | None):
        self.name = config.name
        self.client = httpx.Client(
            base_url=config.url,
            headers=headers,
            timeout=TIMEOUT_S,
            transport=transport,
            follow_redirects=False,
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TrackerError(f"tracker {self.name}: {method} {path}: {type(exc).__name__}") from None
        if response.status_code >= 400:
            raise TrackerError(f"tracker {self.name}: {method} {path}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise TrackerError(f"tracker {self.name}: {method} {path}: answer is not JSON") from None


def _field(data: Any, *path: str) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


class GitHubTracker:
    """Issues of one GitHub repository (``target`` is ``owner/repo``)."""

    def __init__(self, config: TrackerConfig, token: str, transport: httpx.BaseTransport | None = None):
        """Talk to ``config.url`` (``https://api.github.com`` or an Enterprise ``/api/v3``)."""
        self.repo = config.target
        self.rest = _Rest(
            config,
            {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
            transport,
        )

    def _issue(self, data: Any) -> RemoteIssue:
        number = _field(data, "number")
        if not isinstance(number, int):
            raise TrackerError(f"tracker {self.rest.name}: answer has no issue number")
        url = _field(data, "html_url")
        return RemoteIssue(f"{self.repo}#{number}", str(url or ""), _field(data, "state") == "closed")

    def create(self, draft: IssueDraft) -> RemoteIssue:
        """``POST /repos/{owner}/{repo}/issues``."""
        body = {"title": draft.title, "body": draft.body, "labels": list(draft.labels)}
        return self._issue(self.rest.call("POST", f"/repos/{self.repo}/issues", json=body))

    def fetch(self, key: str) -> RemoteIssue:
        """``GET /repos/{owner}/{repo}/issues/{number}``."""
        number = key.rpartition("#")[2]
        return self._issue(self.rest.call("GET", f"/repos/{self.repo}/issues/{quote(number)}"))


class GitLabTracker:
    """Issues of one GitLab project (``target`` is its id or ``group/project`` path)."""

    def __init__(self, config: TrackerConfig, token: str, transport: httpx.BaseTransport | None = None):
        """Talk to ``config.url`` (``https://gitlab.com`` or a self-managed instance)."""
        self.project = config.target
        self.rest = _Rest(config, {"PRIVATE-TOKEN": token}, transport)

    def _path(self) -> str:
        return f"/api/v4/projects/{quote(self.project, safe='')}/issues"

    def _issue(self, data: Any) -> RemoteIssue:
        iid = _field(data, "iid")
        if not isinstance(iid, int):
            raise TrackerError(f"tracker {self.rest.name}: answer has no issue iid")
        url = _field(data, "web_url")
        return RemoteIssue(f"{self.project}#{iid}", str(url or ""), _field(data, "state") == "closed")

    def create(self, draft: IssueDraft) -> RemoteIssue:
        """``POST /api/v4/projects/{id}/issues``."""
        body = {"title": draft.title, "description": draft.body, "labels": ",".join(draft.labels)}
        return self._issue(self.rest.call("POST", self._path(), json=body))

    def fetch(self, key: str) -> RemoteIssue:
        """``GET /api/v4/projects/{id}/issues/{iid}``."""
        return self._issue(self.rest.call("GET", f"{self._path()}/{quote(key.rpartition('#')[2])}"))


class JiraTracker:
    """Issues of one Jira project (``target`` is its key, ``SEC``)."""

    def __init__(self, config: TrackerConfig, token: str, transport: httpx.BaseTransport | None = None):
        """``token`` is ``email:api-token`` (Jira Cloud, Basic) or a personal access token (Bearer)."""
        self.config = config
        if ":" in token:
            auth = "Basic " + base64.b64encode(token.encode("utf-8")).decode("ascii")
        else:
            auth = f"Bearer {token}"
        self.rest = _Rest(config, {"Authorization": auth, "Accept": "application/json"}, transport)

    def _browse(self, key: str) -> str:
        return f"{self.config.url}/browse/{key}"

    def create(self, draft: IssueDraft) -> RemoteIssue:
        """``POST /rest/api/2/issue``."""
        fields = {
            "project": {"key": self.config.target},
            "summary": draft.title[:250],
            "description": draft.body,
            "issuetype": {"name": self.config.issue_type},
            "labels": [label.replace(" ", "-") for label in draft.labels],
        }
        key = _field(self.rest.call("POST", "/rest/api/2/issue", json={"fields": fields}), "key")
        if not isinstance(key, str) or not key:
            raise TrackerError(f"tracker {self.config.name}: answer has no issue key")
        return RemoteIssue(key, self._browse(key), False)

    def fetch(self, key: str) -> RemoteIssue:
        """``GET /rest/api/2/issue/{key}?fields=status``."""
        data = self.rest.call("GET", f"/rest/api/2/issue/{quote(key)}", params={"fields": "status"})
        category = _field(data, "fields", "status", "statusCategory", "key")
        if not isinstance(category, str):
            raise TrackerError(f"tracker {self.config.name}: issue {key} has no status category")
        return RemoteIssue(key, self._browse(key), category == "done")


def open_tracker(config: TrackerConfig, token: str, transport: httpx.BaseTransport | None = None) -> Tracker:
    """The client for ``config.kind``."""
    match config.kind:
        case TrackerKind.GITHUB:
            return GitHubTracker(config, token, transport)
        case TrackerKind.GITLAB:
            return GitLabTracker(config, token, transport)
        case TrackerKind.JIRA:
            return JiraTracker(config, token, transport)
