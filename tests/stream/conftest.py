"""Fixtures of the stream tests: a Redis Streams transport under a key prefix of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from bastion.stream.redis_streams import RedisStreams

REDIS_URL = os.environ.get("BASTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")

MakeTransport = Callable[..., RedisStreams]


@pytest.fixture
def make_transport() -> Iterator[MakeTransport]:
    """Build transports on one fresh prefix (deleted afterwards); skips without Redis."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} not reachable: {exc}")
    prefix = f"bastion-test-stream-{uuid.uuid4().hex[:10]}"

    def make(**options: object) -> RedisStreams:
        return RedisStreams.from_url(REDIS_URL, prefix, **options)  # type: ignore[arg-type]

    yield make
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
