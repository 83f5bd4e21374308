"""The trend of a server-backed ``bastion ready``: the assessment the server kept last.

A Bastion server keeps one readiness assessment per scope, audience and UTC day
(:mod:`bastion.store.ready_history`). ``bastion ready --server URL`` asks the server's own
assessment of the same scope (``/api/v1/ready``, which keeps today's with the caller's rights) and
compares its local result with the earlier one the server found there: the same projects, read
through the same credential, so the comparison is like for like.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bastion.ready.collect import Fetch, SourceError

__all__ = ["READY_PATH", "server_previous"]

READY_PATH = "/api/v1/ready"
"""The server's readiness assessment (its ``trend`` names the earlier one it kept)."""


def server_previous(fetch: Fetch, project: str) -> tuple[dict[str, Any] | None, str]:
    """The server's earlier assessment of ``project`` (empty: the organisation) as a history entry
    (``at``, ``verdict``, ``overall``, ``dimensions``), or None with the reason there is none."""
    path = f"{READY_PATH}?project={quote(project, safe='')}" if project else READY_PATH
    try:
        data = fetch(path)
    except SourceError as exc:
        return None, f"no trend: the server's assessment did not answer ({exc})"
    trend = data.get("trend") if isinstance(data, dict) else None
    if not isinstance(trend, dict):
        return None, f"no trend: {path} answered no trend"
    note = str(trend.get("note") or "no earlier assessment kept on the server")
    if not trend.get("previous") or not isinstance(trend.get("previous_overall"), int | float):
        return None, note
    previous = {
        "at": trend["previous"],
        "verdict": trend.get("previous_verdict"),
        "overall": trend["previous_overall"],
        "dimensions": trend.get("previous_dimensions") or {},
    }
    return previous, str(trend.get("basis") or "")
