"""Fixtures of the phishing tests (defined in phish_world)."""

from __future__ import annotations

from phish_world import any_store, fixtures, mailbox, postgres_url, store, tls_mailbox

__all__ = ["any_store", "fixtures", "mailbox", "postgres_url", "store", "tls_mailbox"]
