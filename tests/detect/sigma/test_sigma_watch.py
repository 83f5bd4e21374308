"""``bastion watch detect|run --sigma-rules``: one read of the logs feeds the models and the Sigma rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.sigma.tap import SigmaTap
from bastion.errors import InputError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sigma"
RULES = FIXTURES / "rules"


def test_watch_detect_runs_sigma_rules_on_the_same_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m.json"
    assert main(["watch", "train", str(FIXTURES / "auth.log"), "-o", str(model)]) == 0
    out = tmp_path / "alerts.jsonl"
    code = main(
        [
            "watch",
            "detect",
            str(FIXTURES / "auth.log"),
            "-m",
            str(model),
            "--sigma-rules",
            str(RULES),
            "--format",
            "jsonl",
            "-o",
            str(out),
        ]
    )
    assert code == 1
    sigma = [a for a in map(json.loads, out.read_text().splitlines()) if a["detector"] == "sigma"]
    assert sorted(a["metadata"]["rule_title"] for a in sigma) == [
        "SSH Failed Password",
        "SSH Failed Password",
        "Sudo Reads Shadow",
    ]
    assert "sigma: 10 rule(s) over 4 event(s): 3 alert(s)" in capsys.readouterr().err


def test_watch_run_sees_baseline_lines_too(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "watch",
            "run",
            str(FIXTURES / "auth.log"),
            "--baseline-lines",
            "2",
            "--idle-timeout",
            "0.5",
            "--sigma-rules",
            str(RULES),
            "--format",
            "jsonl",
        ]
    )
    assert code == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert [a["metadata"]["rule_title"] for a in lines if a["detector"] == "sigma"][:2] == [
        "SSH Failed Password"
    ] * 2


def test_tap_without_rules_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "x.yml").write_text("nope: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="no Sigma rule could be loaded"):
        SigmaTap([tmp_path])
