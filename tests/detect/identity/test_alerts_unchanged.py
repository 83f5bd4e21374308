"""Speed work must not change a verdict: a generated month of an organisation's sign-ins (Google
Workspace pages newest first, Entra JSON lines, an auth.log) with attacks of every kind, through the
CLI, gives exactly the alerts written in ``golden/alerts-mixed.jsonl`` (made by the code before the
speed work; ``pytest --update-golden`` rewrites it after a change meant to change verdicts)."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bastion.cli.main import main

GOLDEN = Path(__file__).parent / "golden" / "alerts-mixed.jsonl"
DAY0 = datetime(2026, 1, 5, tzinfo=UTC)
CITIES = {  # name: (country, lat, lon, utc offset)
    "New York": ("US", 40.71, -74.01, -5),
    "London": ("GB", 51.51, -0.13, 0),
    "Singapore": ("SG", 1.35, 103.82, 8),
    "Madrid": ("ES", 40.42, -3.70, 1),
    "Moscow": ("RU", 55.76, 37.62, 3),
    "Lagos": ("NG", 6.52, 3.38, 1),
    "Amsterdam": ("NL", 52.37, 4.90, 1),
}
KINDS = ("office", "home", "mobile", "cloud")
OFFICES = ("New York", "London", "Singapore")


def _roll(*key: object) -> float:
    """A deterministic number in [0, 1) for ``key`` (no random module: the same log on every run)."""
    return zlib.crc32(repr(key).encode()) / 2**32


def _net(city: str, kind: str) -> int:
    return list(CITIES).index(city) * len(KINDS) + KINDS.index(kind) if kind in KINDS else 200 + len(kind)


def _ip(city: str, kind: str, *key: object) -> str:
    return f"11.{_net(city, kind)}.{int(_roll('a', *key) * 256)}.{1 + int(_roll('b', *key) * 250)}"


def _geo(path: Path) -> None:
    rows = ["network,country,city,lat,lon,asn,as_org,is_anonymizer,is_hosting"]
    for city, (cc, lat, lon, _) in CITIES.items():
        for kind in KINDS:
            n = _net(city, kind)
            rows.append(
                f"11.{n}.0.0/16,{cc},{city},{lat},{lon},AS{64512 + n},{cc} {kind},0,{int(kind == 'cloud')}"
            )
    rows.append(f"11.{_net('', 'vpn')}.0.0/16,NL,Amsterdam,52.37,4.90,AS60001,PrivacyVPN,1,1")
    rows.append(f"11.{_net('', 'tor')}.0.0/16,NL,Amsterdam,52.37,4.90,AS60002,Tor exit,1,0")
    path.write_text("\n".join(rows) + "\n")


Event = tuple[datetime, str, str, str, str]
"""time, user, address, outcome (ok, bad_password, mfa_denied, unknown_user), device."""


def _normal(users: int, days: int) -> list[Event]:
    events: list[Event] = []
    for u in range(users):
        office, user = OFFICES[u % 3], f"user{u:03d}@corp.example"
        offset = CITIES[office][3]
        for day in range(days):
            city = "Madrid" if u % 9 == 4 and 18 <= day < 23 else office  # a holiday for some
            if day % 7 in (5, 6) and _roll(u, day) > 0.1:
                continue
            for k in range(1 + int(_roll(u, day, "n") * 3)):
                hour = 8 + _roll(u, day, k) * 10
                at = DAY0 + timedelta(days=day, hours=hour - offset)
                r = _roll(u, day, k, "where")
                if u % 11 == 3:
                    ip = _ip("", "vpn", u, day, k)
                elif city != office:
                    ip = _ip(city, "home", u, day, k)
                else:
                    ip = _ip(city, "office" if r < 0.6 else "home" if r < 0.9 else "mobile", u, day, k)
                if _roll(u, day, k, "forgot") < 0.03:
                    events.append((at - timedelta(seconds=30), user, ip, "bad_password", f"laptop-{u}"))
                events.append((at, user, ip, "ok", f"laptop-{u}"))
    return events


def _attacks() -> list[Event]:
    t = DAY0 + timedelta(days=24, hours=3)
    spray = _ip("Lagos", "cloud", "spray")
    out: list[Event] = [
        (t + timedelta(minutes=2 * k), f"user{k:03d}@corp.example", spray, "bad_password", "x")
        for k in range(14)
    ]
    brute = _ip("Moscow", "home", "brute")
    out += [
        (t + timedelta(hours=5, seconds=15 * k), "user020@corp.example", brute, "bad_password", "x")
        for k in range(20)
    ]
    out.append((t + timedelta(hours=5, minutes=6), "user020@corp.example", brute, "ok", "kali"))
    out += [
        (
            t + timedelta(hours=8, seconds=30 * k),
            "user021@corp.example",
            _ip("New York", "home", 21, 0, 0),
            "mfa_denied",
            "laptop-21",
        )
        for k in range(6)
    ]
    out.append(
        (
            t + timedelta(hours=8, minutes=4),
            "user021@corp.example",
            _ip("Lagos", "home", "mfa"),
            "ok",
            "kali-2",
        )
    )
    out.append(
        (t + timedelta(days=1, hours=2), "user022@corp.example", _ip("Moscow", "home", "nc"), "ok", "kali-3")
    )
    out.append(
        (t + timedelta(days=2, hours=14), "user023@corp.example", _ip("", "tor", "tor"), "ok", "kali-4")
    )
    out.append(
        (
            t + timedelta(days=3, hours=5),  # 03:00 in New York, from a data centre
            "user027@corp.example",
            _ip("New York", "cloud", "unf"),
            "ok",
            "kali-5",
        )
    )
    out += [
        (
            t + timedelta(days=4, minutes=k),
            f"ghost{k}@corp.example",
            _ip("Lagos", "home", "stuff", k),
            "unknown_user",
            "x",
        )
        for k in range(12)
    ]
    ssh = _ip("Moscow", "home", "ssh")
    out.append((t + timedelta(days=5), "user047@corp.example", ssh, "ok", "password"))
    out.append((t + timedelta(days=5, minutes=6), "user047@corp.example", "", "sudo", ""))
    out.append(
        (t + timedelta(days=6, hours=9), "user031@corp.example", _ip("Lagos", "home", "e"), "ok", "kali-6")
    )
    return out


def _google(event: Event) -> dict[str, Any]:
    at, user, ip, outcome, _ = event
    if outcome == "ok":
        name, params = "login_success", [{"name": "login_type", "value": "google_password"}]
    elif outcome == "mfa_denied":
        name = "login_challenge"
        params = [
            {"name": "login_challenge_method", "multiValue": ["internal_two_factor"]},
            {"name": "login_challenge_status", "value": "Challenge Failed"},
        ]
    else:
        name = "login_failure"
        params = [{"name": "login_failure_type", "value": "login_failure_invalid_password"}]
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "applicationName": "login",
        },
        "actor": {"email": user},
        "ipAddress": ip,
        "events": [{"type": "login", "name": name, "parameters": params}],
    }


def _entra(event: Event) -> str:
    at, user, ip, outcome, device = event
    code = {"ok": 0, "bad_password": 50126, "unknown_user": 50034, "mfa_denied": 500121}[outcome]
    record = {
        "createdDateTime": at.isoformat().replace("+00:00", "Z"),
        "userPrincipalName": user,
        "ipAddress": ip,
        "appDisplayName": "Outlook",
        "status": {"errorCode": code},
        "deviceDetail": {"deviceId": device},
    }
    return json.dumps(record) + "\n"


def _auth(event: Event) -> str:
    at, user, ip, outcome, device = event
    name, stamp = user.split("@")[0], f"{at:%b %e %H:%M:%S}"
    if outcome == "sudo":
        return f"{stamp} host sudo: {name} : TTY=pts/0 ; PWD=/home/{name} ; USER=root ; COMMAND=/bin/bash\n"
    method = "password" if device == "password" else "publickey"
    message = f"Accepted {method} for {name}" if outcome == "ok" else f"Failed password for {name}"
    return f"{stamp} host sshd[4242]: {message} from {ip} port 50000 ssh2\n"


def _write(folder: Path) -> list[str]:
    """The organisation's logs: users 0-29 and the ghosts on Google, 30-44 on Entra, 45-49 over SSH."""
    events = sorted(_normal(50, 32) + _attacks(), key=lambda e: e[0])
    google = [e for e in events if not e[1].startswith("user") or int(e[1][4:7]) < 30]
    entra = "".join(_entra(e) for e in events if e[1].startswith("user") and 30 <= int(e[1][4:7]) < 45)
    auth = "".join(_auth(e) for e in events if e[1].startswith("user") and int(e[1][4:7]) >= 45)
    pages = folder / "google"
    pages.mkdir()
    newest_first = [_google(e) for e in google][::-1]
    for n, start in enumerate(range(0, len(newest_first), 400), 1):
        (pages / f"page-{n:03d}.json").write_text(
            json.dumps({"kind": "admin#reports#activities", "items": newest_first[start : start + 400]})
        )
    (folder / "entra.jsonl").write_text(entra)
    (folder / "auth.log").write_text(auth)
    _geo(folder / "geo.csv")
    return [str(pages), str(folder / "entra.jsonl"), str(folder / "auth.log")]


def _normalised(path: Path, root: Path) -> list[dict[str, Any]]:
    alerts = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for alert in alerts:  # the temporary folder's name is no part of the verdict
        for key, value in alert.items():
            if isinstance(value, str):
                alert[key] = value.replace(f"{root}/", "")
    return alerts


def test_alerts_on_a_generated_month_are_unchanged(tmp_path: Path, update_golden: bool) -> None:
    logs = _write(tmp_path)
    out = tmp_path / "alerts.jsonl"
    args = ["identity", "detect", *logs, "--geo", str(tmp_path / "geo.csv"), "--year", "2026"]
    assert main([*args, "--format", "jsonl", "-o", str(out), "--min-severity", "low"]) == 1
    alerts = _normalised(out, tmp_path)
    kinds = {a["kind"] for a in alerts}
    assert kinds == {
        "password-spray",
        "brute-force",
        "credential-stuffing",
        "success-after-failures",
        "mfa-fatigue",
        "impossible-travel",
        "new-country",
        "anonymous-ip",
        "unfamiliar-sign-in",
        "new-device-privileged",
    }
    if update_golden:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text("".join(json.dumps(a, sort_keys=True) + "\n" for a in alerts), encoding="utf-8")
    golden = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
    assert alerts == golden
