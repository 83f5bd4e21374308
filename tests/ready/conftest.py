"""Fixtures of the readiness tests (defined in ready_world and server_world)."""

from __future__ import annotations

from ready_world import seeded, seeded_live
from server_world import live_sqlite, page, world
from store_backends import postgres_url

__all__ = ["live_sqlite", "page", "postgres_url", "seeded", "seeded_live", "world"]
