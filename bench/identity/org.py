"""The synthetic organisation: cities, networks (and their geo CSV), people and their normal life."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

CITIES = {  # name: (country, lat, lon, utc offset hours)
    "New York": ("US", 40.71, -74.01, -5),
    "Chicago": ("US", 41.88, -87.63, -6),
    "London": ("GB", 51.51, -0.13, 0),
    "Singapore": ("SG", 1.35, 103.82, 8),
    "Berlin": ("DE", 52.52, 13.40, 1),
    "Tokyo": ("JP", 35.68, 139.69, 9),
    "Sao Paulo": ("BR", -23.55, -46.63, -3),
    "Toronto": ("CA", 43.65, -79.38, -5),
    "Paris": ("FR", 48.86, 2.35, 1),
    "Sydney": ("AU", -33.87, 151.21, 10),
    "Madrid": ("ES", 40.42, -3.70, 1),
    "Rome": ("IT", 41.90, 12.50, 1),
    "Bangkok": ("TH", 13.76, 100.50, 7),
    "Cancun": ("MX", 21.16, -86.85, -5),
    "Lisbon": ("PT", 38.72, -9.14, 0),
    "Moscow": ("RU", 55.76, 37.62, 3),
    "Lagos": ("NG", 6.52, 3.38, 1),
    "Hanoi": ("VN", 21.03, 105.85, 7),
    "Bucharest": ("RO", 44.43, 26.10, 2),
    "Shenzhen": ("CN", 22.54, 114.06, 8),
    "Amsterdam": ("NL", 52.37, 4.90, 1),
}
ORGS = {
    "a": {"offices": ["New York", "London", "Singapore"], "users": 300, "days": 60, "rate": 3.0},
    "b": {"offices": ["Berlin", "Tokyo", "Sao Paulo", "Toronto"], "users": 450, "days": 75, "rate": 4.0},
}
HOLIDAY = ["Madrid", "Rome", "Bangkok", "Cancun", "Lisbon"]
ATTACKER = ["Moscow", "Lagos", "Hanoi", "Bucharest", "Shenzhen"]
APPS = ["Office 365", "Teams", "Outlook", "SharePoint", "Azure Portal"]
WARMUP_DAYS = 14


@dataclass
class Net:
    cidr: str
    city: str
    asn: str
    org: str
    anon: bool = False
    hosting: bool = False

    def host(self, rng: random.Random) -> str:
        a, b = self.cidr.split(".")[:2]
        return f"{a}.{b}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


@dataclass
class Ev:
    t: datetime
    user: str
    ip: str
    ok: bool
    reason: str = ""
    device: str = ""
    app: str = ""
    system: str = "entra"
    normal: bool = True


@dataclass
class User:
    idx: int
    office: str
    system: str
    home: str
    laptop: str
    phone: str
    apps: list[str]
    traits: set[str] = field(default_factory=set)
    trip: tuple[int, int, str] | None = None
    leave: tuple[int, int] | None = None
    new_laptop_day: int = -1

    @property
    def name(self) -> str:
        return f"user{self.idx:04d}@corp.example" if self.system == "entra" else f"u{self.idx:04d}"


class World:
    """Networks and their geo CSV."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.nets: list[Net] = []
        self.by: dict[tuple[str, str], list[Net]] = {}
        for city, (cc, *_rest) in CITIES.items():
            self._add(city, "office", f"{city} corp office")
            for i in range(3):
                self._add(city, "isp", f"{cc} broadband {i}")
            self._add(city, "mobile", f"{cc} mobile")
            self._add(city, "hosting", f"{cc} cloud", hosting=True)
        for city in ("Amsterdam", "New York", "London", "Singapore", "Berlin"):
            self._add(city, "vpn", "PrivacyVPN", anon=True, hosting=True, asn="AS60001")
            self._add(city, "tor", "Tor exit", anon=True)
        self._add("New York", "corpvpn", "Corp VPN", asn="AS60010")
        self._add("Chicago", "corpvpn", "Corp VPN", asn="AS60010")

    def _add(
        self, city: str, kind: str, org: str, anon: bool = False, hosting: bool = False, asn: str = ""
    ) -> None:
        k = len(self.nets)
        net = Net(f"{11 + k // 256}.{k % 256}.0.0/16", city, asn or f"AS{64512 + k}", org, anon, hosting)
        self.nets.append(net)
        self.by.setdefault((city, kind), []).append(net)

    def ip(self, city: str, kind: str) -> str:
        return self.rng.choice(self.by[(city, kind)]).host(self.rng)

    def write_csv(self, path: Path) -> None:
        rows = ["network,country,city,lat,lon,asn,as_org,is_anonymizer,is_hosting"]
        for n in self.nets:
            cc, lat, lon, _ = CITIES[n.city]
            rows.append(f"{n.cidr},{cc},{n.city},{lat},{lon},{n.asn},{n.org},{int(n.anon)},{int(n.hosting)}")
        path.write_text("\n".join(rows) + "\n")


def _local(day0: datetime, day: int, hour: float, city: str) -> datetime:
    return day0 + timedelta(days=day, hours=hour - CITIES[city][3])


def normal_life(
    rng: random.Random, world: World, org: dict[str, object], day0: datetime
) -> tuple[list[User], list[Ev]]:
    offices: list[str] = org["offices"]  # type: ignore[assignment]
    n_users: int = org["users"]  # type: ignore[assignment]
    days: int = org["days"]  # type: ignore[assignment]
    rate: float = org["rate"]  # type: ignore[assignment]
    users: list[User] = []
    for i in range(n_users):
        office = rng.choice(offices)
        system = rng.choices(["entra", "cloudtrail", "ssh"], [0.7, 0.2, 0.1])[0]
        u = User(
            i,
            office,
            system,
            world.ip(office, "isp"),
            f"laptop-{i}-{rng.randrange(10**6)}",
            f"phone-{i}-{rng.randrange(10**6)}",
            rng.sample(APPS, 3),
        )
        roll = rng.random()
        if roll < 0.03:
            u.traits.add("vpn-daily")
        elif roll < 0.06:
            u.traits.add("corp-vpn")
        if rng.random() < 0.08:
            start = rng.randrange(WARMUP_DAYS, days - 6)
            u.trip = (
                start,
                start + rng.randrange(3, 6),
                rng.choice([c for c in [*offices, "Paris", "Chicago"] if c != office]),
            )
            u.traits.add("business-travel")
        elif rng.random() < 0.05:
            start = rng.randrange(WARMUP_DAYS, days - 9)
            u.trip = (start, start + 7, rng.choice(HOLIDAY))
            u.traits.add("holiday")
        if rng.random() < 0.05:
            u.new_laptop_day = rng.randrange(WARMUP_DAYS, days)
            u.traits.add("new-laptop")
        if rng.random() < 0.03 and days >= 60:
            start = rng.randrange(3, 8)
            u.leave = (start, start + rng.randrange(48, 55))
            u.traits.add("long-leave")
        users.append(u)
    events: list[Ev] = []
    for u in users:
        for day in range(days):
            events += _user_day(rng, world, u, day, day0, rate)
    for s in range(3):  # service accounts with stale passwords: a failure every 10 minutes for two days
        start = rng.randrange(WARMUP_DAYS, days - 3)
        ip = f"10.0.{s}.{rng.randrange(1, 255)}"
        events += [
            Ev(
                day0 + timedelta(days=start, minutes=10 * k),
                f"svc-backup{s}",
                ip,
                False,
                "bad_password",
                "password",
                "sshd",
                "ssh",
            )
            for k in range(288)
        ]
    return users, events


def _user_day(rng: random.Random, world: World, u: User, day: int, day0: datetime, rate: float) -> list[Ev]:
    if u.leave and u.leave[0] <= day < u.leave[1]:
        return []
    weekend = day % 7 in (5, 6)
    if weekend and rng.random() > 0.1:
        return []
    city, where = u.office, "normal"
    if u.trip and u.trip[0] - 1 <= day < u.trip[1] + 1:
        if day in (u.trip[0] - 1, u.trip[1]):
            return []  # flying
        city, where = u.trip[2], "trip"
    n = 1 if weekend else max(1, int(rng.gauss(rate, 1)))
    out: list[Ev] = []
    for _ in range(n):
        hour = rng.uniform(8, 18.5)
        t = _local(day0, day, hour, city)
        laptop = u.laptop + ("-new" if 0 <= u.new_laptop_day <= day else "")
        device, r = laptop, rng.random()
        if "vpn-daily" in u.traits:
            ip = world.ip(rng.choice(["Amsterdam", "New York", "London"]), "vpn")
        elif "corp-vpn" in u.traits and where == "normal":
            ip = world.ip(rng.choice(["New York", "Chicago"]), "corpvpn")
        elif where == "trip":
            ip = world.ip(city, "isp") if r < 0.7 else world.ip(city, "mobile")
            device = laptop if r < 0.7 else u.phone
        elif r < 0.6:
            ip = world.ip(city, "office")
        elif r < 0.9:
            ip = u.home
        else:
            ip, device = world.ip(city, "mobile"), u.phone
        app = (
            rng.choice(u.apps)
            if u.system == "entra"
            else ("ConsoleLogin" if u.system == "cloudtrail" else "sshd")
        )
        if u.system == "ssh":
            device = "publickey"
        if rng.random() < 0.03:  # forgotten password
            out.extend(
                Ev(
                    t - timedelta(seconds=30 * (k + 1)),
                    u.name,
                    ip,
                    False,
                    "bad_password",
                    device,
                    app,
                    u.system,
                )
                for k in range(rng.randint(1, 4))
            )
        if u.system == "entra" and rng.random() < 0.005:  # one push denied by mistake
            out.append(Ev(t - timedelta(seconds=20), u.name, ip, False, "mfa_denied", device, app, u.system))
        out.append(Ev(t, u.name, ip, True, "", device, app, u.system))
        if u.system == "ssh" and rng.random() < 0.3:  # admins use sudo after logging in
            out.append(
                Ev(t + timedelta(minutes=rng.uniform(1, 30)), u.name, "", True, "", "", "sudo", u.system)
            )
    return out
