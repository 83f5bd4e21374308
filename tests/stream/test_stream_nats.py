"""NATS JetStream specifics: a commit that died half-way is undone, a late duplicate skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.stream.base import StaleBatch
from bastion.stream.connect import open_transport
from bastion.stream.consumer import StreamConsumer
from bastion.stream.nats_jetstream import NatsJetStream, _entity_key, _entity_of
from bastion.stream.redis_streams import StreamUnavailable
from conftest import NATS_URL, _nats_maker

MakeNats = Callable[..., NatsJetStream]
IDENTITY_LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "identity" / "logs"


@pytest.fixture
def make_nats() -> Iterator[MakeNats]:
    """NATS JetStream transports on one fresh prefix."""
    yield from _nats_maker()


class Counter:
    """Counts events per user in the checkpointed state."""

    def handle(
        self, events: list[dict[str, Any]], state: dict[str, Any]
    ) -> tuple[set[str], list[dict[str, Any]]]:
        for event in events:
            state[event["user"]] = state.get(event["user"], 0) + 1
        return {e["user"] for e in events}, [{"user": e["user"]} for e in events if e["last"]]


def _events(n: int) -> list[tuple[str, dict[str, Any]]]:
    return [("alice@example.org", {"user": "alice@example.org", "last": i == n - 1}) for i in range(n)]


@pytest.mark.parametrize("entity", ["alice@example.org", "", "ü/x y.z", "a" * 300])
def test_entity_keys_round_trip(entity: str) -> None:
    key = _entity_key(3, entity)
    assert key.startswith("e.3.") and _entity_of(key) == entity


def test_a_commit_that_died_half_way_is_undone_then_redone(make_nats: MakeNats) -> None:
    transport = make_nats(partitions=1, batch_size=2)
    transport.publish(_events(4))
    first = transport.read("first", [0], 500)
    assert len(first) == 1
    transport.commit(first[0], {"alice@example.org": 2}, [])
    second = transport.read("first", [0], 500)
    # the entity was written for the second batch, then the process died before the marker moved
    transport._run(transport._write_entities(0, int(second[0].id), {"alice@example.org": 999}))
    other = make_nats(partitions=1, batch_size=2)
    assert other.checkpoint(0) == {"alice@example.org": 2}  # the value before the dead commit
    consumer = StreamConsumer(other, Counter(), "other", min_idle_ms=100)
    stats = consumer.run(idle_exit_s=1.0)
    assert stats.events == 2 and stats.claimed == 1
    assert make_nats(partitions=1).checkpoint(0) == {"alice@example.org": 4}
    assert other.alerts() == [{"user": "alice@example.org"}] and other.backlog() == 0
    with pytest.raises(StaleBatch):  # the dead one comes back: too late
        transport.commit(second[0], {"alice@example.org": 4}, [{"late": True}])
    assert not any(alert.get("late") for alert in other.alerts())


def test_state_removed_with_none_and_saved_outside_a_batch(make_nats: MakeNats) -> None:
    transport = make_nats(partitions=1, batch_size=10)
    transport.publish(_events(3))
    batch = transport.read("c", [0], 500)[0]
    transport.commit(batch, {"alice@example.org": 3, "bob": 1}, [])
    transport.save(0, {"bob": None, "carol": 5}, [{"end": True}])
    assert make_nats(partitions=1).checkpoint(0) == {"alice@example.org": 3, "carol": 5}
    assert transport.alerts() == [{"end": True}]


def test_a_broker_that_is_not_there_is_one_error() -> None:
    with pytest.raises(StreamUnavailable, match="unavailable"):
        open_transport("nats://127.0.0.1:1", "bastion-test-none", retries=0, connect_s=1.0)


@pytest.fixture
def signin_stream() -> Iterator[str]:
    """The default sign-in stream on NATS, empty before and after."""
    list(_nats_maker())  # skips when NATS is down

    def wipe() -> None:
        transport = NatsJetStream.from_url(NATS_URL, "bastion:signins")
        transport.destroy()
        transport.close()

    wipe()
    yield NATS_URL
    wipe()


def test_identity_detect_on_a_nats_stream(signin_stream: str) -> None:
    runner = CliRunner()
    published = runner.invoke(
        app, ["identity", "detect", str(IDENTITY_LOGS / "okta.jsonl"), "--stream", signin_stream]
    )
    assert published.exit_code == 0, published.output
    total = int(published.output.split("published ")[1].split()[0])
    consumed = runner.invoke(
        app, ["identity", "detect", "--stream", signin_stream, "--consumer", "0/1", "--idle-exit", "0.5"]
    )
    assert consumed.exit_code == 0, consumed.output
    assert total > 0 and f"consumer 0/1: {total} events" in consumed.output
