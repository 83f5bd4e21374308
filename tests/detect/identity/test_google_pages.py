"""Google Workspace login audit pages as the Reports API returns them (newest first, several pages):
read in time order, so failures before a success count as such (success after many failures)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bastion.cli.main import main
from bastion.detect.identity.events import Skips
from bastion.detect.identity.read import read_events
from bastion.errors import InputError

T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)


def _activity(at: datetime, user: str, ip: str, name: str, failure: str = "") -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [{"name": "login_type", "value": "google_password"}]
    if failure:
        parameters.append({"name": "login_failure_type", "value": failure})
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "applicationName": "login",
        },
        "actor": {"email": user},
        "ipAddress": ip,
        "events": [{"type": "login", "name": name, "parameters": parameters}],
    }


def _pages(folder: Path) -> Path:
    """Ten days of carol's habit, then 15 wrong passwords and a success from a new address, written
    newest first in pages of 7 (page 1 the newest), as the API lists them."""
    items = [
        _activity(T0 + timedelta(days=d), "carol@ex.com", "203.0.113.7", "login_success") for d in range(10)
    ]
    attack = T0 + timedelta(days=11)
    items += [
        _activity(
            attack + timedelta(seconds=20 * k),
            "carol@ex.com",
            "198.51.100.66",
            "login_failure",
            "login_failure_invalid_password",
        )
        for k in range(15)
    ]
    items.append(_activity(attack + timedelta(minutes=6), "carol@ex.com", "198.51.100.66", "login_success"))
    newest_first = items[::-1]
    folder.mkdir()
    for page, start in enumerate(range(0, len(newest_first), 7), 1):
        document = {"kind": "admin#reports#activities", "items": newest_first[start : start + 7]}
        (folder / f"page-{page}.json").write_text(json.dumps(document))
    return folder


def test_newest_first_pages_are_read_in_time_order(tmp_path: Path) -> None:
    skips = Skips()
    events = list(read_events([_pages(tmp_path / "google")], skips))
    assert len(events) == 26 and skips.total == 0
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert events[-1].success and not events[-2].success and events[-2].reason == "bad_password"


def test_one_line_pages_of_every_kind_are_read(tmp_path: Path) -> None:
    """Short pages fit on one line (JSON lines to the format sniffer): their records are still read."""
    graph = {
        "value": [
            {
                "createdDateTime": T0.isoformat(),
                "userPrincipalName": "d@ex.com",
                "ipAddress": "192.0.2.1",
                "status": {"errorCode": 0},
            }
        ]
    }
    odd = {"items": "not a list", "kind": "x"}
    log = tmp_path / "pages.json"
    log.write_text(json.dumps(graph) + "\n" + json.dumps(odd) + "\n")
    skips = Skips()
    events = list(read_events([log], skips))
    assert [(e.user, e.success) for e in events] == [("d@ex.com", True)]
    assert skips.total == 1


def test_success_after_failures_on_google_pages(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    code = main(["identity", "detect", str(_pages(tmp_path / "google")), "--format", "jsonl", "-o", str(out)])
    assert code == 1
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    kinds = {a["kind"] for a in alerts}
    assert "success-after-failures" in kinds
    hit = next(a for a in alerts if a["kind"] == "success-after-failures")
    assert hit["users"] == ["carol@ex.com"] and hit["ips"] == ["198.51.100.66"]


def test_a_page_with_a_byte_order_mark_or_in_latin_1(tmp_path: Path) -> None:
    """orjson reads pages from their bytes; a BOM is stepped over, and what it refuses goes to the json
    module, which reads several documents in a row and names what is wrong."""
    page = {
        "kind": "admin#reports#activities",
        "items": [_activity(T0, "dé@ex.com", "203.0.113.7", "login_success")],
    }
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(page, indent=1, ensure_ascii=False).encode())
    twice = tmp_path / "twice.json"
    one = _activity(T0, "dé@ex.com", "203.0.113.7", "login_success")
    twice.write_text(json.dumps(one, indent=1) + "\n" + json.dumps(one, indent=1))  # records in a row
    latin = tmp_path / "latin.json"
    latin.write_bytes(json.dumps(page, indent=1, ensure_ascii=False).encode("latin-1"))
    skips = Skips()
    assert [e.user for e in read_events([bom], skips)] == ["dé@ex.com"]
    assert [e.user for e in read_events([twice], skips)] == ["dé@ex.com"] * 2
    with pytest.raises(InputError, match=r"latin\.json: not valid JSON"):
        list(read_events([latin], skips))
