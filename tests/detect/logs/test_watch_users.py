"""``--session user`` on auth logs: real user names, checked against loghub's annotated templates."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.ingest.records import read_lines, read_records

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"
SSH = LOGS / "OpenSSH_2k.log"
# In an annotated template, the user is the <*> the grammar puts after these words.
_USER_SLOT = re.compile(r"(?:user |user=)$")
_FOR_SLOT = re.compile(r"for $")


def truth_users() -> list[str | None]:
    """Per line of OpenSSH_2k, the user its annotated template names (None when it names none)."""
    out: list[str | None] = []
    with (LOGS / "OpenSSH_2k.log_structured.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            template, content = row["EventTemplate"], row["Content"]
            parts = template.split("<*>")
            pattern = "".join(
                re.escape(p) + ("(.*?)" if i < len(parts) - 1 else "") for i, p in enumerate(parts)
            )
            m = re.fullmatch(pattern, content)
            assert m is not None, template
            user = None
            for i, value in enumerate(m.groups()):
                before, after = parts[i], parts[i + 1]
                if _USER_SLOT.search(before) or (
                    _FOR_SLOT.search(before) and re.match(r" (?:from|\[preauth\])", after)
                ):
                    user = value
                    break
            out.append(user)
    return out


def test_users_are_the_annotated_names() -> None:
    records = list(read_records(read_lines([SSH])))
    truth = truth_users()
    named = [(r.fields.get("user"), t.strip(), r.message) for r, t in zip(records, truth, strict=True) if t]
    assert len(named) > 1000
    wrong = [(got, want, msg) for got, want, msg in named if got != want]
    assert wrong == [], (len(wrong), wrong[:5])
    # a line whose template names no user yields none ("check pass; user unknown" included), except
    # where the annotators kept the name as text (``... for root from <*>``, ``user=root``)
    with (LOGS / "OpenSSH_2k.log_structured.csv").open(encoding="utf-8") as f:
        templates = [row["EventTemplate"] for row in csv.DictReader(f)]
    extra = [
        (r.fields["user"], template)
        for r, t, template in zip(records, truth, templates, strict=True)
        if not t and "user" in r.fields
    ]
    assert all(re.search(rf"(?:for|user=){re.escape(u)}\b", tm.replace("for ", "for")) for u, tm in extra)


@pytest.mark.parametrize(
    ("message", "user"),
    [
        ("session opened for user news by (uid=0)", "news"),
        ("session closed for user cyrus", "cyrus"),
        ("check pass; user unknown", None),
        ("authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=h.example.net", None),
        ("authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root", "root"),
        ("Failed password for invalid user admin from 1.2.3.4 port 22 ssh2", "admin"),
        ("Accepted publickey for deploy from 10.0.0.1 port 5022 ssh2", "deploy"),
        ("Disconnecting: Too many authentication failures for root [preauth]", "root"),
        ("PacketResponder 1 for block blk_38 terminating", None),
        ("reverse mapping checking getaddrinfo for host.example.com [1.2.3.4] failed", None),
    ],
)
def test_user_grammar(message: str, user: str | None) -> None:
    record = next(read_records(iter([("t", 1, message)]), fmt=None))
    assert record.fields.get("user") == user


def test_session_user_alerts_name_users(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = SSH.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    first.write_text("".join(lines[:1000]), encoding="utf-8")
    second.write_text("".join(lines[1000:]), encoding="utf-8")
    model = tmp_path / "ssh.bastion"
    assert main(["watch", "train", str(first), "--session", "user", "-o", str(model)]) == 0
    capsys.readouterr()
    main(["watch", "detect", str(second), "-m", str(model), "--format", "jsonl"])
    alerts = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    names = {u for u in truth_users() if u}
    users = {a["entity"] for a in alerts if a["entity_kind"] == "user"}
    assert users and users <= names
    assert all(a["entity_kind"] in ("user", "window") for a in alerts)
