"""Per-identity baselines (the learned normal of each account) and their versioned JSON state.

Each property (network ASN, country, device, app, hour of day) keeps decayed counts: once a day
every count is multiplied by ``0.5 ** (days / half_life)``, so old habits fade and memory stays
bounded by the number of identities and the values each one uses, never by the number of events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bastion.atomic import atomic_open
from bastion.errors import InputError

__all__ = ["DAYS", "PROPS", "Profile", "State", "load_state", "save_state"]

STATE_VERSION = 1
PROPS = ("asn", "country", "device", "app", "hour", "weekday")
"""The properties a baseline learns (the hour and the day of the week are local solar time where the
sign-in comes from). The day of the week is learned, not scored: it is evidence for a new country on a
device the log does not name (:meth:`day_share`)."""
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""The values of the ``weekday`` property, in the order of ``datetime.weekday()``."""
MAX_VALUES = 48
"""Values kept per property; the weakest is dropped beyond this."""
FORGOTTEN = 0.5
"""A value whose decayed count is below this (and below :data:`SHARE` of all) is no longer familiar."""
SHARE = 0.02
"""Share of all (decayed) sign-ins under which a weak value is forgotten: time passing alone forgets
nothing (a return from long leave is still familiar), newer habits push old ones out."""
_REBASE = 2.0**64
"""Weight past which the stored counts are divided back to today's units (about every 5 years)."""


Judgement = tuple[list[str], float, list[tuple[dict[str, float], str, float]]]
"""Unfamiliar properties, their summed weight, and the (table, value, count) looked up for each."""
_NO_WEIGHTS = dict.fromkeys(PROPS, 0.0)


@dataclass
class Profile:
    """What one identity normally does.

    Counts are kept in units of :attr:`weight`, which grows by ``2 ** (days / half_life)`` as days
    pass: decaying every count is then one multiplication, not one per value (the counts a detection
    sees are ``stored / weight``; the state file holds those, so its format does not depend on it).
    """

    n: int = 0
    """Successful sign-ins learned."""
    first: float = 0.0
    """POSIX time of the first learned sign-in."""
    last: float = 0.0
    """POSIX time of the last successful sign-in."""
    day: int = 0
    """Day number of the last decay."""
    total: float = 0.0
    """Decayed count of all learned sign-ins (in units of :attr:`weight`)."""
    counts: dict[str, dict[str, float]] = field(default_factory=lambda: {p: {} for p in PROPS})
    """Decayed counts per property value (in units of :attr:`weight`)."""
    ips: dict[str, None] = field(default_factory=dict)
    """Recent addresses that signed in successfully (most recent last, at most 32)."""
    anon_days: list[int] = field(default_factory=list)
    """Day numbers with a successful sign-in through an anonymizer (at most 8)."""
    place: list[float] = field(default_factory=list)
    """Last located success: [time, lat, lon, anonymizer-or-hosting (0/1)]."""
    place_ip: str = ""
    """Address of that last located success."""
    place_asn: str = ""
    """Network of that last located success, as the baseline counts it (its ASN, else the address
    prefix)."""
    offset: int | None = None
    """Solar UTC offset in hours (longitude / 15) of the last sign-in located on a network that is not
    an anonymizer or hosting egress: the hour of day is judged where the person is."""
    weight: float = 1.0
    """What one sign-in counts today: 1.0 on the day of the last rebase, doubling every half-life."""

    def decay(self, now: float, half_life_days: float) -> None:
        """Age every count to ``now`` (at most once a day): today's sign-ins weigh more instead."""
        day = int(now // 86400)
        if self.day and day > self.day:
            self.weight *= 2.0 ** ((day - self.day) / half_life_days)
            if self.weight > _REBASE:
                self._rebase()
        self.day = day

    def _rebase(self) -> None:
        w = self.weight
        self.total /= w
        for values in self.counts.values():
            for key in values:
                values[key] /= w
        self.weight = 1.0

    def locate(self, offset: int) -> None:
        """Take ``offset`` (hours from UTC) as where this identity now is. The first time, hours learned
        before (in UTC: sign-ins not located yet, or a state file written before hours were local) are
        moved to local time, so one identity never mixes the two; later moves (trips) move nothing."""
        if self.offset is None and self.counts["hour"]:
            self.counts["hour"] = {
                str((int(h) + offset) % 24) if h.isdigit() else h: v for h, v in self.counts["hour"].items()
            }
        self.offset = offset

    def familiar(self, prop: str, value: str) -> bool:
        """Whether ``value`` is part of this identity's normal (an empty value always is)."""
        if not value:
            return True
        count = self.counts[prop].get(value, 0.0)
        return count > 0.0 and (count >= FORGOTTEN * self.weight or count >= SHARE * self.total)

    def day_share(self, weekday: str) -> float | None:
        """The share of this identity's (decayed) sign-ins made on ``weekday`` (local time), or None while
        too few sign-ins carry a day (a state written before days were learned) to say."""
        days = self.counts["weekday"]
        learned = sum(days.values())
        if learned < 0.8 * self.total or not learned:
            return None
        return days.get(weekday, 0.0) / learned

    def count(self, prop: str, value: str) -> float:
        """The decayed count of one value (0.0 when never seen or forgotten)."""
        return self.counts[prop].get(value, 0.0) / self.weight

    def normal(self, prop: str) -> dict[str, float]:
        """Decayed counts of every value of one property."""
        w = self.weight
        return {k: v / w for k, v in self.counts[prop].items()}

    def judge(self, values: dict[str, str], weights: dict[str, float]) -> Judgement:
        """Which of ``values`` are unfamiliar and their summed ``weights``; :meth:`commit` learns them."""
        counts = self.counts
        faint = min(FORGOTTEN * self.weight, SHARE * self.total)  # below both: no longer familiar
        novel: list[str] = []
        score = 0.0
        seen: list[tuple[dict[str, float], str, float]] = []
        for prop, value in values.items():
            if value:
                table = counts[prop]
                c = table.get(value, 0.0)
                if not c or c < faint:
                    novel.append(prop)
                    score += weights[prop]
                seen.append((table, value, c))
        return novel, score, seen

    def commit(self, now: float, seen: list[tuple[dict[str, float], str, float]]) -> None:
        """Count one successful sign-in whose values :meth:`judge` looked up (nothing changed since)."""
        if not self.n:
            self.first = now
        self.n += 1
        w = self.weight
        self.total += w
        self.last = now
        for table, value, c in seen:
            table[value] = c + w
            if not c and len(table) > MAX_VALUES:
                del table[min(table, key=table.__getitem__)]

    def learn(self, now: float, values: dict[str, str]) -> None:
        """Count one successful sign-in."""
        self.commit(now, self.judge(values, _NO_WEIGHTS)[2])

    def remember_ip(self, ip: str) -> None:
        """Keep ``ip`` among the recent successful addresses."""
        ips = self.ips
        if ip in ips:
            if next(reversed(ips)) == ip:
                return  # already the most recent
            del ips[ip]  # and back in at the end: most recent last
        elif len(ips) >= 32:
            del ips[next(iter(ips))]
        ips[ip] = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form (counts as they are today, whatever the internal weight)."""
        return {
            "n": self.n,
            "first": self.first,
            "last": self.last,
            "day": self.day,
            "total": self.total / self.weight,
            "counts": {p: self.normal(p) for p in PROPS},
            "ips": list(self.ips),
            "anon_days": self.anon_days,
            "place": self.place,
            "place_ip": self.place_ip,
            "place_asn": self.place_asn,
            "offset": self.offset,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`; raises ``KeyError``/``TypeError``/``ValueError`` on bad data."""
        counts = {p: {str(k): float(v) for k, v in dict(data["counts"].get(p, {})).items()} for p in PROPS}
        return cls(
            n=int(data["n"]),
            first=float(data["first"]),
            last=float(data["last"]),
            day=int(data["day"]),
            total=float(data.get("total", 0.0)),
            counts=counts,
            ips=dict.fromkeys(str(i) for i in data.get("ips", [])),
            anon_days=[int(d) for d in data.get("anon_days", [])],
            place=[float(x) for x in data.get("place", [])],
            place_ip=str(data.get("place_ip", "")),
            place_asn=str(data.get("place_asn", "")),
            offset=None if data.get("offset") is None else int(data["offset"]),
        )


@dataclass
class State:
    """Everything learned: one profile per identity and the organisation's country counts."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    org_countries: dict[str, int] = field(default_factory=dict)
    last_time: datetime | None = None
    """Time of the last event consumed."""

    @property
    def org_total(self) -> int:
        """Located successful sign-ins counted in :attr:`org_countries`."""
        return sum(self.org_countries.values())


def save_state(state: State, path: Path) -> None:
    """Write the state as versioned JSON, atomically (a crash leaves the old file)."""
    data = {
        "version": STATE_VERSION,
        "kind": "bastion.detect.identity.state",
        "last_time": state.last_time.isoformat() if state.last_time else None,
        "org_countries": state.org_countries,
        "profiles": {user: p.to_dict() for user, p in state.profiles.items()},
    }
    try:
        with atomic_open(path, private=True) as handle:
            json.dump(data, handle, separators=(",", ":"))
    except OSError as exc:
        raise InputError(f"{path}: cannot write state ({exc.strerror})") from None


def load_state(path: Path) -> State:
    """Read a state file; a missing file is an empty state, a bad one an InputError naming it."""
    if not path.exists():
        return State()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable identity state ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != "bastion.detect.identity.state":
        raise InputError(f"{path}: not a bastion identity state file")
    if data.get("version") != STATE_VERSION:
        raise InputError(f"{path}: state version {data.get('version')!r}, this Bastion reads {STATE_VERSION}")
    try:
        last = data.get("last_time")
        return State(
            profiles={str(u): Profile.from_dict(p) for u, p in data["profiles"].items()},
            org_countries={str(k): int(v) for k, v in data["org_countries"].items()},
            last_time=datetime.fromisoformat(last) if last else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{path}: corrupt identity state ({exc!r})") from None
