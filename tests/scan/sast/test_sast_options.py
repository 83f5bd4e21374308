"""``[scanners.sast]`` validation: one ConfigError line naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sast_helpers import PROJECT, run_sast

from bastion.errors import ConfigError
from bastion.scan.sast import SastOptions, parse_options
from bastion.scan.sast.options import DEFAULT_SEMGREP_TIMEOUT_S, Tool, resolve_rule_paths


def test_defaults() -> None:
    options = parse_options({})
    assert options == SastOptions()
    assert options.tools == (Tool.BANDIT, Tool.SEMGREP, Tool.TAINT)
    assert options.semgrep_rules == ()
    assert options.bandit_skip == ()
    assert options.semgrep_timeout == DEFAULT_SEMGREP_TIMEOUT_S


def test_valid_options() -> None:
    options = parse_options(
        {"tools": ["semgrep"], "semgrep_rules": ["a.yml"], "bandit_skip": ["B101"], "semgrep_timeout": 60}
    )
    assert options.tools == (Tool.SEMGREP,)
    assert options.semgrep_rules == ("a.yml",)
    assert options.bandit_skip == ("B101",)
    assert options.semgrep_timeout == 60.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"tool": ["bandit"]}, "scanners.sast.tool: unknown key (choose from tools, semgrep_rules, "),
        ({"tools": "bandit"}, "scanners.sast.tools: must be a list of strings (got 'bandit')"),
        (
            {"tools": ["bandit", "pmd"]},
            "scanners.sast.tools[1]: Input should be 'bandit', 'semgrep' or 'taint'",
        ),
        ({"tools": []}, "scanners.sast.tools: "),
        ({"semgrep_rules": "rules.yml"}, "scanners.sast.semgrep_rules: must be a list of strings"),
        ({"semgrep_rules": [1]}, "scanners.sast.semgrep_rules[0]: Input should be a valid string"),
        ({"bandit_skip": ["B999"]}, "scanners.sast.bandit_skip: unknown bandit test id 'B999'"),
        ({"bandit_skip": ["b101"]}, "scanners.sast.bandit_skip: unknown bandit test id 'b101'"),
        ({"semgrep_timeout": True}, "scanners.sast.semgrep_timeout: must be a number of seconds"),
        ({"semgrep_timeout": "60"}, "scanners.sast.semgrep_timeout: must be a number of seconds"),
        ({"semgrep_timeout": 0}, "scanners.sast.semgrep_timeout: Input should be greater than 0"),
    ],
)
def test_bad_options_raise_one_line(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_options(raw)
    text = str(info.value)
    assert text.startswith(message)
    assert "\n" not in text


def test_scanner_validates_options_before_running() -> None:
    with pytest.raises(ConfigError, match=r"^scanners\.sast\.bandit_skp: unknown key"):
        run_sast(PROJECT, {"bandit_skp": ["B101"]})


def test_rule_paths_resolve_against_the_target(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "extra.yml").write_text("rules: []\n", encoding="utf-8")
    absolute = tmp_path / "rules" / "extra.yml"
    assert resolve_rule_paths(("rules/extra.yml", str(absolute)), tmp_path) == [absolute, absolute]


def test_missing_rule_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^scanners\.sast\.semgrep_rules\[0\]: rule file not found: "):
        resolve_rule_paths(("nope.yml",), tmp_path)


@pytest.mark.parametrize("config", ["p/python", "auto", "https://semgrep.dev/c/p/python", "r/python.lang"])
def test_registry_rule_sets_are_refused(tmp_path: Path, config: str) -> None:
    with pytest.raises(ConfigError, match=r"registry or URL rule sets are not supported"):
        resolve_rule_paths((config,), tmp_path)


def test_missing_rule_file_is_reported_even_without_semgrep_running(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="rule file not found"):
        run_sast(tmp_path, {"semgrep_rules": ["missing.yml"]})
