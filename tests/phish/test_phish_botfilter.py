"""The scanner filter: each signal with a positive and a near miss, and OpenAEV's rule beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bastion.errors import InputError
from bastion.phish.botfilter import EventView, classify, load_rules, openaev_rule

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
RULES = load_rules()


def _event(
    n: int,
    kind: str = "click",
    after_s: float = 600,
    *,
    user_agent: str = FIREFOX,
    ip: str = "198.51.100.7",
    method: str = "GET",
    prefetch: bool = False,
    cookie: bool = False,
) -> EventView:
    at = T0 + timedelta(seconds=after_s)
    return EventView(n, 1, kind, at, method, user_agent, ip, after_s, prefetch, cookie)


def _human_click(after_s: float = 600) -> list[EventView]:
    return [_event(1, after_s=after_s), _event(2, "beacon", after_s + 1.5, cookie=True, method="POST")]


def _reasons(events: list[EventView]) -> list[list[str]]:
    return [c.reasons for c in classify(events, RULES)]


def test_a_person_is_not_automated() -> None:
    assert _reasons(_human_click()) == [[], []]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"user_agent": "Mozilla/5.0 (compatible; Slackbot-LinkExpanding 1.0)"}, "user agent: Slack preview"),
        ({"user_agent": ""}, "user agent: no user agent"),
        ({"ip": "40.107.22.5"}, "scanner network: Microsoft Exchange Online Protection"),
        ({"method": "HEAD"}, "HEAD request"),
        ({"prefetch": True}, "prefetch request"),
    ],
)
def test_each_signal_names_its_reason(extra: dict[str, Any], reason: str) -> None:
    events = [_event(1, **extra), _event(2, "beacon", 601.5, cookie=True, method="POST")]
    assert reason in _reasons(events)[0]


def test_near_misses() -> None:
    assert _reasons([_event(1, ip="40.106.255.255"), _event(2, "beacon", 601, cookie=True)])[0] == []
    assert _reasons([_event(1, user_agent=FIREFOX + " Teamsy"), _event(2, "beacon", 601, cookie=True)])[
        0
    ] == ["user agent: Microsoft Teams preview"]
    assert _reasons([_event(1, ip="not-an-ip"), _event(2, "beacon", 601, cookie=True)])[0] == []


def test_seconds_after_delivery() -> None:
    assert _reasons(_human_click(after_s=1.5))[0] == ["1.5 s after delivery"]
    assert _reasons(_human_click(after_s=RULES.fast_seconds + 0.1))[0] == []


def test_no_script_or_no_cookie_on_the_landing_page() -> None:
    assert not RULES.use_beacon  # off in the shipped rules: see botfilter.yml and bench/phish/RESULTS.md
    assert _reasons([_event(1)]) == [[]]
    rules = RULES.model_copy(update={"use_beacon": True})
    reason = "landing page ran no script / sent no cookie back"

    def reasons(events: list[EventView]) -> list[str]:
        return classify(events, rules)[0].reasons

    assert reasons([_event(1)]) == [reason]
    assert reasons([_event(1), _event(2, "beacon", 601, cookie=False)]) == [reason]
    late = rules.beacon_wait_seconds + 1
    assert reasons([_event(1), _event(2, "beacon", 600 + late, cookie=True)]) == [reason]
    assert reasons([_event(1), _event(2, "beacon", 601, cookie=True)]) == []


def test_every_link_at_once() -> None:
    burst = [_event(1), _event(2, "report", 601), _event(3, "beacon", 601.2, cookie=True)]
    reasons = _reasons(burst)
    assert (
        "every link of the message within 2 s" in reasons[0]
        and "every link of the message within 2 s" in reasons[1]
    )
    spaced = [_event(1), _event(3, "beacon", 601.2, cookie=True), _event(2, "report", 900)]
    assert _reasons(spaced) == [[], [], []]
    other_ip = [
        _event(1),
        _event(3, "beacon", 601.2, cookie=True),
        _event(2, "report", 601, ip="203.0.113.9"),
    ]
    assert _reasons(other_ip) == [[], [], []]


def test_openaev_rule() -> None:
    assert openaev_rule(_event(1, after_s=9.9)) and not openaev_rule(_event(1, after_s=10))
    assert openaev_rule(_event(1, user_agent="python-requests/2.32"))
    assert not openaev_rule(_event(1, ip="40.107.22.5"))


def test_invalid_rules_file(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yml"
    bad.write_text("fast_seconds: -1\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"rules.yml: fast_seconds: Input should be greater than or equal to 0"
    ):
        load_rules(bad)
    bad.write_text("networks: [{name: x, cidrs: ['10.0.0.0/33']}]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"rules.yml: networks: "):
        load_rules(bad)


def test_apple_mail_privacy_protection_is_an_open_only_network() -> None:
    """Apple's relays fetch a message's images, they never click: an open from 17/8 is a machine's,
    a click from there is judged like any other click."""
    mpp_open = _event(1, "open", 3600, user_agent="Mozilla/5.0", ip="17.58.101.9")
    assert _reasons([mpp_open])[0] == ["scanner network: Apple Mail Privacy Protection"]
    click = [_event(1, ip="17.1.2.3"), _event(2, "beacon", 601.5, cookie=True, method="POST")]
    assert _reasons(click) == [[], []]
    assert RULES.network_of("17.1.2.3") == "Apple Mail Privacy Protection"  # any kind when none is asked


def test_a_network_kind_that_is_not_a_request_kind(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yml"
    bad.write_text("networks: [{name: x, cidrs: ['10.0.0.0/8'], kinds: [opens]}]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"rules.yml: networks.0.kinds.0: Input should be 'open'"):
        load_rules(bad)
