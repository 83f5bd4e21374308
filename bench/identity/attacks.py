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
