"""Sigma events through the stream: published by host, matched by two consumers of one group."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bastion.detect.sigma.engine import SigmaEngine
from bastion.detect.sigma.event import Event
from bastion.detect.sigma.events import ReadSkips, read_events
from bastion.detect.sigma.loader import load_rules
from bastion.jobs.sigma_stream import consume_events, event_of, publish_events, sigma_event_of
from bastion.stream.consumer import ConsumerStats
from conftest import MakeTransport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sigma"
LOGS = [FIXTURES / "sysmon.jsonl", FIXTURES / "auth.log", FIXTURES / "cloudtrail.json"]


def _hits(events: Iterable[Event]) -> list[tuple[str, str]]:
    engine = SigmaEngine(load_rules([FIXTURES / "rules"]))
    found = []
    for event in events:
        hits, _ = engine.process(event)
        found.extend((hit.rule.id, hit.event.source) for hit in hits)
    return sorted(found)


def test_events_survive_the_wire() -> None:
    events = list(read_events(LOGS, ReadSkips()))
    again = [sigma_event_of(event_of(e)) for e in events]
    assert [(e.raw, e.tags, e.timestamp, e.host, e.source) for e in again] == [
        (e.raw, e.tags, e.timestamp, e.host, e.source) for e in events
    ]


def test_two_consumers_match_what_one_process_matches(make_transport: MakeTransport) -> None:
    transport = make_transport(partitions=8, batch_size=16)
    published = publish_events(transport, read_events(LOGS, ReadSkips()))
    assert published.accepted > 0 and published.dropped == 0
    stats: list[ConsumerStats] = []
    consumed = [list(consume_events(transport, i, 2, 0.3, stats)) for i in range(2)]
    assert sum(len(c) for c in consumed) == published.accepted == sum(s.events for s in stats)
    streamed = _hits([e for part in consumed for e in part])
    alone = _hits(read_events(LOGS, ReadSkips()))
    assert streamed == alone and alone  # same rule matches, none lost, none doubled
    assert transport.backlog() == 0
