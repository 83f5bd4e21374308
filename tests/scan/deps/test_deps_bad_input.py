"""Bad input: every malformed manifest is a notice naming file and line, and the scan goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deps_helpers import scan

from bastion.advisories.db import connect
from bastion.cli.main import main
from bastion.scan.deps.model import ManifestError
from bastion.scan.deps.parsers import Workspace, parser_for

WS = Workspace(Path("."))


def _parse(name: str, text: str) -> tuple[list[str], list[tuple[str, int | None]]]:
    parser = parser_for(name)
    assert parser is not None
    result = parser.parse(text, name, WS)
    return [f"{p.name}@{p.version}" for p in result.packages], result.notices


@pytest.mark.parametrize(
    ("name", "text", "message", "line"),
    [
        ("poetry.lock", '[[package]]\nname = "a"\nversion = \n', "invalid TOML", 3),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  a@1: [\n", "invalid YAML", 4),
        ("yarn.lock", '__metadata:\n  version: 8\n"a@npm:1": [\n', "invalid YAML", 4),
        ("Pipfile.lock", '{"default": {', "invalid JSON", 1),
        ("packages.lock.json", '{"version": 1}', "no 'dependencies' object", None),
        ("pnpm-lock.yaml", "- just\n- a list\n", "not a pnpm lockfile", None),
        ("package-lock.json", "[1, 2]", "top level is not an object", None),
        ("poetry.lock", 'package = "nope"\n', "'package' is not an array of tables", None),
    ],
)
def test_unreadable_manifests_raise_with_line(name: str, text: str, message: str, line: int | None) -> None:
    parser = parser_for(name)
    assert parser is not None
    with pytest.raises(ManifestError, match=message) as err:
        parser.parse(text, name, WS)
    assert err.value.line == line


def test_unknown_versions_are_read_with_a_notice() -> None:
    assert _parse(
        "Cargo.lock", 'version = 9\n[[package]]\nname = "a"\nversion = "1.0.0"\nsource = "registry+x"\n'
    ) == (
        ["a@1.0.0"],
        [("unknown Cargo.lock version 9; read as version 4", None)],
    )
    assert _parse("uv.lock", 'version = 7\n[[package]]\nname = "a"\nversion = "1.0"\n')[1] == [
        ("unknown uv.lock version 7; read as version 1", None)
    ]
    pipfile = json.dumps({"_meta": {"pipfile-spec": 9}, "default": {"a": {"version": "==1.0"}}})
    assert _parse("Pipfile.lock", pipfile) == (["a@1.0"], [("unknown pipfile-spec 9; read as 6", None)])
    nuget = json.dumps(
        {"version": 5, "dependencies": {"net8.0": {"A": {"type": "Direct", "resolved": "1.0.0"}}}}
    )
    assert _parse("packages.lock.json", nuget) == (
        ["A@1.0.0"],
        [("unknown packages.lock.json version 5; read as 2", None)],
    )
    pnpm = "lockfileVersion: '42.0'\npackages:\n  /a@1.0.0:\n    resolution: {integrity: x}\n  '???': {}\n"
    packages, notices = _parse("pnpm-lock.yaml", pnpm)
    assert packages == ["a@1.0.0"]
    assert notices[0] == ("unknown lockfileVersion '42.0'; read as 9.0", None)
    assert "unreadable package key" in notices[1][0]


def test_odd_but_valid_lines() -> None:
    assert _parse("yarn.lock", 'lodash@^4:\n  version "4.17.21"\n') == (
        ["lodash@4.17.21"],
        [("no '# yarn lockfile v1' header; read as yarn classic", None)],
    )
    assert _parse("go.mod", "module x\nrequire (\n\tbroken\n)\n")[1] == [
        ("not a 'module version' requirement", 3)
    ]
    assert _parse("Gemfile.lock", "SOMETHING\n  else\n")[1] == [
        ("no gem specifications found (not a Gemfile.lock?)", None)
    ]
    assert _parse("other.lockfile", "some other tool\n") == ([], [])
    packages, notices = _parse("pyproject.toml", '[project]\ndependencies = ["ok==1.0", "bad name here!"]\n')
    assert packages == ["ok@1.0"] and "not a valid requirement" in notices[0][0]
    assert _parse("pyproject.toml", "[tool.other]\nx = 1\n") == ([], [])


def test_empty_database_notice(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite3"
    connect(db, create=True).close()
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "requirements.txt").write_text("flask==0.12.2\n")
    findings, context = scan(tmp_path / "p", db)
    assert findings == []
    assert any("holds no advisories" in n.message for n in context.notices)


def test_fifty_megabyte_lockfile_is_a_notice(
    advisory_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(advisory_db))
    (tmp_path / "big").mkdir()
    with (tmp_path / "big" / "package-lock.json").open("w") as out:
        out.write('{"lockfileVersion": 3, "packages": {')
        entry = '"node_modules/p{}": {{"version": "1.0.0", "resolved": "https://registry.npmjs.org/p/-/p-1.0.0.tgz"}},\n'
        index = 0
        while out.tell() < 50_000_000:
            out.write("".join(entry.format(index + i) for i in range(1000)))
            index += 1000
        out.write('"node_modules/lodash": {"version": "4.17.11"}}}')
    (tmp_path / "requirements.txt").write_text("flask==0.12.2\n")
    code = main(
        ["scan", str(tmp_path), "-s", "deps", "-f", "json", "--concurrency", "thread", "--fail-on", "none"]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert any(f["metadata"]["package"] == "flask" for f in report["findings"])
    notices = [n for n in report["notices"] if n["path"] == "big/package-lock.json"]
    assert notices and notices[0]["kind"] == "too-large"


def test_yarn_npm_alias_names_the_real_package() -> None:
    text = '# yarn lockfile v1\n\n"string-width-cjs@npm:string-width@^4.2.0":\n  version "4.2.3"\n'
    assert _parse("yarn.lock", text) == (["string-width@4.2.3"], [])
    berry = (
        '__metadata:\n  version: 8\n\n"old-lodash@npm:lodash@4.17.11":\n'
        '  version: 4.17.11\n  resolution: "lodash@npm:4.17.11"\n'
    )
    assert _parse("yarn.lock", berry) == (["lodash@4.17.11"], [])
