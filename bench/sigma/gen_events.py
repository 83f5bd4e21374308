"""Generate a Sysmon/Windows benchmark log from the SigmaHQ regression samples, varied.

Every output event is one of the 239 regression events (``../shared/data/attacks/sigma-regression``,
DRL 1.1) with its record id, time, host, process ids and GUIDs changed; in ``--benign`` share of
the events the image, command line, target file/registry path are also swapped for ordinary
Windows values, so most events, as in real logs, match no rule. Output: JSON lines in the EVTX
JSON layout (``{"Event": {"System": ..., "EventData": ...}}``) that both Bastion and Zircolite read.

    python bench/sigma/gen_events.py -n 50000 -o build/sigma-bench/events.jsonl
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

DATA = Path(os.environ.get("BASTION_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
BENIGN = {
    "Image": [
        r"C:\Windows\System32\svchost.exe",
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
        r"C:\Windows\explorer.exe",
        r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
        r"C:\Windows\System32\SearchIndexer.exe",
        r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
    ],
    "CommandLine": [
        r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
        r'"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --lang=en-US',
        r"C:\Windows\Explorer.EXE",
        r'"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" /recycle',
        r"C:\Windows\system32\SearchIndexer.exe /Embedding",
    ],
    "ParentImage": [
        r"C:\Windows\System32\services.exe",
        r"C:\Windows\explorer.exe",
        r"C:\Windows\System32\userinit.exe",
    ],
    "TargetFilename": [
        r"C:\Users\alice\AppData\Local\Temp\chrome_installer.log",
        r"C:\Users\bob\Documents\report-q3.docx",
        r"C:\Windows\Prefetch\SVCHOST.EXE-1234ABCD.pf",
    ],
    "TargetObject": [
        r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\LastOnlineScanTime",
        r"HKU\S-1-5-21-1-2-3-1001\Software\Microsoft\Office\16.0\Common\General\ShownFirstRunOptin",
    ],
    "ImageLoaded": [r"C:\Windows\System32\kernel32.dll", r"C:\Windows\System32\ntdll.dll"],
}


def samples() -> list[dict]:
    """Every regression event, in path order."""
    out = []
    decoder = json.JSONDecoder()
    root = DATA / "attacks" / "sigma-regression" / "regression_data"
    for path in sorted(root.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        pos = 0
        while pos < len(text):
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            obj, pos = decoder.raw_decode(text, pos)
            out.append(obj)
    return out


def vary(event: dict, rng: random.Random, n: int, benign: bool, start: datetime) -> dict:
    """A copy of ``event`` with new ids, time and host; with ordinary values when ``benign``."""
    e = copy.deepcopy(event)
    system = e["Event"]["System"]
    data = e["Event"].get("EventData") or {}
    system["EventRecordID"] = n
    system["Computer"] = f"ws-{rng.randrange(400):03d}.corp.example"
    when = start + timedelta(milliseconds=n * 37)
    system.setdefault("TimeCreated", {}).setdefault("#attributes", {})["SystemTime"] = (
        when.isoformat().replace("+00:00", "Z")
    )
    if isinstance(data, dict):
        for key in ("ProcessId", "ParentProcessId"):
            if key in data:
                data[key] = rng.randrange(100, 60000)
        for key in ("ProcessGuid", "ParentProcessGuid"):
            if key in data:
                data[key] = "{" + str(uuid.UUID(int=rng.getrandbits(128))).upper() + "}"
        if "UtcTime" in data:
            data["UtcTime"] = when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        if benign:
            for key, values in BENIGN.items():
                if key in data:
                    data[key] = rng.choice(values)
            for key in ("OriginalFileName", "Description", "Product", "Company", "Hashes", "Details"):
                if key in data:
                    data[key] = "-"
    return e


def main() -> None:
    """Write the events."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=50_000)
    ap.add_argument("-o", type=Path, required=True)
    ap.add_argument("--benign", type=float, default=0.7, help="share of events given ordinary values")
    ap.add_argument("--seed", type=int, default=20)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = samples()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    args.o.parent.mkdir(parents=True, exist_ok=True)
    with args.o.open("w", encoding="utf-8") as out:
        for n in range(args.n):
            event = vary(base[n % len(base)], rng, n + 1, rng.random() < args.benign, start)
            out.write(json.dumps(event) + "\n")
    print(f"{args.n} events from {len(base)} regression samples -> {args.o}")


if __name__ == "__main__":
    main()
