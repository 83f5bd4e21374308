"""Background telemetry: what a normal day of the organisation looks like to each detector.

Real data where there is some: service log files (``baseline.logs``) and sign-in logs in any
format ``bastion identity detect`` reads (``baseline.signins``) named in the exercise are replayed
time-shifted onto the exercise period (looped when shorter) with names rewritten by the mapping
file. Elsewhere a seeded generator draws office-hours sign-ins, ordinary process starts, web
requests and a steady service log for the organisation's users and hosts.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bastion.detect.identity.events import BAD_PASSWORD, SignIn, Skips
from bastion.detect.identity.read import read_events
from bastion.detect.ingest.records import Record, read_lines, read_records
from bastion.drills.exercise import Organisation
from bastion.drills.scenario import FAMILIES
from bastion.drills.telemetry import FileChange, Item, stamp
from bastion.errors import InputError

__all__ = ["Baseline", "app_records", "clean_tree", "generate", "signin_items"]

_T = TypeVar("_T")

_APPS = ("Azure Portal", "Office 365", "Microsoft Teams", "sshd", "VPN")
_PROCESSES = (
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", '"chrome.exe" --type=renderer'),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", '"OUTLOOK.EXE"'),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE", '"EXCEL.EXE" /dde'),
    ("C:\\Windows\\System32\\notepad.exe", '"notepad.exe" C:\\Users\\Public\\notes.txt'),
    ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"),
    ("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p"),
    (
        "C:\\Users\\Public\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe",
        '"Teams.exe" --system-initiated',
    ),
)
_PAGES = (
    "/",
    "/index.html",
    "/products.php?id=12",
    "/static/app.js",
    "/static/site.css",
    "/login",
    "/search?q=shoes",
)
_APP_LINES = (
    "[notice] jk2_init() Found child {n} in scoreboard slot {slot}",
    "[notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
    "[error] mod_jk child workerEnv in error state {slot}",
)


def _home_ip(i: int) -> str:
    return f"192.0.2.{i % 250 + 1}" if i < 250 else f"198.18.{i // 250}.{i % 250 + 1}"


def identity(org: Organisation, start: datetime, end: datetime, per_day: float, seed: int) -> Iterator[Item]:
    """Office-hours sign-ins: each user from one home address and device, now and then a typo first."""
    rng = random.Random(f"{seed}:identity")  # bastion: ignore[sast.bandit.B311] background, not a secret
    days = max(1, int((end - start).total_seconds() // 86400 + 1))
    for u, user in enumerate(org.users):
        ip, device = _home_ip(u), f"laptop-{u:04d}"
        for d in range(days):
            day = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=d)
            for _ in range(int(per_day) + (rng.random() < per_day % 1)):
                t = day + timedelta(hours=rng.uniform(7.5, 18.5))
                if not start <= t < end:
                    continue
                app = _APPS[rng.randrange(len(_APPS))]
                if rng.random() < 0.03:
                    typo = SignIn(t, user, ip, False, BAD_PASSWORD, app=app, device=device, country="GB")
                    yield Item(t, "identity", typo)
                    t = t + timedelta(seconds=20)
                ok = SignIn(t, user, ip, True, app=app, device=device, country="GB", city="London")
                ok.lat, ok.lon = 51.5, -0.12
                yield Item(t, "identity", ok)


def processes(org: Organisation, start: datetime, end: datetime, per_day: float, seed: int) -> Iterator[Item]:
    """Ordinary Sysmon process creations (EventID 1) on the organisation's hosts."""
    rng = random.Random(f"{seed}:processes")  # bastion: ignore[sast.bandit.B311] background, not a secret
    span = (end - start).total_seconds()
    n = int(per_day * span / 86400)
    for h, host in enumerate(org.hosts):
        user = org.users[h % len(org.users)].split("@")[0] if org.users else "user"
        for _ in range(n):
            t = start + timedelta(seconds=rng.uniform(0, span))
            image, cmd = _PROCESSES[rng.randrange(len(_PROCESSES))]
            event = {
                "Event": {
                    "System": {
                        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                        "EventID": 1,
                        "Channel": "Microsoft-Windows-Sysmon/Operational",
                        "Computer": host,
                        "TimeCreated": {"#attributes": {"SystemTime": t.isoformat().replace("+00:00", "Z")}},
                    },
                    "EventData": {
                        "Image": image,
                        "CommandLine": cmd,
                        "ParentImage": "C:\\Windows\\explorer.exe",
                        "User": f"CORP\\{user}",
                        "IntegrityLevel": "Medium",
                    },
                }
            }
            yield Item(t, "sigma", event)


def web(start: datetime, end: datetime, per_hour: float, seed: int) -> Iterator[Item]:
    """Ordinary requests to the public web app (combined access-log lines)."""
    rng = random.Random(f"{seed}:web")  # bastion: ignore[sast.bandit.B311] background, not a secret
    span = (end - start).total_seconds()
    for _ in range(int(per_hour * span / 3600)):
        t = start + timedelta(seconds=rng.uniform(0, span))
        ip = f"100.64.{rng.randrange(64)}.{rng.randrange(1, 255)}"
        page = _PAGES[rng.randrange(len(_PAGES))]
        size = rng.randrange(200, 9000)
        line = f'{ip} - - [{stamp(t, "web")}] "GET {page} HTTP/1.1" 200 {size} "-" "Mozilla/5.0"'
        yield Item(t, "sigma", line, stream="web")


def app_lines(start: datetime, end: datetime, per_hour: float, seed: int) -> Iterator[Item]:
    """A steady service log in Apache error-log form (when no real log is given)."""
    rng = random.Random(f"{seed}:app")  # bastion: ignore[sast.bandit.B311] background, not a secret
    span = (end - start).total_seconds()
    n = int(per_hour * span / 3600)
    for k in range(n):
        t = start + timedelta(seconds=span * (k + rng.random()) / n)
        text = _APP_LINES[rng.choices((0, 1, 2), (8, 1, 1))[0]].format(
            n=rng.randrange(1000, 9999), slot=rng.randrange(6, 12)
        )
        yield Item(t, "watch", f"[{stamp(t, 'app')}] {text}", stream="app")


def _shifted(
    stamped: Sequence[tuple[datetime, _T]], start: datetime, end: datetime
) -> Iterator[tuple[datetime, _T]]:
    """``stamped`` (in time order) moved so it begins at ``start``, looped at its own pace until ``end``."""
    first, last = stamped[0][0], stamped[-1][0]
    length = max((last - first).total_seconds(), 1.0) + 1.0
    loop = 0
    while True:
        shift = start - first + timedelta(seconds=length * loop)
        for stamp_, thing in stamped:
            t = stamp_ + shift
            if t >= end:
                return
            yield t, thing
        loop += 1


def app_records(
    paths: Sequence[Path], start: datetime, end: datetime, rewrite: Mapping[str, str]
) -> list[Record]:
    """Real log files replayed onto ``start``..``end``: each record's time shifted so the log begins at
    ``start`` (looped, keeping its own pace, while the period lasts), names rewritten; records without a
    time are dropped. :class:`InputError` when no record has a time stamp."""
    stamped = [(r.timestamp, r) for r in read_records(read_lines(paths)) if r.timestamp is not None]
    if not stamped:
        raise InputError(f"{', '.join(map(str, paths))}: no time-stamped record to replay as baseline")
    out: list[Record] = []
    for t, r in _shifted(stamped, start, end):
        message, raw = r.message, r.raw
        for old, new in rewrite.items():
            message, raw = message.replace(old, new), raw.replace(old, new)
        out.append(replace(r, timestamp=t, message=message, raw=raw))
    return out


def signin_items(
    paths: Sequence[Path], start: datetime, end: datetime, rewrite: Mapping[str, str]
) -> list[Item]:
    """Real sign-in logs (Entra, CloudTrail, Okta, Google, auth.log, Windows Security: whatever
    ``bastion identity detect`` reads) replayed onto ``start``..``end`` like :func:`app_records`; an
    account or address the mapping file rewrites takes its new name. :class:`InputError` when the
    files hold no sign-in."""
    events = list(read_events(paths, Skips(), year=start.year))
    if not events:
        raise InputError(f"{', '.join(map(str, paths))}: no sign-in to replay as baseline")
    stamped = [(e.time, e) for e in events]
    return [
        Item(t, "identity", replace(e, time=t, user=rewrite.get(e.user, e.user), ip=rewrite.get(e.ip, e.ip)))
        for t, e in _shifted(stamped, start, end)
    ]


def clean_tree() -> dict[str, str]:
    """The scanned repository before any scenario touches it: a small, clean service."""
    return {
        "README.md": "# orders service\n",
        "app/main.py": 'import os\n\nREGION = os.environ.get("AWS_REGION", "eu-west-1")\n',
        "app/requirements.txt": "flask==3.0.3\n",
        "infra/main.tf": 'resource "aws_s3_bucket" "logs" {\n  bucket = "corp-logs"\n}\n',
    }


@dataclass(frozen=True)
class Baseline:
    """How much background each detector sees (per the exercise's ``baseline`` table)."""

    signins_per_user_day: float = 6.0
    processes_per_host_day: float = 40.0
    web_requests_per_hour: float = 600.0
    app_lines_per_hour: float = 360.0


def generate(
    org: Organisation,
    start: datetime,
    end: datetime,
    b: Baseline,
    seed: int,
    families: Collection[str] = FAMILIES,
) -> list[Item]:
    """The generated background of ``families`` (not the replayed real logs)."""
    items: list[Item] = []
    if "identity" in families:
        items.extend(identity(org, start, end, b.signins_per_user_day, seed))
    if "sigma" in families:
        items.extend(processes(org, start, end, b.processes_per_host_day, seed))
        items.extend(web(start, end, b.web_requests_per_hour, seed))
    if "watch" in families:
        items.extend(app_lines(start, end, b.app_lines_per_hour, seed))
    if "scan" in families:
        items.extend(Item(start, "scan", FileChange(p, c)) for p, c in clean_tree().items())
    return items
