"""Alerts graded into severities by score, ATT&CK ids from their events, sorted output, summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.logs.grading import grade, techniques_in
from bastion.findings import Severity


@pytest.mark.parametrize(
    ("ratio", "unseen", "techniques", "severity"),
    [
        (1.2, False, (), Severity.LOW),
        (2.0, False, (), Severity.MEDIUM),
        (5.0, False, (), Severity.HIGH),
        (20.0, False, (), Severity.CRITICAL),
        (1.2, True, (), Severity.MEDIUM),
        (1.2, True, ("T1110",), Severity.HIGH),
        (50.0, False, ("T1110",), Severity.CRITICAL),
    ],
)
def test_grade(ratio: float, unseen: bool, techniques: tuple[str, ...], severity: Severity) -> None:
    assert grade(ratio, unseen, techniques) == severity


def test_techniques_from_event_text() -> None:
    assert techniques_in(["Failed password for root from 1.2.3.4 port 22 ssh2"]) == ("T1110",)
    assert techniques_in(["sudo:  alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/bash"]) == ("T1548",)
    assert techniques_in(["useradd[812]: new user: name=backup, UID=1001"]) == ("T1136",)
    assert techniques_in(["A service was installed in the system. Service Name: x"]) == ("T1543",)
    assert techniques_in(["Received block blk_1 of size 9"]) == ()


def _line(second: int, pid: int, text: str) -> str:
    return f"Dec 10 06:{second // 60 % 60:02}:{second % 60:02} web01 sshd[{pid}]: {text}\n"


def test_detect_sorts_by_severity_and_score_and_summarises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    normal = []
    for pid in range(100, 160):
        normal += [
            _line(pid, pid, f"Accepted publickey for deploy from 10.0.0.{pid % 9} port {4000 + pid} ssh2"),
            _line(pid, pid, "pam_unix(sshd:session): session opened for user deploy by (uid=0)"),
            _line(pid, pid, "pam_unix(sshd:session): session closed for user deploy"),
        ]
    train, test = tmp_path / "train.log", tmp_path / "test.log"
    train.write_text("".join(normal), encoding="utf-8")
    odd = normal[:30]
    odd.append(_line(1, 900, "Connection reset by 10.0.0.9 port 5000"))  # one unseen event
    odd += [_line(2, 901, f"Failed password for root from 6.6.6.6 port {5000 + i} ssh2") for i in range(40)]
    odd += [_line(3, 902, f"Failed password for admin from 6.6.6.7 port {6000 + i} ssh2") for i in range(3)]
    test.write_text("".join(odd), encoding="utf-8")
    model = tmp_path / "m.bastion"
    assert (
        main(["watch", "train", str(train), "--session", "pid", "--model", "ranges", "-o", str(model)]) == 0
    )
    capsys.readouterr()
    assert main(["watch", "detect", str(test), "-m", str(model), "--format", "jsonl"]) == 1
    captured = capsys.readouterr()
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    ranks = [(Severity(a["severity"]).rank, a["score"]) for a in alerts]
    assert ranks == sorted(ranks, reverse=True)
    by_pid = {a["entity"]: a for a in alerts}
    assert {"900", "901", "902"} <= set(by_pid)
    assert by_pid["901"]["techniques"] == ["T1110"] and by_pid["900"]["techniques"] == []
    assert Severity(by_pid["901"]["severity"]) > Severity(by_pid["900"]["severity"])
    assert by_pid["901"]["score"] > by_pid["902"]["score"]  # 40 failures outrank 3
    assert alerts.index(by_pid["901"]) < alerts.index(by_pid["902"])
    assert len({a["severity"] for a in alerts}) > 1  # not every alert is high
    err = captured.err.replace("\n", " ")
    assert "summary: " in err and "session key 'pid'" in err and "ATT&CK T1110 x" in err
    assert "top entities: pid 901 (1)" in err
    assert main(["watch", "detect", str(test), "-m", str(model)]) == 1
    table = capsys.readouterr().out
    assert table.index("pid=901") < table.index("pid=900") and "ATT&CK T1110" in table


def test_year_option_dates_year_less_stamps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ssh = Path(__file__).resolve().parents[2] / "fixtures" / "logs" / "OpenSSH_2k.log"
    lines = ssh.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    first.write_text("".join(lines[:1000]), encoding="utf-8")
    second.write_text("".join(lines[1000:]), encoding="utf-8")
    model = tmp_path / "m.bastion"
    assert main(["watch", "train", str(first), "--year", "2005", "-o", str(model)]) == 0
    assert main(["watch", "detect", str(second), "-m", str(model), "--format", "jsonl"]) == 1
    alerts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert alerts and all(a["window_start"].startswith("2005-12-10") for a in alerts)  # the model keeps it
    assert (
        main(["watch", "detect", str(second), "-m", str(model), "--format", "jsonl", "--year", "2004"]) == 1
    )
    assert all(
        json.loads(x)["window_start"].startswith("2004-") for x in capsys.readouterr().out.splitlines()
    )
    assert main(["watch", "templates", str(first), "--year", "99"]) == 2
    assert "--year 99 is out of range" in capsys.readouterr().err
