"""One place that turns a broker URL into a stream transport (``redis://``, ``rediss://``,
``nats://``)."""

from __future__ import annotations

from typing import Any

from bastion.errors import UsageError
from bastion.stream.base import Transport

__all__ = ["SCHEMES", "open_transport"]

SCHEMES = ("redis", "rediss", "unix", "nats", "tls")


def open_transport(url: str, prefix: str, partitions: int = 16, **options: Any) -> Transport:
    """The transport for ``url``: Redis Streams for ``redis://``, NATS JetStream for ``nats://``;
    :class:`UsageError` for another scheme, ``StreamUnavailable`` when the broker does not answer."""
    scheme = url.partition("://")[0].lower()
    if scheme in ("redis", "rediss", "unix"):
        from bastion.stream.redis_streams import RedisStreams

        return RedisStreams.from_url(url, prefix, partitions, **options)
    if scheme in ("nats", "tls"):
        from bastion.stream.nats_jetstream import NatsJetStream

        return NatsJetStream.from_url(url, prefix, partitions, **options)
    raise UsageError(f"stream URL scheme {scheme!r} is not supported: use redis:// or nats://")
