"""Fixtures of the server tests (defined in server_world)."""

from __future__ import annotations

from server_world import api, both, client, live, live_sqlite, page, postgres_url, world

__all__ = ["api", "both", "client", "live", "live_sqlite", "page", "postgres_url", "world"]
