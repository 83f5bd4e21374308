"""Labelled sign-in logs of a synthetic organisation, in Entra JSON lines, CloudTrail and auth.log.

Normal life (offices in several time zones, homes, phones on carriers, business travel, holidays
abroad, daily privacy-VPN users, new laptops, forgotten passwords, stale service-account passwords,
long leave, a corporate VPN failing over) plus one batch of each attack, every attack labelled; then, from
an rng of their own, low-and-slow guessing and its look-alike (a traveller's laptop with an old password).

    python bench/identity/generate.py --seed 1 --org a --out build/identity/idA
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from attacks import attacks, slow_guessing
from org import ORGS, WARMUP_DAYS, Ev, World, normal_life


def _windows(e: Ev) -> dict[str, object]:
    """The same SSH-system event as a Windows Security record in the EVTX layout: a remote-interactive
    logon (4624/4625, the device as the workstation) or, for sudo, explicit credentials (4648)."""
    stamp = e.t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    if e.app == "sudo":
        event_id = 4648
        data: dict[str, object] = {
            "SubjectUserName": e.user,
            "SubjectDomainName": "CORP",
            "TargetUserName": "Administrator",
            "TargetDomainName": "CORP",
            "TargetServerName": "bastion-host",
            "ProcessName": "C:\\Windows\\System32\\runas.exe",
            "IpAddress": "-",
        }
    else:
        event_id = 4624 if e.ok else 4625
        data = {
            "TargetUserName": e.user,
            "TargetDomainName": "CORP",
            "LogonType": 10,
            "IpAddress": e.ip,
            "WorkstationName": e.device,
            "AuthenticationPackageName": "Negotiate",
        }
        if not e.ok:
            data["Status"] = "0xc000006d"
            data["SubStatus"] = "0xc0000064" if e.reason == "unknown_user" else "0xc000006a"
    system = {
        "EventID": event_id,
        "TimeCreated": {"#attributes": {"SystemTime": stamp}},
        "Computer": "bastion-host",
    }
    return {"Event": {"System": {**system, "Channel": "Security"}, "EventData": data}}


def write(out: Path, events: list[Ev]) -> dict[str, int]:
    events.sort(key=lambda e: e.t)
    counts = {"entra": 0, "cloudtrail": 0, "ssh": 0}
    # bastion: ignore[sast.bandit.B105] Entra failure codes keyed by reason, no password
    codes = {"": 0, "bad_password": 50126, "unknown_user": 50034, "mfa_denied": 500121}
    with (
        (out / "entra.jsonl").open("w") as entra,
        gzip.open(out / "cloudtrail.jsonl.gz", "wt") as trail,
        (out / "auth.log").open("w") as auth,
        (out / "windows.jsonl").open("w") as windows,
    ):
        for e in events:
            counts[e.system] += 1
            if e.system == "entra":
                entra.write(
                    json.dumps(
                        {
                            "createdDateTime": e.t.isoformat().replace("+00:00", "Z"),
                            "userPrincipalName": e.user,
                            "ipAddress": e.ip,
                            "appDisplayName": e.app,
                            "status": {"errorCode": codes[e.reason]},
                            "deviceDetail": {"deviceId": e.device},
                        }
                    )
                    + "\n"
                )
            elif e.system == "cloudtrail":
                rec = {
                    "eventVersion": "1.08",
                    "eventSource": "signin.amazonaws.com",
                    "eventName": "ConsoleLogin",
                    "eventTime": e.t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "sourceIPAddress": e.ip,
                    "userAgent": e.device,
                    "userIdentity": {"type": "IAMUser", "userName": e.user},
                    "responseElements": {"ConsoleLogin": "Success" if e.ok else "Failure"},
                }
                if not e.ok:
                    rec["errorMessage"] = "Failed authentication"
                trail.write(json.dumps(rec) + "\n")
            else:
                stamp = e.t.strftime("%b %e %H:%M:%S")
                port = 1024 + zlib.crc32(f"{e.user}{e.t}".encode()) % 60000
                method = "publickey" if e.device == "publickey" else "password"  # attackers guess passwords
                windows.write(json.dumps(_windows(e)) + "\n")
                if e.app == "sudo":
                    user = e.user
                    auth.write(
                        f"{stamp} bastion-host sudo: {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; "
                        "COMMAND=/bin/bash\n"
                    )
                    continue
                if e.ok:
                    msg = f"Accepted {method} for {e.user} from {e.ip} port {port} ssh2"
                elif e.reason == "unknown_user":
                    msg = f"Invalid user {e.user} from {e.ip} port {port}"
                else:
                    msg = f"Failed password for {e.user} from {e.ip} port {port} ssh2"
                auth.write(f"{stamp} bastion-host sshd[{4000 + port % 3000}]: {msg}\n")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--org", choices=sorted(ORGS), default="a")
    parser.add_argument("--per-kind", type=int, default=20, help="Attacks of each kind.")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--days", type=int, help="Override the organisation's length (throughput, memory).")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    org = dict(ORGS[args.org])
    if args.days:
        org["days"] = args.days
    day0 = datetime(2026, 1, 5, tzinfo=UTC)
    world = World(rng)
    args.out.mkdir(parents=True, exist_ok=True)
    world.write_csv(args.out / "geo.csv")
    users, events = normal_life(rng, world, org, day0)
    bad, labels = attacks(rng, world, users, events, org, day0, args.per_kind)
    # bastion: ignore[sast.bandit.B311] seeded benchmark data, not a secret
    slow_rng = random.Random(args.seed + 10_000)
    slow, benign = slow_guessing(slow_rng, world, users, labels, org, day0, args.per_kind)
    bad += slow
    events += benign
    normal = [e for e in events if e.t >= day0 + timedelta(days=WARMUP_DAYS)]
    counts = write(args.out, events + bad)
    meta = {
        "seed": args.seed,
        "org": args.org,
        "day0": day0.isoformat(),
        "warmup_days": WARMUP_DAYS,
        "users": len(users),
        "events": len(events) + len(bad),
        "normal_after_warmup": len(normal),
        "per_system": counts,
        "traits": {
            t: sum(t in u.traits for u in users)
            for t in ("vpn-daily", "corp-vpn", "business-travel", "holiday", "new-laptop", "long-leave")
        },
    }
    (args.out / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in labels))
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
