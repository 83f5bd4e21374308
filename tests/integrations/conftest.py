"""Fixtures of the integrations tests: the stores of tests/store, the loopback stand-ins."""

from __future__ import annotations

from integrations_standins import smtp, standin
from store_backends import postgres_url, store

__all__ = ["postgres_url", "smtp", "standin", "store"]
