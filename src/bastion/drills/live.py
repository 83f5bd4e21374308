"""Live mode (``drill run --live``, lab only): safe real actions against the exercise's own targets.

Every action names a target by the name the exercise file lists under ``live.targets``; a name
that is not listed, or a URL that is not one of the listed ones, is refused before anything is
sent (:class:`LiveRefused`). The actions are harmless probes (an HTTP GET of the scenario's
attack paths) whose requests and answers are recorded; the lab's own logs then show them to the
detectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from bastion.drills.exercise import Exercise
from bastion.drills.scenario import Scenario
from bastion.errors import InputError

__all__ = ["LiveRefused", "LiveResult", "check_targets", "run_live"]


class LiveRefused(InputError):
    """A live action named a target the exercise does not list."""


@dataclass(frozen=True)
class LiveResult:
    """One request a live action sent."""

    scenario: str
    target: str
    url: str
    status: int | None
    time: datetime
    error: str = ""


def _listed_url(ex: Exercise, name: str, scenario: Scenario) -> str:
    if name not in ex.live_targets:
        raise LiveRefused(
            f"{scenario.path or scenario.id}: live target {name!r} is not listed under live.targets "
            f"in {ex.path or 'the exercise'}"
        )
    url = ex.live_targets[name]
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise LiveRefused(f"{ex.path}: live target {name!r} is not an http(s) URL: {url!r}")
    return url


def check_targets(ex: Exercise, scenarios: Sequence[Scenario]) -> list[tuple[Scenario, str, str]]:
    """Every (scenario, target name, full URL) the live actions would request; :class:`LiveRefused`
    on the first that is not listed. Nothing is sent."""
    planned: list[tuple[Scenario, str, str]] = []
    for s in scenarios:
        for step in s.steps:
            if step.live is None:
                continue
            base = _listed_url(ex, step.live.target, s)
            for path in step.live.paths:
                url = urljoin(base.rstrip("/") + "/", path.lstrip("/"))
                if urlsplit(url).netloc != urlsplit(base).netloc:
                    raise LiveRefused(
                        f"{s.path or s.id}: live path {path!r} leaves target {step.live.target!r}"
                    )
                planned.append((s, step.live.target, url))
    return planned


def run_live(ex: Exercise, client: httpx.Client | None = None) -> list[LiveResult]:
    """Send every live action of the exercise's scenarios (after :func:`check_targets` passed for all)."""
    planned = check_targets(ex, ex.scenarios)
    own = client is None
    http = client or httpx.Client(timeout=5.0, follow_redirects=False)
    results: list[LiveResult] = []
    try:
        for s, target, url in planned:
            try:
                status: int | None = http.get(url).status_code
                error = ""
            except httpx.HTTPError as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            results.append(LiveResult(s.id, target, url, status, datetime.now(UTC), error))
    finally:
        if own:
            http.close()
    return results
