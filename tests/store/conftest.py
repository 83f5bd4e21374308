"""Fixtures of the store tests: a migrated store on SQLite and on PostgreSQL."""

from __future__ import annotations

from store_backends import postgres_url, store

__all__ = ["postgres_url", "store"]
