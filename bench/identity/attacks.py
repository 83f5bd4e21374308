"""The labelled attacks injected into the synthetic organisation's sign-ins, one batch of each kind."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from org import ATTACKER, CITIES, Ev, User, World, _local


def attacks(
    rng: random.Random,
    world: World,
    users: list[User],
    events: list[Ev],
    org: dict[str, object],
    day0: datetime,
    per_kind: int,
) -> tuple[list[Ev], list[dict[str, object]]]:
    days: int = org["days"]  # type: ignore[assignment]
    plain = [u for u in users if not u.traits and u.leave is None]
    out: list[Ev] = []
    labels: list[dict[str, object]] = []
    last_normal: dict[str, list[Ev]] = {}
    for e in events:
        if e.ok and e.app != "sudo":  # a sign-in, not a privileged command (which has no address)
            last_normal.setdefault(e.user, []).append(e)

    def when() -> datetime:
        return day0 + timedelta(days=rng.randrange(21, days - 1), minutes=rng.randrange(1440))

    def attacker(kind: str = "isp") -> str:
        return world.ip(rng.choice(ATTACKER), kind)

    def label(kind: str, evs: list[Ev]) -> None:
        for e in evs:
            e.normal = False
        out.extend(evs)
        labels.append(
            {
                "kind": kind,
                "users": sorted({e.user for e in evs}),
                "ips": sorted({e.ip for e in evs}),
                "start": min(e.t for e in evs).isoformat(),
                "end": max(e.t for e in evs).isoformat(),
            }
        )

    ssh = [u for u in plain if u.system == "ssh"]
    admins = rng.sample(ssh, min(len(ssh), per_kind))  # each attacked once: sshd logs name the method only
    plain = [u for u in plain if u not in admins]
    victims = rng.sample(plain, min(len(plain), per_kind * 7))
    pick = iter(victims)
    dormant = [next(pick) for _ in range(per_kind)]
    gone = {u.name for u in dormant}
    events[:] = [e for e in events if e.user not in gone or e.t < day0 + timedelta(days=10)]
    for _ in range(per_kind):
        t, ip = when(), attacker("hosting")
        system = rng.choice(["entra", "cloudtrail", "ssh"])
        pool = [u for u in users if u.system == system]
        targets = rng.sample(pool, min(len(pool), rng.randint(15, 30)))
        label(
            "password-spray",
            [
                Ev(t + timedelta(minutes=2 * k), u.name, ip, False, "bad_password", "x", "", system)
                for k, u in enumerate(targets)
            ],
        )
        v = next(pick)
        t, ip = when(), attacker()
        label(
            "brute-force",
            [
                Ev(t + timedelta(seconds=15 * k), v.name, ip, False, "bad_password", "password", "", v.system)
                for k in range(rng.randint(15, 40))
            ],
        )
        t = when()
        real = rng.sample([u for u in users if u.system == "entra"], rng.randint(15, 30))
        names = [u.name for u in real] + [
            f"ghost{rng.randrange(10**6)}@corp.example" for _ in range(len(real))
        ]
        ips = [world.ip(rng.choice(list(CITIES)), "isp") for _ in range(rng.randint(20, 40))]
        label(
            "credential-stuffing",
            [
                Ev(
                    t + timedelta(seconds=20 * k),
                    n,
                    rng.choice(ips),
                    False,
                    "unknown_user" if n.startswith("ghost") else "bad_password",
                    "",
                    "",
                    "entra",
                )
                for k, n in enumerate(rng.sample(names, len(names)))
            ],
        )
        v = next(pick)
        t, ip = when(), attacker()
        fails = [
            Ev(t + timedelta(minutes=2 * k), v.name, ip, False, "bad_password", "password", "", v.system)
            for k in range(rng.randint(12, 20))
        ]
        label(
            "success-after-failures",
            [
                *fails,
                Ev(
                    fails[-1].t + timedelta(minutes=1),
                    v.name,
                    ip,
                    True,
                    "",
                    f"kali-{rng.randrange(10**6)}",
                    "Azure Portal",
                    v.system,
                ),
            ],
        )
        v = rng.choice(
            [u for u in plain if u.system == "entra" and u not in victims]
        )  # each victim attacked once
        t, ip = when(), attacker()
        pushes = [
            Ev(
                t + timedelta(minutes=3 * k),
                v.name,
                ip,
                False,
                "mfa_denied",
                f"kali-{rng.randrange(10**6)}",
                "Outlook",
                "entra",
            )
            for k in range(rng.randint(4, 9))
        ]
        label(
            "mfa-fatigue",
            [
                *pushes,
                Ev(
                    pushes[-1].t + timedelta(minutes=2),
                    v.name,
                    ip,
                    True,
                    "",
                    f"kali-{rng.randrange(10**6)}",
                    "Outlook",
                    "entra",
                ),
            ],
        )
        v = next(pick)
        base = rng.choice(
            [e for e in last_normal.get(v.name, []) if e.t > day0 + timedelta(days=21)] or last_normal[v.name]
        )
        label(
            "impossible-travel",
            [
                Ev(
                    base.t + timedelta(minutes=rng.randint(20, 90)),
                    v.name,
                    attacker(),
                    True,
                    "",
                    f"kali-{rng.randrange(10**6)}",
                    base.app,
                    v.system,
                )
            ],
        )
        v = next(pick)
        label(
            "new-country",
            [
                Ev(
                    when(),
                    v.name,
                    attacker(),
                    True,
                    "",
                    f"kali-{rng.randrange(10**6)}",
                    v.apps[0]
                    if v.system == "entra"
                    else ("ConsoleLogin" if v.system == "cloudtrail" else "sshd"),
                    v.system,
                )
            ],
        )
        v = next(pick)
        label(
            "anonymous-ip",
            [
                Ev(
                    when(),
                    v.name,
                    world.ip(rng.choice(["Amsterdam", "Berlin"]), "tor"),
                    True,
                    "",
                    "tor-browser",
                    "Outlook",
                    v.system,
                )
            ],
        )
        v = dormant.pop()
        label(
            "dormant-account",
            [
                Ev(
                    day0 + timedelta(days=days - 2, minutes=rng.randrange(1440)),
                    v.name,
                    attacker(),
                    True,
                    "",
                    f"kali-{rng.randrange(10**6)}",
                    "Azure Portal",
                    v.system,
                )
            ],
        )
        v = next(pick)
        label(
            "unfamiliar-sign-in",
            [
                Ev(
                    _local(day0, rng.randrange(21, days - 1), 3.0, v.office),
                    v.name,
                    world.ip(v.office, "hosting"),
                    True,
                    "",
                    "python-requests",
                    "Azure CLI"
                    if v.system == "entra"
                    else ("ConsoleLogin" if v.system == "cloudtrail" else "sshd"),
                    v.system,
                )
            ],
        )
        if not admins:
            continue
        v = admins.pop()
        t, ip = when(), attacker()
        login = Ev(t, v.name, ip, True, "", f"password-{rng.randrange(10**6)}", "sshd", "ssh")
        label(
            "new-device-privileged",
            [login, Ev(t + timedelta(minutes=rng.randint(2, 20)), v.name, "", True, "", "", "sudo", "ssh")],
        )
    return out, labels


def slow_guessing(
    rng: random.Random,
    world: World,
    users: list[User],
    labels: list[dict[str, object]],
    org: dict[str, object],
    day0: datetime,
    per_kind: int,
) -> tuple[list[Ev], list[Ev]]:
    """Low-and-slow password guessing and its benign look-alike, drawn from their own ``rng`` after
    everything else so the rest of a corpus stays byte-identical to the one made without them.

    Attack (labelled ``brute-force-slow``): 6-12 guesses at one account, 10-60 minutes apart, from an
    attacker's broadband or cloud address, never succeeding. Look-alike (normal): a traveller's
    client keeps an old password on the trip's network, 3-9 failures 5-40 minutes apart, then the
    person signs in from there."""
    days: int = org["days"]  # type: ignore[assignment]
    attacked = {name for x in labels for name in x["users"]}  # type: ignore[attr-defined]
    spare = [u for u in users if u.leave is None and u.name not in attacked]
    bad: list[Ev] = []
    for v in rng.sample(spare, min(len(spare), per_kind)):
        t = day0 + timedelta(days=rng.randrange(21, days - 1), minutes=rng.randrange(1440))
        net = rng.choice(world.by[(rng.choice(ATTACKER), rng.choice(["isp", "hosting"]))])
        ip = net.host(rng)
        app = "sshd" if v.system == "ssh" else ("ConsoleLogin" if v.system == "cloudtrail" else "")
        evs = []
        for _ in range(rng.randint(6, 12)):
            evs.append(Ev(t, v.name, ip, False, "bad_password", "password", app, v.system, normal=False))
            t += timedelta(minutes=rng.uniform(10, 60))
        bad += evs
        labels.append(
            {
                "kind": "brute-force-slow",
                "users": [v.name],
                "ips": [ip],
                "start": evs[0].t.isoformat(),
                "end": evs[-1].t.isoformat(),
            }
        )
    benign: list[Ev] = []
    travellers = [u for u in users if u.trip is not None and u.trip[0] >= 21]
    for u in rng.sample(travellers, min(len(travellers), per_kind // 2)):
        start, end, city = u.trip  # type: ignore[misc]
        t = _local(day0, rng.randrange(start, end), rng.uniform(8, 12), city)
        ip = world.by[(city, "isp")][0].host(rng)
        app = "sshd" if u.system == "ssh" else ("ConsoleLogin" if u.system == "cloudtrail" else u.apps[0])
        for _ in range(rng.randint(3, 9)):
            benign.append(Ev(t, u.name, ip, False, "bad_password", u.laptop, app, u.system))
            t += timedelta(minutes=rng.uniform(5, 40))
        benign.append(Ev(t, u.name, ip, True, "", u.laptop, app, u.system))
    return bad, benign
