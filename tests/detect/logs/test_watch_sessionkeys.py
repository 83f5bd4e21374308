"""``--session auto``: the session key chosen from the parsed lines, and said."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.ingest.records import Record, lines_from_text, read_lines, read_records
from bastion.detect.logs.sessionkeys import REQUEST, choose_key

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"


def test_blocks_win_when_every_line_names_one() -> None:
    r = random.Random(3)
    blocks = [f"blk_{r.randrange(10**12)}" for _ in range(40)]
    text = "".join(
        f"081109 2036{i % 60:02} 148 INFO dfs.DataNode: Received block {r.choice(blocks)} of size 9\n"
        for i in range(400)
    )
    choice = choose_key(list(read_records(lines_from_text(text))))
    assert choice.by == "block" and choice.coverage == 1.0 and choice.entities == 40
    assert "block chosen automatically (100% of lines, 40 entities)" in choice.describe()


def test_request_ids_and_other_fields() -> None:
    records = [
        Record(f"GET /x served req-{i % 7:08d}-abcd in 5 ms", fields={"tenant": f"t{i % 3}"})
        for i in range(70)
    ]
    choice = choose_key(records)
    assert choice.by == REQUEST and "request id chosen" in choice.describe()
    only_fields = [Record("hello", fields={"tenant": f"t{i % 3}", "level": "INFO"}) for i in range(30)]
    assert choose_key(only_fields).by == "tenant"


def test_auth_log_sessions_by_process_and_nothing_usable() -> None:
    choice = choose_key(list(read_records(read_lines([LOGS / "OpenSSH_2k.log"]))))
    assert choice.by == "pid" and "also considered: ip" in choice.describe()
    one_host = [Record("x", host="h1") for _ in range(10)]
    assert choose_key(one_host).by == "none" and "none usable" in choose_key(one_host).describe()
    assert choose_key([]).by == "none"


def test_cli_reports_the_chosen_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = (LOGS / "OpenSSH_2k.log").read_text(encoding="utf-8").splitlines(keepends=True)
    first = tmp_path / "first.log"
    first.write_text("".join(lines[:1000]), encoding="utf-8")
    model = tmp_path / "m.bastion"
    assert main(["watch", "train", str(first), "-o", str(model)]) == 0
    assert "session key: pid chosen automatically" in capsys.readouterr().err
    assert main(["watch", "train", str(first), "--session", "user", "-o", str(model)]) == 0
    assert "chosen automatically" not in capsys.readouterr().err
