"""A labelled mix of tracked requests: people and the machines that open mail links.

Two generators with different behaviour models, so that the filter's settings are chosen on one
and measured on the other:

- ``tune`` (generator A): the scanner kinds and delays commonly described for Exchange Online Safe
  Links, Proofpoint URL Defense, chat previews, image proxies and HEAD link checkers.
- ``heldout`` (generator B): other proportions and delay distributions, other browser strings and
  address pools, and two kinds A has not: a sandbox that runs a full browser (script and cookie)
  from cloud addresses in no list, and Apple Mail Privacy Protection's pixel fetches.

People in both: opens (a fifth through Outlook, whose user agent says ``Microsoft Office``), clicks
(some within seconds: people who read mail as it arrives), the landing script's beacon (a few have
scripts off), submits and reports. Labels: ``human`` or ``automated`` per request; beacons are
support requests and are not scored.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bastion.phish.botfilter import EventView

__all__ = ["Labelled", "generate"]

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

BROWSERS_A = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Safari/605.1.15",
)
BROWSERS_B = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
    "Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
)
PREVIEWS = (
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
)
OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"


@dataclass(frozen=True)
class Labelled:
    """One request and whether a machine made it."""

    event: EventView
    automated: bool


@dataclass(frozen=True)
class Profile:
    """The knobs that differ between the two generators."""

    browsers: tuple[str, ...]
    human_net: str
    open_p: float
    click_p: float
    fast_reader_p: float
    script_off_p: float
    report_p: float
    safe_links_p: float
    proofpoint_p: float
    preview_p: float
    head_p: float
    prefetch_p: float
    image_proxy_p: float
    sandbox_p: float
    sandbox_runs_js_p: float
    apple_mpp_p: float
    mpp_net: str = "17.58"
    """Where Mail Privacy Protection's fetches come from ("17": anywhere in Apple's 17.0.0.0/8)."""
    mpp_spread_s: float = 60.0
    """Fetches come up to this long after delivery (when the device gets the message)."""
    apple_people_p: float = 0.0
    """People reading and clicking from Apple's own network (an open there is still ambiguous)."""


PROFILES = {
    "tune": Profile(BROWSERS_A, "198.51.100", 0.55, 0.22, 0.04, 0.02, 0.15,
                    0.35, 0.15, 0.05, 0.08, 0.05, 0.15, 0.0, 0.0, 0.0),
    "heldout": Profile(BROWSERS_B, "203.0.113", 0.45, 0.15, 0.06, 0.03, 0.22,
                       0.25, 0.25, 0.08, 0.05, 0.08, 0.10, 0.12, 0.5, 0.20),
    # C: written after the Apple network rule, to check it beyond B: MPP from anywhere in 17/8, up to
    # three hours after delivery, and some people clicking from Apple's network themselves
    "heldout2": Profile(BROWSERS_A + BROWSERS_B, "192.0.2", 0.50, 0.18, 0.05, 0.04, 0.18,
                        0.30, 0.20, 0.06, 0.06, 0.06, 0.12, 0.08, 0.3, 0.35,
                        mpp_net="17", mpp_spread_s=3 * 3600.0, apple_people_p=0.03),
}  # fmt: skip


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.out: list[Labelled] = []
        self.next_id = 1

    def add(self, recipient: int, kind: str, after_s: float, automated: bool, **fields: object) -> None:
        values: dict[str, object] = {
            "method": "GET",
            "user_agent": "",
            "ip": "",
            "prefetch": False,
            "cookie": False,
        }
        values.update(fields)
        event = EventView(
            self.next_id,
            recipient,
            kind,
            T0 + timedelta(seconds=after_s),
            str(values["method"]),
            str(values["user_agent"]),
            str(values["ip"]),
            after_s,
            bool(values["prefetch"]),
            bool(values["cookie"]),
        )
        self.next_id += 1
        self.out.append(Labelled(event, automated))


def _ip(rng: random.Random, prefix: str) -> str:
    parts = prefix.split(".")
    while len(parts) < 4:
        parts.append(str(rng.randint(1, 254)))
    return ".".join(parts)


def _human(b: _Builder, r: int, p: Profile) -> None:
    rng = b.rng
    # the draw only where the profile has such people, so that A and B stay as they were
    apple = p.apple_people_p > 0 and rng.random() < p.apple_people_p
    ip = _ip(rng, "17.1" if apple else p.human_net)
    ua = rng.choice(p.browsers)
    if rng.random() < p.open_p:
        open_ua = OUTLOOK if rng.random() < 0.2 else ua
        b.add(r, "open", rng.lognormvariate(6.5, 1.3), False, user_agent=open_ua, ip=ip)
    if rng.random() < p.click_p:
        at = rng.uniform(3, 20) if rng.random() < p.fast_reader_p else rng.lognormvariate(7.2, 1.4)
        kind = "attachment" if rng.random() < 0.15 else "click"
        b.add(r, kind, at, False, user_agent=ua, ip=ip)
        if rng.random() >= p.script_off_p:
            b.add(
                r, "beacon", at + rng.uniform(0.4, 3), False, user_agent=ua, ip=ip, method="POST", cookie=True
            )
        if rng.random() < 0.5:
            b.add(
                r,
                "submit",
                at + rng.uniform(15, 120),
                False,
                user_agent=ua,
                ip=ip,
                method="POST",
                cookie=True,
            )
    elif rng.random() < p.report_p:
        at = rng.uniform(4, 15) if rng.random() < 0.05 else rng.lognormvariate(7.0, 1.2)
        b.add(r, "report", at, False, user_agent=ua, ip=ip)


def _all_links(b: _Builder, r: int, start: float, spread: float, **fields: object) -> None:
    for kind in ("click", "report", "attachment"):
        b.add(r, kind, start + b.rng.uniform(0, spread), True, **fields)


def _machines(b: _Builder, r: int, p: Profile) -> None:
    rng = b.rng
    if rng.random() < p.safe_links_p:
        ua = rng.choice(("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/120.0.0.0 Safari/537.36", "ms-office; MSOffice 16"))  # fmt: skip
        _all_links(
            b, r, rng.uniform(0.5, 6), 1.0, user_agent=ua, ip=_ip(rng, rng.choice(("40.107", "52.101")))
        )
    if rng.random() < p.proofpoint_p:
        ua = rng.choice(("Mozilla/5.0 (compatible)", "python-requests/2.31.0", BROWSERS_A[0]))
        start = rng.uniform(1, 20) if rng.random() < 0.7 else rng.uniform(20, 400)
        _all_links(b, r, start, 2.0, user_agent=ua, ip=_ip(rng, rng.choice(("148.163.1", "67.231.145"))))
    if rng.random() < p.preview_p:
        ua = rng.choice(PREVIEWS)
        b.add(r, "click", rng.uniform(3600, 5 * 86400), True, user_agent=ua, ip=_ip(rng, "54.84"))
    if rng.random() < p.head_p:
        ua = rng.choice(p.browsers)
        b.add(r, "click", rng.uniform(1, 3000), True, user_agent=ua, ip=_ip(rng, "35.190"), method="HEAD")
    if rng.random() < p.prefetch_p:
        ua = rng.choice(p.browsers)
        b.add(r, "click", rng.uniform(5, 900), True, user_agent=ua, ip=_ip(rng, p.human_net), prefetch=True)
    if rng.random() < p.image_proxy_p:
        ua = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
        b.add(r, "open", rng.uniform(1, 40), True, user_agent=ua, ip=_ip(rng, "66.249.84"))
    if rng.random() < p.sandbox_p:
        ip = _ip(rng, rng.choice(("34.105", "18.204", "20.110")))
        ua = rng.choice(p.browsers)
        start = rng.uniform(20, 600)
        _all_links(b, r, start, 2.5, user_agent=ua, ip=ip)
        if rng.random() < p.sandbox_runs_js_p:
            b.add(r, "beacon", start + 1.0, True, user_agent=ua, ip=ip, method="POST", cookie=True)
    if rng.random() < p.apple_mpp_p:
        at = rng.uniform(1, p.mpp_spread_s)
        b.add(r, "open", at, True, user_agent="Mozilla/5.0", ip=_ip(rng, p.mpp_net))


def generate(profile: str, seed: int, recipients: int) -> list[Labelled]:
    """The labelled requests of ``recipients`` messages under ``profile`` (``tune``, ``heldout``,
    ``heldout2``)."""
    rng = random.Random(
        seed
    )  # bastion: ignore[sast.bandit.B311] a reproducible synthetic data set, not security
    builder = _Builder(rng)
    settings = PROFILES[profile]
    for recipient in range(1, recipients + 1):
        _human(builder, recipient, settings)
        _machines(builder, recipient, settings)
    return builder.out
