"""Configuration files, precedence and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.config import find_config_file, load_config
from bastion.errors import ConfigError
from bastion.findings import Severity
from bastion.report.formats import ReportFormat
from bastion.scan.engine import Concurrency


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert config.scan.fail_on is Severity.HIGH
    assert config.scan.format is ReportFormat.TABLE
    assert int(config.scan.max_file_size) == 5_000_000
    assert config.scan.gitignore is True


def test_bastion_toml_is_found_and_read(tmp_path: Path) -> None:
    (tmp_path / "bastion.toml").write_text(
        '[scan]\nfail_on = "Medium"\nmax_file_size = "1MB"\nexclude = ["vendor/"]\n'
        'baseline = "ci/baseline.json"\nconcurrency = "thread"\n'
        "[scanners.sast]\ntools = ['bandit']\n"
    )
    path = find_config_file(tmp_path)
    assert path == tmp_path / "bastion.toml"
    config = load_config(path)
    assert config.scan.fail_on is Severity.MEDIUM
    assert int(config.scan.max_file_size) == 1_000_000
    assert config.scan.exclude == ["vendor/"]
    assert config.scan.concurrency is Concurrency.THREAD
    # Relative paths in the file are relative to the file.
    assert config.scan.baseline == tmp_path / "ci" / "baseline.json"
    assert config.scanners == {"sast": {"tools": ["bandit"]}}


def test_pyproject_tool_bastion_is_found(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.bastion.scan]\nfail_on = "none"\n')
    path = find_config_file(tmp_path)
    assert path == tmp_path / "pyproject.toml"
    config = load_config(path)
    assert config.scan.threshold is None


def test_pyproject_without_our_table_is_not_a_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config_file(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text("not [valid toml")
    assert find_config_file(tmp_path) is None


def test_config_next_to_a_file_target(tmp_path: Path) -> None:
    (tmp_path / "bastion.toml").write_text("")
    (tmp_path / "a.py").write_text("")
    assert find_config_file(tmp_path / "a.py") == tmp_path / "bastion.toml"


def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    (tmp_path / "bastion.toml").write_text('[scan]\nfail_on = "low"\nformat = "json"\n')
    config = load_config(tmp_path / "bastion.toml", {"fail_on": "critical", "format": None})
    assert config.scan.fail_on is Severity.CRITICAL
    assert config.scan.format is ReportFormat.JSON


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[scan]\nfail_onn = 'high'\n", "bastion.toml: scan.fail_onn: unknown key"),
        ("[scan]\nfail_on = 'severe'\n", "bastion.toml: scan.fail_on: "),
        ("[scan]\njobs = 'many'\n", "bastion.toml: scan.jobs: Input should be a valid integer"),
        ("[scan]\nexclude = 'vendor'\n", "bastion.toml: scan.exclude: Input should be a valid list"),
        ("[scan]\nmax_file_size = 'huge'\n", "bastion.toml: scan.max_file_size: "),
        ("[scann]\n", "bastion.toml: scann: unknown key"),
        ("scan = 3\n", "bastion.toml: scan: "),
        ("[scan\n", "bastion.toml: invalid TOML"),
    ],
)
def test_bad_config_is_one_line_naming_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bastion.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert expected in message
    assert str(tmp_path) in message


def test_bad_command_line_value_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"command line: --fail-on: .*'hihg'"):
        load_config(None, {"fail_on": "hihg"})


def test_missing_and_unreadable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bastion.toml"
    bad.write_bytes(b"\xff\xfe[scan]")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(bad)


def test_pyproject_tool_bastion_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool]\nbastion = 3\n")
    with pytest.raises(ConfigError, match=r"\[tool.bastion\] must be a table"):
        load_config(path)


def test_ignore_tables_need_paths_rules_and_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "bastion.toml"
    path.write_text(
        '[[scan.ignore]]\npaths = ["tests/"]\nrules = ["sast.bandit.B101"]\nreason = "pytest asserts"\n'
    )
    [entry] = load_config(path).scan.ignore
    assert entry.paths == ["tests/"] and entry.reason == "pytest asserts"
    path.write_text('[[scan.ignore]]\npaths = ["tests/"]\nrules = ["sast.bandit.B101"]\n')
    with pytest.raises(ConfigError, match=r"scan\.ignore\.0\.reason: Field required"):
        load_config(path)


def test_scanner_rule_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "ci" / "bastion.toml"
    path.parent.mkdir()
    path.write_text(
        '[scanners.secrets]\nrules = ["rules", "/abs/rules"]\n[scanners.sast]\nsemgrep_rules = ["x.yml"]\n'
    )
    config = load_config(path)
    assert config.scanners["secrets"]["rules"] == [str(tmp_path / "ci" / "rules"), "/abs/rules"]
    assert config.scanners["sast"]["semgrep_rules"] == [str(tmp_path / "ci" / "x.yml")]


@pytest.mark.parametrize(
    ("line", "applied"),
    [
        ('fail_on = "medium"', True),
        ('fail_on = "high"', True),
        ('fail_on = "critical"', False),
        ('fail_on = "none"', False),
        ('fail_on = "kev"', False),
        ("strict = true", True),
        ('format = "sarif"', True),
        ('max_file_size = "50MB"', True),
        ('max_file_size = "1KB"', False),
        ('min_confidence = "low"', True),
        ('min_confidence = "high"', False),
        ('exclude = ["src/"]', False),
        ('scanners = ["secrets"]', False),
        ('output = "../out.json"', False),
        ('baseline = "b.json"', False),
        ('write_baseline = "b.json"', False),
        ('since = "HEAD~1"', False),
        ("staged = true", False),
        ('ignore = [{paths = ["*"], rules = ["*"], reason = "all of it"}]', False),
    ],
)
def test_repository_config_applies_only_what_cannot_relax_the_gate(
    tmp_path: Path, line: str, applied: bool
) -> None:
    from bastion.config import load_repo_config

    path = tmp_path / "bastion.toml"
    path.write_text(f"[scan]\n{line}\n")
    key = line.split(" ", 1)[0]
    trusted = load_config(path).scan
    untrusted, dropped = load_repo_config(path)
    assert dropped == ([] if applied else [f"scan.{key}"])
    default = getattr(load_config(None).scan, key)
    expected = getattr(trusted, key) if applied else default
    assert getattr(untrusted.scan, key) == expected
    # A command-line value is the operator's and always wins, whatever the file says.
    if key == "fail_on":
        assert load_repo_config(path, {"fail_on": "low"})[0].scan.fail_on is Severity.LOW


def test_repository_scanner_tables_keep_only_added_rules(tmp_path: Path) -> None:
    from bastion.config import load_repo_config

    path = tmp_path / "bastion.toml"
    path.write_text(
        '[scanners.iac]\npolicies = ["policies"]\ndisable = ["iac.aws.*"]\n'
        '[scanners.sast]\nbandit_skip = ["B101"]\nsemgrep_rules = ["rules"]\n'
        '[scanners.deps]\ndatabase = "empty.sqlite3"\nunrated = "info"\n'
    )
    config, dropped = load_repo_config(path)
    assert sorted(dropped) == [
        "scanners.deps.database",
        "scanners.deps.unrated",
        "scanners.iac.disable",
        "scanners.sast.bandit_skip",
    ]
    assert config.scanners["iac"] == {"policies": [str(tmp_path / "policies")]}
    assert config.scanners["sast"] == {"semgrep_rules": [str(tmp_path / "rules")]}
    assert config.scanners["deps"] == {}
