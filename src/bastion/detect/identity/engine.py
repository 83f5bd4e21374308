"""The streaming identity engine: events in time order in, explained Alerts out.

Window detections live in :mod:`bastion.detect.identity.windows`; this module adds the baseline ones
(impossible travel, new country, anonymous IP, dormant account, unfamiliar properties), learns
each identity's normal as it goes, and turns verdicts into :class:`~bastion.findings.Alert` s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from bastion.detect.identity.baseline import DAYS, Profile, State
from bastion.detect.identity.events import OTHER, SignIn
from bastion.detect.identity.geo import GeoDB, IpInfo, distance_km
from bastion.detect.identity.rules import RuleSet, load_rules
from bastion.detect.identity.windows import Hit, Windows
from bastion.findings import Alert, Severity

__all__ = ["Engine"]

_DEDUP = 20_000
"""Recent event keys remembered to drop exact duplicates (a log shipped twice)."""
_SWEEP = 50_000
_NOWHERE = IpInfo()
_HOURS = tuple(str(h) for h in range(24))
_HALF_EARTH_KM = 20_038.0
"""The farthest two places on Earth are (half the equator, great-circle)."""


def _weekday(now: float, offset: int | None) -> str:
    """The day of the week where the person is (local solar time, as the hour): day 0 of the POSIX clock
    was a Thursday."""
    return DAYS[(int((now + (offset or 0) * 3600) // 86400) + 3) % 7]


def _evidence(e: SignIn) -> str:
    if e.raw:
        return e.raw
    state = "success" if e.success else f"failure ({e.reason})"
    return f"{e.time.isoformat()} {e.user} {e.ip or '-'} {e.app} {state}"


class Engine:
    """Consume :class:`SignIn` events in time order; learn baselines; yield alerts as they arise."""

    def __init__(
        self, geo: GeoDB | None = None, state: State | None = None, rules: RuleSet | None = None
    ) -> None:
        """Start from ``state`` (a previous run's baselines) or from nothing."""
        self.rules = rules or load_rules()
        self.geo = geo or GeoDB()
        self.state = state or State()
        self.windows = Windows(self.rules)
        d = self.rules.detections
        u = d["unfamiliar-sign-in"]
        self.weights = {p: u.param(f"w_{p}") for p in ("asn", "device", "country", "app", "hour")}
        self.weight_total = sum(self.weights.values())
        self.log_weights = (self.weights["device"], self.weights["app"])
        """What the two properties only some logs carry (device, app) weigh: a sign-in's score is a share
        of the weight its log could give, so a log that names no device is not judged on 0.7 of 1.0."""
        self.scales = {
            (device, app): self._scale(device, app) for device in (True, False) for app in (True, False)
        }
        """By whether a sign-in names a device and an application: the factor of its unfamiliar score
        (None: none) and whether its log carries every property, computed once."""
        self.half_life = u.param("half_life_days")
        self.hosting_weight = u.param("w_hosting")
        self.min_history = u.param("min_history")
        self.risky: dict[str, tuple[float, str]] = {}
        """Identities that just signed in from a new device on a new network: when, from where."""
        self.risky_window = d["new-device-privileged"].param("window_s")
        self.unfamiliar_at = u.param("threshold")
        self.anon_habit = d["anonymous-ip"].param("habit_days")
        self.dormant_min = d["dormant-account"].param("min_unfamiliar")
        self.org_rare = d["new-country"].param("org_rare_fraction")
        self.trip_slack_s = d["new-country"].param("min_trip_slack_h") * 3600
        self.rare_day = d["new-country"].param("rare_day_share")
        self.dormant_s = d["dormant-account"].param("dormant_days") * 86400
        t = d["impossible-travel"]
        self.travel = (t.param("min_distance_km"), t.param("min_gap_s"), t.param("max_speed_kmh"))
        self.listed_seen: dict[str, float] = {}
        self.seen: set[tuple[object, ...]] = set()
        self.seen_before: set[tuple[object, ...]] = set()
        self.duplicates = 0
        self.out_of_order = 0
        self.unlocated = 0
        """Successful sign-ins from outside addresses no geo source or log field located: travel,
        new-country and anonymous-IP checks could not run on them."""
        self.events = 0
        self._now = 0.0

    def _scale(self, device: bool, app: bool) -> tuple[float | None, bool]:
        carried = self.weight_total
        if not device:
            carried -= self.log_weights[0]
        if not app:
            carried -= self.log_weights[1]
        whole = carried >= self.weight_total
        return (self.weight_total / carried if not whole and carried > 0 else None), whole

    def run(self, events: Iterable[SignIn]) -> Iterator[Alert]:
        """Alerts for ``events``, raised as each event is consumed."""
        consume = self.consume
        for e in events:
            alerts = consume(e)
            if alerts:
                yield from alerts
        self.finish()

    def finish(self) -> None:
        """Record the time of the last event consumed in the state (what ``--state`` saves)."""
        if self._now:
            last = datetime.fromtimestamp(self._now, UTC)
            if self.state.last_time is None or last > self.state.last_time:
                self.state.last_time = last

    def consume(self, e: SignIn) -> list[Alert]:
        """Judge and learn one event."""
        now = e.time.timestamp()
        key = (now, e.user, e.ip, e.success, e.reason, e.action, e.app)
        seen = self.seen
        if key in seen or key in self.seen_before:
            self.duplicates += 1
            return []
        seen.add(key)
        if len(seen) >= _DEDUP:  # two generations: the last _DEDUP to 2 * _DEDUP keys, O(1) each
            self.seen_before, self.seen = seen, set()
        if now < self._now:
            self.out_of_order += 1
        else:
            self._now = now
        self.events += 1
        if self.events % _SWEEP == 0:
            self.windows.sweep(self._now)
        ip = e.ip
        info = (self.geo.cache.get(ip) or self.geo.lookup(ip)) if ip else _NOWHERE
        profile = self.state.profiles.get(e.user)
        listed = self._listed(e, now, info) if info.listed else None
        if not e.success:
            if e.reason == OTHER:
                return []  # denied by policy (AccessDenied, conditional access): not a guess at a secret
            foreign = profile is None or (
                ip not in profile.ips and not profile.familiar("asn", info.asn or "?")
            )
            # A stranger: a public address and network a known account never used, on no device of its
            # own (a saved password gone stale on one's laptop in a hotel is the person, not a guesser;
            # sshd names the method, not a device).
            stranger = (
                foreign
                and profile is not None
                and not info.internal
                and not (e.device and e.app != "sshd" and profile.familiar("device", e.device))
            )
            hits = self.windows.failure(e, now, foreign, stranger)
            if listed:
                hits = listed + hits
            return [self._alert(h, e) for h in hits] if hits else []
        hits = self.windows.success(e, now)  # a new list, extended below
        if listed:
            hits = listed + hits
        action = e.action
        if action == "signin":
            if ip and info.lat is None and e.lat is None and not info.internal:
                self.unlocated += 1
            if profile is None:
                profile = self.state.profiles[e.user] = Profile()
            hits += self._baseline(e, now, info, profile)
        elif action == "privileged":
            hits += self._privileged(e, now)
        return [self._alert(h, e) for h in hits] if hits else []

    def _listed(self, e: SignIn, now: float, info: IpInfo) -> list[Hit]:
        if not e.success and now - self.listed_seen.get(e.ip, -1e18) < 3600:
            return []  # one alert an hour for the failures of one listed address
        self.listed_seen[e.ip] = now
        if len(self.listed_seen) > 10_000:
            self.listed_seen.pop(next(iter(self.listed_seen)))
        outcome = "successful sign-in" if e.success else f"failed sign-in ({e.reason or 'failure'})"
        hit = Hit(
            "malicious-ip",
            f"{e.ip}|{e.user}",
            1.0 if e.success else 0.5,
            [e.user],
            [e.ip],
            e.time.timestamp(),
            f"{outcome} for {e.user} from {e.ip}, listed in {info.listed}",
            [e],
            Severity.HIGH if e.success else None,
        )
        return [hit]

    def _privileged(self, e: SignIn, now: float) -> list[Hit]:
        risky = self.risky.get(e.user)
        if risky is None or now - risky[0] > self.risky_window:
            return []
        del self.risky[e.user]
        return [
            Hit(
                "new-device-privileged",
                e.user,
                round((now - risky[0]) / 60, 1),
                [e.user],
                [risky[1]],
                risky[0],
                f"{e.user} signed in from a device and network it never used ({risky[1]}) and "
                f"{(now - risky[0]) / 60:.0f} minutes later ran a privileged operation ({e.app}"
                f"{': ' + e.client if e.client else ''})",
                [e],
            )
        ]

    def _values(self, e: SignIn, info: IpInfo, p: Profile) -> dict[str, str]:
        ip = e.ip
        lon = info.lon if info.lat is not None and info.lon is not None else e.lon
        if lon is not None and not (info.anonymizer or info.hosting or info.internal):
            offset = round(lon / 15)  # where the person is: a VPN or cloud egress says nothing of it
            if offset != p.offset:
                p.locate(offset)
        return {
            "asn": info.asn or e.asn or (ip.rsplit(".", 2)[0] if "." in ip else ip[:9]),
            "country": info.country or e.country.upper(),
            "device": e.device,
            "app": e.app,
            # the hour of day where the person is (solar time): a traveller keeps a local rhythm
            "hour": _HOURS[(e.time.hour + (p.offset or 0)) % 24],
        }

    def _baseline(self, e: SignIn, now: float, info: IpInfo, p: Profile) -> list[Hit]:
        day = int(now // 86400)
        if day != p.day:
            p.decay(now, self.half_life)
        values = self._values(e, info, p)
        novel, unfamiliar, seen = p.judge(values, self.weights)
        days = p.counts["weekday"]
        weekday = _weekday(now, p.offset)
        seen.append((days, weekday, days.get(weekday, 0.0)))  # learned with the rest, never scored
        if info.hosting and "asn" in novel:
            novel.append("hosting network")
            unfamiliar += self.hosting_weight
        scale, whole = self.scales[(bool(e.device), bool(e.app))]
        if scale is not None:
            unfamiliar *= scale  # a share of what this log could tell, not of 1.0
        unfamiliar = round(unfamiliar, 3)
        hits: list[Hit] = []
        mature = p.n >= self.min_history
        before = p.place
        if not info.internal and (info.lat is not None or e.lat is not None):
            hits += self._travel(e, now, info, p, values["asn"])
        country = values["country"]
        anonymous = info.anonymizer
        if anonymous:
            habit = len([x for x in p.anon_days if x != day]) >= self.anon_habit
            if not habit:
                hits.append(
                    Hit(
                        "anonymous-ip",
                        e.user,
                        1.0,
                        [e.user],
                        [e.ip],
                        now,
                        f"{e.user} signed in from {e.ip}, an anonymizing network "
                        f"({info.as_org or 'listed as anonymizer'}), which this account does not use "
                        "habitually",
                        [e],
                    )
                )
            if day not in p.anon_days:
                p.anon_days = [*p.anon_days, day][-8:]
        if p.n and now - p.last > self.dormant_s and "asn" in novel and unfamiliar >= self.dormant_min:
            hits.append(
                Hit(
                    "dormant-account",
                    e.user,
                    (now - p.last) / 86400,
                    [e.user],
                    [e.ip],
                    p.last,
                    f"{e.user} signed in after {(now - p.last) / 86400:.0f} days without a sign-in, "
                    f"with unfamiliar {', '.join(novel)}",
                    [e],
                )
            )
        elif mature and not anonymous and country and "country" in novel:
            hits += self._new_country(e, info, p, country, novel, unfamiliar, now, before)
        elif not anonymous and ((mature and unfamiliar >= self.unfamiliar_at) or e.flagged):
            scaled = (
                ""
                if whole
                else ", of what this log carries: it names no "
                + ("device" if not e.device else "application")
            )
            flag = f"; {e.flagged}" if e.flagged else ""
            hits.append(
                Hit(
                    "unfamiliar-sign-in",
                    e.user,
                    unfamiliar,
                    [e.user],
                    [e.ip],
                    now,
                    f"{e.user} signed in with unfamiliar {', '.join(novel) or 'nothing'} (score "
                    f"{unfamiliar:.2f}{scaled}; learned from {p.n} sign-ins){flag}",
                    [e],
                    Severity.MEDIUM if e.flagged else None,
                )
            )
        if mature and "device" in novel and "asn" in novel:
            self.risky[e.user] = (now, e.ip)
            if len(self.risky) > 10_000:
                self.risky.pop(next(iter(self.risky)))
        p.commit(now, seen)
        if e.ip:
            p.remember_ip(e.ip)
        if country:
            org = self.state.org_countries
            org[country] = org.get(country, 0) + 1
        return hits

    def _new_country(
        self,
        e: SignIn,
        info: IpInfo,
        p: Profile,
        country: str,
        novel: list[str],
        unfamiliar: float,
        now: float,
        before: list[float],
    ) -> list[Hit]:
        org = self.state.org_countries.get(country, 0)
        if org >= self.org_rare * max(self.state.org_total, 1):
            return []
        others = ", ".join(k for k in novel if k != "country")
        if e.device:
            # a trip abroad with one's own device is worth a note, not an alarm
            low = None if "device" in novel else Severity.LOW
            why = ""
        else:
            # the log names no device: a trip and an intruder look alike by it, so the rest decides
            reasons = self._unknown_device_evidence(e, info, p, novel, now, before)
            low = None if reasons else Severity.LOW
            why = (
                f"; the log names no device, and {' and '.join(reasons)}"
                if reasons
                else ("; the log names no device and nothing else is unusual: a trip, as far as it shows")
            )
        return [
            Hit(
                "new-country",
                e.user,
                unfamiliar,
                [e.user],
                [e.ip],
                now,
                f"{e.user} signed in from {country} ({info.city or e.city or 'city unknown'}), a "
                f"country this account never used and {org} other sign-ins of the organisation "
                f"came from; also unfamiliar: {others or 'none'}{why}",
                [e],
                low,
            )
        ]

    @staticmethod
    def _odd_hour(e: SignIn, p: Profile) -> bool:
        """No hour within one of this sign-in's is familiar: habits are fuzzy, and a time zone read
        from the longitude is an hour off in places (Madrid, Lagos)."""
        hour = e.time.hour + (p.offset or 0)
        return not any(p.familiar("hour", _HOURS[(hour + d) % 24]) for d in (-1, 0, 1))

    def _unknown_device_evidence(
        self, e: SignIn, info: IpInfo, p: Profile, novel: list[str], now: float, before: list[float]
    ) -> list[str]:
        """Why a sign-in from a new country, on a device the log does not name, is not a trip."""
        reasons: list[str] = []
        if e.flagged:
            reasons.append(e.flagged)
        if "hour" in novel and self._odd_hour(e, p):
            reasons.append("it came at an hour this account never signs in near (local time there)")
        day = _weekday(now, p.offset)
        share = p.day_share(day)
        if share is not None and share < self.rare_day:
            reasons.append(
                f"it came on a {day}, a day that holds {share:.0%} of this account's sign-ins (local time "
                "there)"
            )
        lat, lon = (info.lat, info.lon) if info.located else (e.lat, e.lon)
        if len(before) == 4 and not before[3] and lat is not None and lon is not None:
            km = distance_km(before[1], before[2], lat, lon)
            gap = now - before[0]
            if gap - km / self.travel[2] * 3600 < self.trip_slack_s:
                reasons.append(
                    f"it came {gap / 3600:.1f} h after a sign-in {km:.0f} km away: too soon for a trip "
                    "(a flight and the time around it)"
                )
        return reasons

    def _travel(self, e: SignIn, now: float, info: IpInfo, p: Profile, network: str) -> list[Hit]:
        lat, lon = (info.lat, info.lon) if info.located else (e.lat, e.lon)
        if lat is None or lon is None or info.internal:
            return []
        masked = info.anonymizer or info.hosting
        prev, prev_ip, prev_asn = p.place, p.place_ip, p.place_asn
        p.place, p.place_ip, p.place_asn = [now, lat, lon, 1.0 if masked else 0.0], e.ip, network
        if len(prev) != 4 or masked or prev[3]:
            return []  # VPN or cloud egress: its location says nothing about the person
        if info.asn and info.asn == prev_asn:
            return []  # one network seen in two places: a carrier or a VPN gateway failing over
        min_km, min_gap, max_speed = self.travel
        if (lat == prev[1] and lon == prev[2]) or (now - prev[0]) * max_speed > _HALF_EARTH_KM * 3600:
            return []  # the same place, or time enough to fly anywhere on Earth
        km = distance_km(prev[1], prev[2], lat, lon)
        if km < min_km:
            return []
        hours = max(now - prev[0], min_gap) / 3600
        speed = km / hours
        if speed <= max_speed:
            return []
        country = info.country or e.country.upper()
        if (
            country
            and p.familiar("country", country)
            and p.count("country", country) >= 3
            and prev_asn
            and p.count("asn", prev_asn) >= 3
        ):
            # flipping between two places this account uses (split VPN, roaming): normal. The place
            # left must be a habit too (its network): the address of the last sign-in is always among
            # the recent ones, so asking that alone let every return from a one-off place pass.
            return []
        return [
            Hit(
                "impossible-travel",
                e.user,
                speed,
                [e.user],
                [prev_ip, e.ip],
                prev[0],
                f"{e.user} signed in from {prev_ip} and then {e.ip} ({country or '?'}), {km:.0f} km apart "
                f"in {hours * 60:.0f} minutes: {speed:.0f} km/h, faster than an airliner "
                f"({max_speed:g} km/h)",
                [e],
            )
        ]

    def _alert(self, hit: Hit, e: SignIn) -> Alert:
        rule = self.rules.detections[hit.kind]
        severity = hit.severity or rule.level
        if hit.kind == "unfamiliar-sign-in" and hit.severity is None and hit.score < rule.param("medium_at"):
            severity = Severity.LOW
        start = datetime.fromtimestamp(hit.start, UTC)
        entity_kind = "ip" if hit.kind == "password-spray" else "user"
        return Alert(
            detector=f"identity.{hit.kind}",
            severity=severity,
            score=round(hit.score, 3),
            entity=hit.key if hit.kind != "credential-stuffing" else ",".join(hit.ips[:3]),
            entity_kind=entity_kind if hit.kind != "credential-stuffing" else "ip",
            window_start=min(start, e.time),
            window_end=e.time,
            explanation=f"{rule.title}: {hit.explanation}.",
            evidence=tuple(_evidence(x) for x in hit.evidence),
            techniques=tuple(rule.attack),
            metadata={
                "kind": hit.kind,
                "users": hit.users,
                "ips": hit.ips,
                "time": e.time.isoformat(),
                "file": e.source,
            },
        )
