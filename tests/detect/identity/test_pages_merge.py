"""Whole-document files (pages) merged in time order while only the pages the merge has reached are
open: the bound each file's timestamps give, and the merge's order and laziness."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion.detect.identity.events import SignIn, Skips
from bastion.detect.identity.pages import earliest, merge_documents
from bastion.detect.identity.read import read_events
from bastion.errors import InputError

T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)


def test_earliest_reads_every_stamp_form() -> None:
    doc = b'{"a": "2026-02-03T10:00:00.123Z", "b": "2026-02-02 23:59:59", "c": "not 2026-01-01T00:00:00Z"}'
    assert earliest(io.BytesIO(doc)) == datetime(2026, 2, 2, 23, 59, 59, tzinfo=UTC)
    offset = b'{"t": "2026-02-03T10:00:00+05:30", "u": "2026-02-03T09:00:00Z"}'
    # a stamp with an offset may be up to 14 hours ahead of UTC: the bound allows for it
    assert earliest(io.BytesIO(offset)) == datetime(2026, 2, 2, 19, tzinfo=UTC)
    assert earliest(io.BytesIO(b'{"n": 1}')) == datetime.min.replace(tzinfo=UTC)
    assert earliest(io.BytesIO(b'{"t": "2026-13-40T10:00:00Z"}')) == datetime.min.replace(tzinfo=UTC)


def _events(times: list[int]) -> list[SignIn]:
    return [SignIn(T0 + timedelta(minutes=m), "u", "192.0.2.1", True) for m in times]


def test_merge_opens_a_page_only_when_it_is_reached() -> None:
    pages = {Path("p1"): [0, 1, 2], Path("p2"): [3, 4], Path("p3"): [2, 5], Path("empty"): []}
    opened: list[str] = []

    def read(path: Path) -> Iterator[SignIn]:
        opened.append(path.name)
        return iter(_events(pages[path]))

    def bound(path: Path) -> datetime:
        return T0 + timedelta(minutes=min(pages[path] or [1]))

    merged = merge_documents(list(pages), bound, read)
    first = next(merged)
    assert first.time == T0 and opened == ["p1"]
    rest = [int((e.time - T0).total_seconds() // 60) for e in merged]
    assert rest == [1, 2, 2, 3, 4, 5] and sorted(opened) == ["empty", "p1", "p2", "p3"]


def _page(items: list[tuple[int, str]]) -> str:
    def activity(minutes: int, name: str) -> dict[str, object]:
        stamp = (T0 + timedelta(minutes=minutes)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "kind": "admin#reports#activity",
            "id": {"time": stamp, "applicationName": "login"},
            "actor": {"email": "carol@ex.com"},
            "ipAddress": "203.0.113.7",
            "events": [{"type": "login", "name": name}],
        }

    doc = {"kind": "admin#reports#activities", "items": [activity(m, n) for m, n in items][::-1]}
    return json.dumps(doc, indent=1)  # several lines: a whole document to the format sniffer


def test_pages_and_lines_read_together_in_time_order(tmp_path: Path) -> None:
    (tmp_path / "a-page.json").write_text(_page([(30, "login_success"), (40, "login_success")]))
    (tmp_path / "b-page.json").write_text(
        _page([(0, "login_success"), (10, "logout"), (20, "login_success")])
    )
    with gzip.open(tmp_path / "c-page.json.gz", "wt") as handle:
        handle.write(_page([(50, "login_success")]))
    entra = {"createdDateTime": (T0 + timedelta(minutes=25)).isoformat(), "userPrincipalName": "d@ex.com"}
    (tmp_path / "d.jsonl").write_text(json.dumps(entra) + "\n")
    skips = Skips()
    events = list(read_events([tmp_path], skips))
    assert [int((e.time - T0).total_seconds() // 60) for e in events] == [0, 20, 25, 30, 40, 50]
    assert skips.total == 1  # the logout


def test_a_broken_page_among_pages_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(_page([(0, "login_success")]))
    (tmp_path / "b.json").write_text(_page([(5, "login_success")]))
    (tmp_path / "c.json.gz").write_bytes(b"\x1f\x8bnot gzip at all")
    with pytest.raises(InputError, match=r"c\.json\.gz: cannot read"):
        list(read_events([tmp_path], Skips()))
