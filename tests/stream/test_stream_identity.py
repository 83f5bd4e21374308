"""``bastion identity detect --stream``: publish parsed sign-ins, consume them in a group."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.detect.identity.engine import Engine
from bastion.detect.identity.events import Skips
from bastion.detect.identity.read import read_events
from bastion.jobs.streaming import event_of, parse_consumer, signin_of
from bastion.stream.redis_streams import RedisStreams
from conftest import REDIS_URL, redis_keys_wiped

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "identity" / "logs"
PREFIX = "bastion:signins"


@pytest.fixture
def clean_stream() -> Iterator[redis.Redis]:
    """The default sign-in stream keys of the test Redis DB, empty before and after."""
    with redis_keys_wiped(PREFIX) as client:
        yield client


def test_events_survive_the_wire() -> None:
    signins = list(read_events([LOGS / "okta.jsonl"], Skips()))
    assert signins and [signin_of(event_of(s)) for s in signins] == signins


@pytest.mark.usefixtures("clean_stream")
def test_publish_then_every_event_is_consumed_once_over_two_consumers(tmp_path: Path) -> None:
    logs = [str(LOGS / name) for name in ("entra.json", "okta.jsonl", "auth.log")]
    runner = CliRunner()
    published = runner.invoke(app, ["identity", "detect", *logs, "--stream", REDIS_URL, "--year", "2026"])
    assert published.exit_code == 0, published.output
    assert "published" in published.output and "(0 dropped: partitions full)" in published.output
    total = int(published.output.split("published ")[1].split()[0])
    assert total > 0
    seen = 0
    for index in range(2):
        out = tmp_path / f"alerts{index}.jsonl"
        consumed = runner.invoke(
            app,
            ["identity", "detect", "--stream", REDIS_URL, "--consumer", f"{index}/2", "--idle-exit", "0.5",
             "--format", "jsonl", "-o", str(out)],
        )  # fmt: skip
        assert consumed.exit_code == 0, consumed.output
        seen += int(consumed.output.split(": ")[1].split()[0])
    assert seen == total  # every event once over the group
    transport = RedisStreams.from_url(REDIS_URL, PREFIX, 16)
    assert transport.backlog() == 0
    users = {user for p in range(16) for user in transport.checkpoint(p)}
    alone = Engine()
    list(alone.run(read_events([Path(p) for p in logs], Skips(), 2026)))
    assert users == set(alone.state.profiles)  # a checkpointed baseline per identity


@pytest.mark.usefixtures("clean_stream")
def test_bad_stream_usage() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["identity", "detect"])
    assert result.exit_code == 2 and "give LOGS, or --stream URL --consumer INDEX/COUNT" in result.output
    result = runner.invoke(app, ["identity", "detect", "--stream", REDIS_URL, "--consumer", "2/2"])
    assert result.exit_code == 2 and "--consumer '2/2': give INDEX/COUNT" in result.output
    result = runner.invoke(
        app, ["identity", "detect", str(LOGS / "okta.jsonl"), "--stream", "redis://127.0.0.1:1/0"]
    )
    assert result.exit_code == 2 and "error: stream broker" in result.output


@pytest.mark.parametrize(("text", "expected"), [("0/1", (0, 1)), ("3/4", (3, 4))])
def test_parse_consumer(text: str, expected: tuple[int, int]) -> None:
    assert parse_consumer(text) == expected
