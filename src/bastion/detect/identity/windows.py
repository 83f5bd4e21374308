"""Detections over windows of failures: spray, brute force (fast, and low and slow), stuffing,
success after failures, MFA fatigue. Each window forgets what is older than it, and keys whose
window emptied are swept, so memory follows the sources and identities active in the window, not
the events.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from bastion.detect.identity.events import MFA_DENIED, UNKNOWN_USER, SignIn
from bastion.detect.identity.rules import RuleSet
from bastion.findings import Severity

__all__ = ["Hit", "Windows"]


@dataclass
class Hit:
    """A window detection's verdict, turned into an Alert by the engine."""

    kind: str
    key: str
    score: float
    users: list[str]
    ips: list[str]
    start: float
    explanation: str
    evidence: list[SignIn] = field(default_factory=list)
    severity: Severity | None = None
    """Overrides the rule's severity (an approved MFA flood is critical, a trip abroad low)."""


def _trim(window: deque[tuple[float, SignIn]], now: float, span: float) -> None:
    while window and window[0][0] < now - span:
        window.popleft()


def _brute_force(
    e: SignIn, pair: deque[tuple[float, SignIn]], why: str, severity: Severity | None = None
) -> Hit:
    """A brute-force hit on one source and account: ``why`` follows "N failed sign-ins to USER"."""
    return Hit(
        "brute-force",
        f"{e.ip}|{e.user}",
        float(len(pair)),
        [e.user],
        [e.ip],
        pair[0][0],
        f"{len(pair)} failed sign-ins to {e.user} {why}",
        [x for _, x in pair][-5:],
        severity,
    )


class Windows:
    """Sliding windows of failed attempts, per source, per account and organisation-wide."""

    def __init__(self, rules: RuleSet) -> None:
        """Read the thresholds from ``rules``."""
        d = rules.detections
        self.spray_w = d["password-spray"].param("window_s")
        self.spray_users = int(d["password-spray"].param("min_users"))
        self.spray_tries = d["password-spray"].param("max_tries_per_user")
        self.brute_w = d["brute-force"].param("window_s")
        self.brute_n = int(d["brute-force"].param("min_failures"))
        # Low and slow: optional, so a rules file written before it keeps working (and has it off).
        self.slow_w = d["brute-force"].params.get("slow_window_s", 0.0)
        self.slow_n = int(d["brute-force"].params.get("slow_min_failures", 0))
        self.stuff_w = d["credential-stuffing"].param("window_s")
        self.stuff_ips = int(d["credential-stuffing"].param("min_ips"))
        self.stuff_users = int(d["credential-stuffing"].param("min_users"))
        self.stuff_per_ip = d["credential-stuffing"].param("max_users_per_ip")
        self.saf_w = d["success-after-failures"].param("window_s")
        self.saf_n = int(d["success-after-failures"].param("min_failures"))
        self.mfa_w = d["mfa-fatigue"].param("window_s")
        self.mfa_then = int(d["mfa-fatigue"].param("min_denials_then_success"))
        self.mfa_n = int(d["mfa-fatigue"].param("min_denials"))
        self.by_ip: dict[str, deque[tuple[float, SignIn]]] = {}
        self.by_pair: dict[tuple[str, str], deque[tuple[float, SignIn]]] = {}
        self.slow_pairs: dict[tuple[str, str], deque[tuple[float, SignIn]]] = {}
        self.by_user: dict[str, deque[tuple[float, SignIn]]] = {}
        self.denials: dict[str, deque[tuple[float, SignIn]]] = {}
        self.foreign: deque[tuple[float, SignIn]] = deque()
        self.foreign_ips: Counter[str] = Counter()
        self.foreign_users: Counter[str] = Counter()
        self.spraying: dict[str, float] = {}
        """Sources seen spraying, with when: a later success from one is success-after-failures."""

    def failure(self, e: SignIn, now: float, foreign: bool, stranger: bool = False) -> list[Hit]:
        """Count one failed attempt; ``foreign``: from an address and network the account never used;
        ``stranger``: foreign, from a public address, to an account that has signed in before (what
        low-and-slow guessing is counted on)."""
        hits: list[Hit] = []
        if e.reason == MFA_DENIED:
            win = self.denials.setdefault(e.user, deque())
            win.append((now, e))
            _trim(win, now, self.mfa_w)
            if len(win) == self.mfa_n:
                hits.append(self._mfa(e.user, win, "without an approval yet"))
            return hits
        user_win = self.by_user.setdefault(e.user, deque())
        user_win.append((now, e))
        _trim(user_win, now, self.saf_w)
        if e.ip:
            hits += self._per_source(e, now)
            if stranger and self.slow_n:
                hits += self._slow(e, now)
        if foreign and e.ip:
            hits += self._stuffing(e, now)
        return hits

    def _per_source(self, e: SignIn, now: float) -> list[Hit]:
        hits: list[Hit] = []
        pair = self.by_pair.setdefault((e.ip, e.user), deque())
        pair.append((now, e))
        _trim(pair, now, self.brute_w)
        if len(pair) == self.brute_n:
            why = f"from {e.ip} within {self.brute_w / 60:g} minutes (threshold {self.brute_n})"
            hits.append(_brute_force(e, pair, why))
        win = self.by_ip.setdefault(e.ip, deque())
        win.append((now, e))
        _trim(win, now, self.spray_w)
        if len(win) >= self.spray_users:
            users = Counter(x.user for _, x in win)
            if len(users) >= self.spray_users and len(win) / len(users) <= self.spray_tries:
                fresh = e.ip not in self.spraying or now - self.spraying[e.ip] > self.spray_w
                self.spraying[e.ip] = now
                if fresh:
                    hits.append(
                        Hit(
                            "password-spray",
                            e.ip,
                            float(len(users)),
                            sorted(users),
                            [e.ip],
                            win[0][0],
                            f"{e.ip} failed to sign in to {len(users)} accounts, {len(win) / len(users):.1f} "
                            f"tries each, within {self.spray_w / 60:g} minutes (threshold "
                            f"{self.spray_users} accounts)",
                            [x for _, x in win][-5:],
                        )
                    )
        return hits

    def _slow(self, e: SignIn, now: float) -> list[Hit]:
        """Guesses spaced out to stay under the fast window: counted over hours, and only from a
        stranger's address, because a known source retrying slowly is a stale saved password."""
        key = (e.ip, e.user)
        pair = self.slow_pairs.setdefault(key, deque())
        pair.append((now, e))
        _trim(pair, now, self.slow_w)
        fast = self.by_pair.get(key)
        if len(pair) != self.slow_n or (fast is not None and len(fast) >= self.brute_n):
            return []
        span = now - pair[0][0]
        minutes = max(1, round(span / 60))
        took = f"{span / 3600:.1f} hours" if span >= 7200 else f"{minutes} minute{'s' if minutes > 1 else ''}"
        why = (
            f"within {took} from {e.ip}, an address and network the account never used (a stranger's "
            f"guesses are counted over {self.slow_w / 3600:g} hours: threshold {self.slow_n})"
        )
        return [_brute_force(e, pair, why, Severity.MEDIUM)]

    def _stuffing(self, e: SignIn, now: float) -> list[Hit]:
        self.foreign.append((now, e))
        self.foreign_ips[e.ip] += 1
        self.foreign_users[e.user] += 1
        while self.foreign and self.foreign[0][0] < now - self.stuff_w:
            _, old = self.foreign.popleft()
            for counter, key in ((self.foreign_ips, old.ip), (self.foreign_users, old.user)):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]
        ips, users = len(self.foreign_ips), len(self.foreign_users)
        if ips < self.stuff_ips or users < self.stuff_users:
            return []
        if len(self.foreign) / ips > self.stuff_per_ip:
            return []  # a few sources, many tries each: spray or brute force, not stuffing
        unknown = sum(1 for _, x in self.foreign if x.reason == UNKNOWN_USER)
        key = "stuffing"
        if now - self.spraying.get(key, -1e18) <= self.stuff_w:
            return []
        self.spraying[key] = now
        return [
            Hit(
                "credential-stuffing",
                key,
                float(ips),
                sorted(self.foreign_users)[:50],
                sorted(self.foreign_ips)[:50],
                self.foreign[0][0],
                f"{len(self.foreign)} failed sign-ins from {ips} sources to {users} accounts within "
                f"{self.stuff_w / 60:g} minutes, all from addresses the accounts never used "
                f"({unknown} for accounts that do not exist)",
                [x for _, x in self.foreign][-5:],
            )
        ]

    def success(self, e: SignIn, now: float) -> list[Hit]:
        """Judge a successful sign-in against the failures before it."""
        hits: list[Hit] = []
        denials = self.denials.get(e.user)
        if denials:
            _trim(denials, now, self.mfa_w)
            if len(denials) >= self.mfa_then:
                hits.append(
                    self._mfa(e.user, denials, f"then approved from {e.ip or 'an unknown address'}", True)
                )
            denials.clear()
        self.slow_pairs.pop((e.ip, e.user), None)  # the source is the account's own from now on
        fails = self.by_user.get(e.user)
        if fails:
            _trim(fails, now, self.saf_w)
        sprayed = e.ip in self.spraying and now - self.spraying[e.ip] <= self.saf_w
        if (fails and len(fails) >= self.saf_n) or sprayed:
            n = len(fails) if fails else 0
            why = f"{e.ip} was spraying passwords" if sprayed else f"{n} failed attempts before it"
            hits.append(
                Hit(
                    "success-after-failures",
                    e.user,
                    float(max(n, self.saf_n)),
                    [e.user],
                    sorted({e.ip, *(x.ip for _, x in fails or ())} - {""})[:20],
                    fails[0][0] if fails else now,
                    f"{e.user} signed in from {e.ip or 'an unknown address'} after {why} within "
                    f"{self.saf_w / 60:g} minutes",
                    [*[x for _, x in fails or ()][-4:], e],
                )
            )
        if fails:
            fails.clear()
        return hits

    def _mfa(self, user: str, win: deque[tuple[float, SignIn]], tail: str, approved: bool = False) -> Hit:
        return Hit(
            "mfa-fatigue",
            user,
            float(len(win)),
            [user],
            sorted({x.ip for _, x in win} - {""}),
            win[0][0],
            f"{len(win)} second-factor prompts for {user} denied within {self.mfa_w / 60:g} minutes, {tail}",
            [x for _, x in win][-5:],
            Severity.CRITICAL if approved else None,
        )

    def sweep(self, now: float) -> None:
        """Drop keys whose windows emptied (bounded memory on long runs)."""
        tables = ((self.by_ip, self.spray_w), (self.by_user, self.saf_w), (self.denials, self.mfa_w))
        for table, span in tables:
            for key in [k for k, w in table.items() if not w or w[-1][0] < now - span]:
                del table[key]
        for pair in [k for k, w in self.by_pair.items() if not w or w[-1][0] < now - self.brute_w]:
            del self.by_pair[pair]
        for pair in [k for k, w in self.slow_pairs.items() if not w or w[-1][0] < now - self.slow_w]:
            del self.slow_pairs[pair]
        for ip in [k for k, t in self.spraying.items() if t < now - max(self.spray_w, self.saf_w)]:
            del self.spraying[ip]
