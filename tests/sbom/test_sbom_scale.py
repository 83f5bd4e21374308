"""CycloneDX output at scale, its schema validity, and what ``bastion sbom`` prints (issue 13, SBOM items)."""

from __future__ import annotations

import json
import os
import subprocess  # bastion: ignore[sast.bandit.B404] runs bastion with a fixed argv
import sys
import time
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from bastion.cli.main import main
from bastion.sbom.build import Inventory, cyclonedx_json, inventory
from bastion.sbom.cyclonedx import purl_group_and_name
from bastion.sbom.validate import cyclonedx_problems
from bastion.scan.deps.model import Package

TESTS = Path(__file__).resolve().parents[1]
DEPS = TESTS / "fixtures" / "deps"


def _packages(count: int) -> list[Package]:
    ecosystems = ("npm", "PyPI", "Maven", "Go")
    packages = []
    for index in range(count):
        ecosystem = ecosystems[index % 4]
        name = {
            "npm": f"@scope{index % 9}/pkg-{index}",
            "PyPI": f"Pkg_{index}",
            "Maven": f"org.example:artifact-{index}",
            "Go": f"github.com/example/mod-{index}",
        }[ecosystem]
        version = None if index % 11 == 0 else f"1.0.{index}"
        reason = "version not pinned" if version is None else None
        packages.append(
            Package(ecosystem, name, version, f"m{index % 5}/manifest", index + 1, index % 3 != 0, reason)
        )
    return packages


def test_cyclonedx_grows_linearly() -> None:
    """Ten times the packages costs about ten times the CPU (it was quadratic: 20,000 took 425 s).

    CPU time of this process, best of three, so that other work on a shared machine does not count;
    a quadratic writer would take 100 times as long, the bound is 40.
    """
    small, large = Inventory("s", _packages(1000)), Inventory("l", _packages(10000))
    timings = []
    for inv in (small, large):
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            text = cyclonedx_json(inv)
            best = min(best, time.process_time() - start)
        timings.append(best)
        assert len(json.loads(text)["components"]) == len({p.purl for p in inv.packages})
    assert timings[1] < max(timings[0], 0.005) * 40, timings


def test_cyclonedx_is_schema_valid_and_matches_the_library_reading() -> None:
    inv = Inventory("proj", _packages(300))
    text = cyclonedx_json(inv)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert cyclonedx_problems(text) == []
    bom = json.loads(text)
    for component in bom["components"]:
        purl = PackageURL.from_string(component["purl"])
        assert (component.get("group"), component["name"]) == (purl.namespace, purl.name)
        assert component.get("version") == purl.version
    declared = {p.purl for p in inv.packages if p.direct is not False}
    root = bom["metadata"]["component"]["bom-ref"]
    assert set(next(d for d in bom["dependencies"] if d["ref"] == root)["dependsOn"]) == declared


def test_validator_finds_what_is_wrong() -> None:
    bom = json.loads(cyclonedx_json(Inventory("proj", _packages(250))))
    bom["components"].append(dict(bom["components"][0]))
    bom["components"][200]["type"] = "not-a-type"
    bom["dependencies"][0]["dependsOn"].append("pkg:npm/ghost@1.0.0")
    problems = cyclonedx_problems(json.dumps(bom))
    assert any("not-a-type" in p for p in problems)
    assert any(p.startswith("components: duplicate item") for p in problems)
    assert any("is not unique" in p for p in problems)
    assert "dependency reference 'pkg:npm/ghost@1.0.0' names no component" in problems


def test_purl_split_decodes_like_packageurl() -> None:
    for purl in (
        "pkg:npm/%40babel/core@7.0.0",
        "pkg:golang/github.com/a/b@v1%2Bx",
        "pkg:pypi/six",
        "pkg:npm/a%40b",
    ):
        parsed = PackageURL.from_string(purl)
        assert purl_group_and_name(purl) == (parsed.namespace, parsed.name)


def _transitive_only(root: Path) -> Path:
    root.mkdir()
    (root / "go.mod").write_text(
        "module example.com/app\n\ngo 1.21\n\nrequire golang.org/x/net v0.15.0 // indirect\n"
    )
    return root


def test_no_library_warning_on_stderr(tmp_path: Path) -> None:
    """A tree with only transitive packages made cyclonedx-python-lib print a UserWarning with its path."""
    project = _transitive_only(tmp_path / "app")
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    done = subprocess.run(
        [sys.executable, "-m", "bastion", "sbom", str(project), "-o", str(tmp_path / "bom.json")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "site-packages" not in done.stderr
    assert done.stderr.strip() == f"wrote cyclonedx SBOM with 1 packages to {tmp_path / 'bom.json'}"
    bom = json.loads((tmp_path / "bom.json").read_text())
    assert cyclonedx_problems(json.dumps(bom)) == []
    assert [c["name"] for c in bom["components"]] == ["net"]


@pytest.fixture
def mixed_tree(tmp_path: Path) -> Path:
    """An invalid pom.xml, a package without an exact version, and a pinned one."""
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "pom.xml").write_text("<project><dependencies>\n</project>")
    (tmp_path / "requirements.txt").write_text("flask==0.12.2\njinja2>=2.10\n")
    return tmp_path


def test_quiet_hides_package_notes_but_not_unreadable_files(
    mixed_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = mixed_tree / "bom.json"
    assert main(["sbom", str(mixed_tree), "-o", str(out)]) == 0
    loud = capsys.readouterr().err
    assert "requirements.txt:2 jinja2: version not pinned (>=2.10)" in loud
    assert "wrote cyclonedx SBOM with 2 packages" in loud
    assert main(["sbom", str(mixed_tree), "-o", str(out), "-q"]) == 0
    quiet = capsys.readouterr().err
    assert "jinja2" not in quiet and "wrote" not in quiet
    pom_lines = [line for line in quiet.splitlines() if "pom.xml" in line]
    assert len(pom_lines) == 1 and "invalid XML" in pom_lines[0]
    assert pom_lines[0] in loud


def test_notes_do_not_repeat_the_file_name(mixed_tree: Path) -> None:
    notes = inventory(mixed_tree).notes
    pom = [n for n in notes if "pom.xml" in n]
    assert pom and all(n.count("pom.xml") == 1 for n in pom), pom
    assert pom[0].startswith("svc/pom.xml: invalid XML")


def test_sbom_of_fixtures_is_valid() -> None:
    text = cyclonedx_json(inventory(DEPS))
    assert cyclonedx_problems(text) == []


def test_sbom_of_one_file_in_a_requirements_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It listed 0 packages and said nothing: the file matched no parser once its folder was the root."""
    (tmp_path / "requirements").mkdir()
    lock = tmp_path / "requirements" / "dev.txt"
    lock.write_text("flask==0.12.2 \\\n    --hash=sha256:00ff\nsix==1.16.0\n")
    out = tmp_path / "bom.json"
    assert main(["sbom", str(lock), "-o", str(out)]) == 0
    assert "with 2 packages" in capsys.readouterr().err
    purls = {c["purl"] for c in json.loads(out.read_text())["components"]}
    assert purls == {"pkg:pypi/flask@0.12.2", "pkg:pypi/six@1.16.0"}
