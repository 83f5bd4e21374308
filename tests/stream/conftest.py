"""Fixtures of the stream tests: each transport under a prefix of its own (deleted afterwards).

``make_transport`` runs a test on every transport (Redis Streams, NATS JetStream): the contract;
``make_redis`` only on Redis (Redis-specific behaviour: a consumer's own pending entries)."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import redis

from bastion.stream.nats_jetstream import NatsJetStream
from bastion.stream.redis_streams import RedisStreams

REDIS_URL = os.environ.get("BASTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
NATS_URL = os.environ.get("BASTION_TEST_NATS_URL", "nats://127.0.0.1:4222")

MakeTransport = Callable[..., RedisStreams | NatsJetStream]


def _redis_maker() -> Iterator[Callable[..., RedisStreams]]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} not reachable: {exc}")
    prefix = f"bastion-test-stream-{uuid.uuid4().hex[:10]}"

    def make(**options: object) -> RedisStreams:
        options.pop("ack_wait_ms", None)
        return RedisStreams.from_url(REDIS_URL, prefix, **options)  # type: ignore[arg-type]

    yield make
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def _nats_maker() -> Iterator[Callable[..., NatsJetStream]]:
    where = urlsplit(NATS_URL)
    try:
        socket.create_connection((where.hostname or "127.0.0.1", where.port or 4222), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"NATS at {NATS_URL} not reachable: {exc}")
    prefix = f"bastion-test-{uuid.uuid4().hex[:10]}"
    made: list[NatsJetStream] = []

    def make(**options: object) -> NatsJetStream:
        options.setdefault("ack_wait_ms", 300)
        transport = NatsJetStream.from_url(NATS_URL, prefix, **options)  # type: ignore[arg-type]
        made.append(transport)
        return transport

    yield make
    if made:
        made[0].destroy()
    for transport in made:
        transport.close()


@pytest.fixture(params=["redis", "nats"])
def make_transport(request: pytest.FixtureRequest) -> Iterator[MakeTransport]:
    """Build transports of one kind on one fresh prefix; skips when its broker is down."""
    yield from (_redis_maker() if request.param == "redis" else _nats_maker())


@pytest.fixture
def make_redis() -> Iterator[Callable[..., RedisStreams]]:
    """Build Redis Streams transports on one fresh prefix."""
    yield from _redis_maker()


@contextlib.contextmanager
def redis_keys_wiped(prefix: str) -> Iterator[redis.Redis]:
    """The test Redis DB with no key under ``prefix`` before and after (skips when Redis is down)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} not reachable: {exc}")

    def wipe() -> None:
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)

    wipe()
    try:
        yield client
    finally:
        wipe()
        client.close()
