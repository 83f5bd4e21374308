"""Sending throughput to a loopback SMTP relay (aiosmtpd): Bastion's sender against a naive loop.

Bastion's sender keeps one connection, renders each message in the sandbox, and commits the send
state before and after every message (so nothing is sent twice or lost). The naive peer is what a
small script does: ``smtplib.SMTP(...).sendmail(...)``, one connection per message, with the same
rendered messages and no state. Both run in turn against the same relay, aiosmtpd's Sink in its own process.

    .venv/bin/python bench/phish/throughput.py --messages 1000 --work build/phish/throughput
"""

from __future__ import annotations

import argparse
import json
import shutil
import smtplib
import socket
import subprocess  # bastion: ignore[sast.bandit.B404] starts the loopback relay, fixed argv
import sys
import time
from pathlib import Path

from sqlalchemy import select

from bastion.phish.sender import SmtpSettings, build_message, send_campaign
from bastion.phish.service import create_campaign, import_targets, launch
from bastion.phish.targets import ImportResult, Target
from bastion.phish.templates import EmailTemplate, LandingKind, LandingPage
from bastion.phish.tokens import signer_for
from bastion.store.db import Store
from bastion.store.phish import PhishCampaign, PhishRecipient


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the relay did not start on port {port}")


def _campaign(store: Store, name: str, messages: int) -> int:
    targets = ImportResult()
    for n in range(messages):
        targets.add(Target(email=f"user{n:05d}@example.com", name=f"User {n}", department=f"D{n % 12}"))
    email = EmailTemplate(
        name="bench",
        sender="it@example.com",
        subject="Action needed, {{ first_name }}",
        html="<p>Hello {{ first_name }}, <a href='{{ url }}'>review</a>.</p><img src='{{ pixel_url }}'>",
        text="Hello {{ first_name }}, review: {{ url }}\nReport: {{ report_url }}",
    )
    landing = LandingPage(name="training", kind=LandingKind.TRAINING, html="<h1>Exercise</h1>")
    with store.write() as session:
        import_targets(session, name, targets, set(), "bench")
    with store.write() as session:
        campaign = create_campaign(session, name, name, email, landing, "https://phish.example.com", "bench")
        launch(session, campaign, "bench")
        return campaign.id


def naive(store: Store, campaign_id: int, port: int) -> int:
    """One connection per message, no state: the peer loop."""
    with store.read() as session:
        campaign = session.get(PhishCampaign, campaign_id)
        if campaign is None:
            raise SystemExit(f"no campaign {campaign_id}")
        signer = signer_for(session)
        recipients = list(
            session.scalars(select(PhishRecipient).where(PhishRecipient.campaign_id == campaign_id))
        )
        messages = [build_message(campaign, r, signer) for r in recipients]
    for message, recipient in zip(messages, recipients, strict=True):
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message, campaign.sender, [recipient.email])
    return len(messages)


def main() -> int:
    """Run both senders and print messages per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path("build/phish/throughput"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    store = Store.open(f"sqlite:///{args.work / 'bench.db'}")
    store.migrate()
    port = _port()
    relay = subprocess.Popen(  # bastion: ignore[sast.bandit.B603] this interpreter, fixed argv, no shell
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"]
    )
    _wait_for(port)
    results = {}
    try:
        first = _campaign(store, "bastion", args.messages)
        start = time.perf_counter()
        report = send_campaign(store, first, SmtpSettings(port=port, rate_per_s=0), {"example.com"})
        elapsed = time.perf_counter() - start
        if report.outcomes["sent"] != args.messages:
            raise SystemExit(f"bastion sent {dict(report.outcomes)}")
        results["bastion"] = {"messages": args.messages, "seconds": round(elapsed, 3)}
        second = _campaign(store, "naive", args.messages)
        start = time.perf_counter()
        sent = naive(store, second, port)
        results["naive smtplib loop"] = {"messages": sent, "seconds": round(time.perf_counter() - start, 3)}
    finally:
        relay.terminate()
        relay.wait(10)
        store.close()
    for name, row in results.items():
        row["per_second"] = round(row["messages"] / row["seconds"], 1)
        line = f"{name:<22}{row['messages']:>7} messages {row['seconds']:>8.2f} s"
        print(f"{line} {row['per_second']:>8.1f} msg/s")
    ratio = results["bastion"]["per_second"] / results["naive smtplib loop"]["per_second"]
    print(f"ratio bastion / naive: {ratio:.2f}")
    (args.work / "throughput.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
