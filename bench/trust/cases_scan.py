"""Issue 13's repros that need only the CLI: items 4, 5, 6, 10, 12, 13, 14, 15, 17."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

from harness import BASTION, Row, Workspace

OSV = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "advisories" / "osv"
TOKEN = "ghp_" + "kY9pF34Qy6nB3Wwd25rq4f5zr3QA7Y3T9fPo"  # generated, grants nothing


def advisory_db(ws: Workspace) -> Path:
    """The test fixtures' OSV records (PyPI and GitHub advisories) imported once."""
    database = ws.path("adv", "advisories.db")
    if not database.exists():
        run = ws.bastion("db", "import", str(OSV), "--database", str(database))
        if run.code != 0:
            raise RuntimeError(run.text)
    return database


def item4(ws: Workspace) -> list[Row]:
    """An ecosystem without advisories is a visible skip, and --strict fails."""
    database = ws.path("i4", "pypi-only.db")
    ws.bastion("db", "import", str(OSV / "pypa"), "--database", str(database))
    ws.write(
        "i4/package-lock.json",
        json.dumps(
            {
                "name": "x",
                "lockfileVersion": 3,
                "packages": {"": {"name": "x"}, "node_modules/lodash": {"version": "4.17.11"}},
            }
        ),
    )
    run = ws.bastion("scan", "i4", "-s", "deps", "--strict", env={"BASTION_ADVISORY_DB": str(database)})
    holds = run.code == 1 and "npm" in run.text and "skip" in run.text.lower()
    line = [x for x in run.text.splitlines() if "npm" in x][:1]
    return [
        Row(
            "4",
            "bastion scan i4 -s deps --strict (DB with PyPI only; npm lockfile)",
            "npm shown as skipped, exit 1",
            f"exit {run.code}; {line[0].strip() if line else '-'}",
            holds,
        )
    ]


def item5(ws: Workspace) -> list[Row]:
    """An unresolved variable on a checked attribute is 'unknown', and --strict fails."""
    ws.write(
        "i5/main.tf",
        'variable "cidr" {}\nresource "aws_security_group" "ssh" {\n  ingress {\n'
        '    from_port = 22\n    to_port = 22\n    protocol = "tcp"\n    cidr_blocks = [var.cidr]\n  }\n}\n',
    )
    run = ws.bastion("scan", "i5", "-s", "iac", "--strict")
    holds = run.code == 1 and "unknown" in run.text.lower()
    return [
        Row(
            "5",
            'bastion scan i5 -s iac --strict (variable "cidr" {} on an SSH ingress)',
            "an 'unknown' notice with the reason, exit 1",
            f"exit {run.code}; 'unknown' shown: {'unknown' in run.text.lower()}",
            holds,
        )
    ]


def item6(ws: Workspace) -> list[Row]:
    """--strict fails after each kind of skipped file."""
    cases = {
        "HCL syntax error": ("main.tf", 'resource "x" {\n', "iac"),
        "broken lockfile": ("package-lock.json", "{not json", "deps"),
        "YAML alias bomb": ("k8s.yaml", _alias_bomb(), "iac"),
        "deep nesting": (
            "template.json",
            '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"B": '
            '{"Type": "AWS::S3::Bucket", "Properties": ' + '{"a":' * 3000 + "1" + "}" * 3003,
            "iac",
        ),
        "file over the size limit with a token": ("big.env", "x" * 6_000_000 + f"\nT={TOKEN}\n", "secrets"),
    }
    rows = []
    for label, (name, text, scanner) in cases.items():
        folder = f"i6/{label.split()[0].lower()}"
        ws.write(f"{folder}/{name}", text)
        run = ws.bastion(
            "scan", folder, "-s", scanner, "--strict", env={"BASTION_ADVISORY_DB": str(advisory_db(ws))}
        )
        rows.append(
            Row(
                "6",
                f"bastion scan {folder} -s {scanner} --strict ({label})",
                "exit 1",
                f"exit {run.code}",
                run.code == 1,
            )
        )
    return rows


def _alias_bomb() -> str:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
    text += '  a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    previous = "a"
    for index in range(8):
        name = chr(98 + index)
        text += f"  {name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text


def item10(ws: Workspace) -> list[Row]:
    """A scanned repository's bastion.toml cannot choose the output path nor relax the gate."""
    ws.write("i10/repo/bastion.toml", '[scan]\noutput = "../outside/pwned.json"\nfail_on = "none"\n')
    ws.write("i10/repo/.env", f"TOKEN={TOKEN}\n")
    run = ws.bastion("scan", "i10/repo", "-s", "secrets")
    pwned = ws.path("i10", "outside", "pwned.json").exists()
    holds = run.code == 1 and not pwned
    return [
        Row(
            "10",
            "bastion scan i10/repo -s secrets (repo bastion.toml: output ../outside, fail_on none)",
            "no file outside the target, gate still fails (exit 1)",
            f"exit {run.code}; ../outside/pwned.json written: {pwned}",
            holds,
        )
    ]


def item12(ws: Workspace) -> list[Row]:
    """A corrupt advisory database: one line from db status; scan exits 2 without 'gate passed'."""
    corrupt = ws.write("i12/corrupt.db", b"this is not a database" * 100)
    ws.write("i12/tree/requirements.txt", "django==1.11.0\n")
    status = ws.bastion("db", "status", "--database", str(corrupt))
    report = ws.path("i12", "report.json")
    scan = ws.bastion(
        "scan",
        "i12/tree",
        "-s",
        "deps",
        "-f",
        "json",
        "-o",
        str(report),
        env={"BASTION_ADVISORY_DB": str(corrupt)},
    )
    failed = json.loads(report.read_text())["summary"].get("failed") if report.exists() else None
    lines = len(status.text.strip().splitlines())
    return [
        Row(
            "12",
            "bastion db status --database corrupt.db",
            "one line, exit 2",
            f"exit {status.code}, {lines} line(s), traceback: {'Traceback' in status.text}",
            status.code == 2 and lines == 1 and "Traceback" not in status.text,
        ),
        Row(
            "12",
            "BASTION_ADVISORY_DB=corrupt.db bastion scan -s deps -f json",
            "exit 2, no 'gate passed', JSON failed true",
            f"exit {scan.code}; 'gate passed' printed: {'gate passed' in scan.text}; "
            f"summary.failed: {failed}",
            scan.code == 2 and "gate passed" not in scan.text and failed is True,
        ),
    ]


def item13(ws: Workspace) -> list[Row]:
    """watch reads a huge single line in bounded memory (64 KB line cap)."""
    big = ws.path("i13", "huge.log")
    with big.open("wb") as handle:
        handle.write(b"Dec  7 10:00:00 host app[1]: start\n")
        handle.write(b"A" * (200 * 1024 * 1024) + b"\n")
        handle.write(b"Dec  7 10:00:01 host app[1]: end\n")
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", BASTION, "watch", "templates", str(big)],
        cwd=ws.root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **ws.env},
    )
    seconds = time.perf_counter() - started
    peak = next((int(x.split()[-1]) // 1024 for x in done.stderr.splitlines() if "Maximum resident" in x), -1)
    big.unlink()
    return [
        Row(
            "13",
            "bastion watch templates huge.log (one 200 MB line)",
            "peak memory far below 459 MB",
            f"exit {done.returncode}, peak RSS {peak} MB, {seconds:.1f} s",
            0 < peak < 200,
        )
    ]


def item14(ws: Workspace) -> list[Row]:
    """A killed db update's work directory is cleaned by the next run."""
    database = ws.path("i14", "adv.db")
    killed = ws.path("i14", ".bastion-db-killed")  # a killed update: its owner.pid names a dead process
    killed.mkdir()
    dead = subprocess.Popen(["/bin/true"])
    dead.wait()
    (killed / "owner.pid").write_text(str(dead.pid))
    (killed / "partial.zip").write_bytes(b"x" * 1000)
    stale = ws.path("i14", ".bastion-db-old")  # no pid: stale after 6 hours
    stale.mkdir()
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    mirror = ws.path("i14", "mirror", "PyPI", "all.zip")
    import zipfile

    with zipfile.ZipFile(mirror, "w") as archive:
        archive.writestr(
            "PYSEC-0000-1.json",
            json.dumps(
                {
                    "id": "PYSEC-0000-1",
                    "modified": "2024-01-01T00:00:00Z",
                    "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"}, "versions": ["1.0"]}],
                }
            ),
        )
    run = ws.bastion(
        "db",
        "update",
        "-e",
        "PyPI",
        "--osv-url",
        mirror.parent.parent.as_uri(),
        "--no-kev",
        "--database",
        str(database),
    )
    left = [p.name for p in (killed, stale) if p.exists()]
    return [
        Row(
            "14",
            "bastion db update -e PyPI --osv-url file://mirror (beside: a killed update's work dir with a "
            "dead owner.pid, and one without a pid, 7 h old)",
            "both removed",
            f"exit {run.code}; left: {left or 'none'}",
            not left and run.code == 0,
        )
    ]


def item15(ws: Workspace) -> list[Row]:
    """Store and advisory database files are created 0600 in 0700 directories."""
    home = ws.path("i15", "home")
    home.mkdir(exist_ok=True)
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "BASTION_PASSWORD": "a long enough password 123",  # bastion: ignore[sast.bandit.B105] throwaway
        "BASTION_DATABASE_URL": "",
        "BASTION_ADVISORY_DB": "",
    }
    ws.bastion("user", "create", "alice", "--admin", env=env)
    ws.bastion("db", "import", str(OSV / "pypa" / "django"), env=env)
    found = [
        (path, stat.S_IMODE(path.stat().st_mode), stat.S_IMODE(path.parent.stat().st_mode))
        for path in home.rglob("*")
        if path.suffix in (".db", ".sqlite3")
    ]
    observed = ", ".join(f"{p.name} {m:o} in {d:o}" for p, m, d in found) or "no database files found"
    holds = bool(found) and all(m == 0o600 and d == 0o700 for _, m, d in found)
    return [
        Row(
            "15",
            "bastion user create; bastion db import (default locations)",
            "files 0600, directories 0700",
            observed,
            holds,
        )
    ]


def item17(ws: Workspace) -> list[Row]:
    """Advisories without a severity are 'unrated' and fail the default gate visibly."""
    ws.write("i17/requirements.txt", "django==1.11.0\n")
    run = ws.bastion(
        "scan", "i17", "-s", "deps", "-f", "json", env={"BASTION_ADVISORY_DB": str(advisory_db(ws))}
    )
    document = json.loads(run.out) if run.out.strip().startswith("{") else {}
    findings = document.get("findings", [])
    unrated = sum(1 for f in findings if f.get("metadata", {}).get("severity_source") == "unrated")
    medium_default = sum(1 for f in findings if f.get("severity") == "medium" and unrated)
    severities = sorted({str(f.get("severity")) for f in findings})
    holds = run.code == 1 and len(findings) >= 10 and unrated > 0 and medium_default == 0
    return [
        Row(
            "17",
            "bastion scan i17 -s deps (django==1.11.0, default gate)",
            "exit 1; advisories without severity marked unrated, not medium",
            f"exit {run.code}; {len(findings)} findings, {unrated} marked unrated, "
            f"{medium_default} medium; severities {severities}",
            holds,
        )
    ]


def sqlite_integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of a SQLite file."""
    with sqlite3.connect(path) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
