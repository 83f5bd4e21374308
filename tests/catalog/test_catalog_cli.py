"""``bastion catalog`` end to end through the command line: exit codes, one-line errors, refusal
reasons, the report formats of ``catalog scan``."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bastion.cli.catalog import register
from conftest import CONSUMER, NEW_POLICIES, PRODUCTS


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """The catalog group alone, as bastion mounts it."""

    register(app)
    return app


def run(app: typer.Typer, *args: str, user: str = "carol") -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["catalog", *args], env={"BASTION_USER": user})
    return result.exit_code, result.stdout, result.stderr


def test_publish_approve_deprecate_retire_scan(cli: typer.Typer, tmp_path: Path) -> None:
    catalog = str(tmp_path / "catalog")
    assert run(cli, "product", "add", str(PRODUCTS / "aws-vpc" / "product.yml"), "--catalog", catalog)[
        :2
    ] == (
        0,
        "added product aws-vpc (terraform, owner network-team@example.com)\n",
    )
    code, _, err = run(cli, "product", "add", str(PRODUCTS / "aws-vpc" / "product.yml"), "--catalog", catalog)
    assert (code, err) == (2, "error: product aws-vpc: name clashes with existing product aws-vpc\n")

    code, out, err = run(
        cli, "publish", str(PRODUCTS / "aws-vpc" / "1.4.0"), "-p", "aws-vpc", "-v", "1.4.0", "-c", catalog
    )
    assert code == 1 and out == ""
    assert err.startswith("refused: aws-vpc 1.4.0 fails the catalog gate:\n")
    assert "  - iac.aws.vpc-flow-logs (medium) at main.tf:7: VPC has flow logs\n" in err

    code, _, err = run(
        cli, "publish", str(PRODUCTS / "aws-vpc" / "2.0.0"), "-p", "aws-vpc", "-v", "2.0", "-c", catalog
    )
    assert (code, err) == (2, "error: '2.0': not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.0)\n")

    for version in ("2.0.0", "2.1.0"):
        code, out, _ = run(
            cli, "publish", str(PRODUCTS / "aws-vpc" / "2.0.0"), "-p", "aws-vpc", "-v", version, "-c", catalog
        )
        assert code == 0 and out.startswith(f"published aws-vpc {version} (draft) sha256:")
    code, _, err = run(cli, "approve", "aws-vpc", "2.0.0", "-c", catalog)
    assert (code, err) == (
        2,
        "error: aws-vpc 2.0.0: approval must come from someone other than its publisher\n",
    )
    assert run(cli, "approve", "aws-vpc", "2.0.0", "-c", catalog, user="dave")[:2] == (
        0,
        "approved aws-vpc 2.0.0 by dave\n",
    )
    assert run(cli, "approve", "aws-vpc", "2.1.0", "-c", catalog, "--as", "erin")[0] == 0

    code, _, err = run(
        cli, "deprecate", "aws-vpc", "2.0.0", "--until", "next year", "--successor", "2.1.0", "-c", catalog
    )
    assert (code, err) == (2, "error: --until 'next year': expected a date YYYY-MM-DD\n")
    code, out, _ = run(
        cli, "deprecate", "aws-vpc", "2.0.0", "--until", "2027-03-31", "--successor", "2.1.0", "-c", catalog
    )
    assert (code, out) == (0, "deprecated aws-vpc 2.0.0 until 2027-03-31, successor 2.1.0\n")

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.tf").write_text('module "vpc" {\n  source  = "acme/vpc/aws"\n  version = "2.0.0"\n}\n')
    code, out, _ = run(cli, "scan", str(repo), "-c", catalog, "--format", "json")
    assert code == 1
    findings = json.loads(out)["findings"]
    assert [(f["rule_id"], f["location"]["path"], f["location"]["start_line"]) for f in findings] == [
        ("catalog.version-deprecated", "main.tf", 1)
    ]
    assert run(cli, "scan", str(repo), "-c", catalog, "--fail-on", "high")[0] == 0
    sarif = tmp_path / "out.sarif"
    assert run(cli, "scan", str(repo), "-c", catalog, "--format", "sarif", "-o", str(sarif))[0] == 1
    assert json.loads(sarif.read_text())["runs"][0]["results"][0]["ruleId"] == "catalog.version-deprecated"
    assert run(cli, "scan", str(repo), "-c", catalog, "--format", "xml")[0] == 2
    assert run(cli, "scan", str(repo), "-c", catalog, "--fail-on", "often")[0] == 2

    assert run(cli, "retire", "aws-vpc", "2.0.0", "-c", catalog)[:2] == (0, "retired aws-vpc 2.0.0\n")
    code, out, _ = run(cli, "list", "-c", catalog)
    assert code == 0 and "  2.0.0        retired    until 2027-03-31 -> 2.1.0\n" in out
    listing = json.loads(run(cli, "list", "-c", catalog, "--format", "json")[1])
    assert [v["state"] for v in listing["products"][0]["versions"]] == ["retired", "approved"]
    code, out, _ = run(cli, "audit", "-c", catalog)
    actions = [line.split()[2] for line in out.splitlines()]
    assert actions == [
        "product-add",
        "publish-refused",
        "publish",
        "publish",
        "approve",
        "approve",
        "deprecate",
        "retire",
    ]
    assert json.loads(run(cli, "audit", "-c", catalog, "--format", "json")[1])[4]["actor"] == "dave"


def test_recheck_with_a_new_policy_exits_1_and_notices_fail_visibly(cli: typer.Typer, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "catalog.yml").write_text("require_approval: false\n")
    spec = tmp_path / "kms.yml"
    shutil.copy(PRODUCTS / "aws-kms-key" / "product.yml", spec)
    spec.write_text(spec.read_text() + "owner_webhook: http://127.0.0.1:9/hook\n")
    assert run(cli, "product", "add", str(spec), "-c", str(catalog))[0] == 0
    assert (
        run(
            cli,
            "publish",
            str(PRODUCTS / "aws-kms-key" / "1.0.1"),
            "-p",
            "aws-kms-key",
            "-v",
            "1.0.1",
            "-c",
            str(catalog),
        )[0]
        == 0
    )
    assert run(cli, "recheck", "-c", str(catalog)) == (0, "aws-kms-key 1.0.1 approved: compliant\n", "")
    code, out, err = run(cli, "recheck", "-c", str(catalog), "--policies", str(NEW_POLICIES), "--notify")
    assert code == 1
    assert out == (
        "aws-kms-key 1.0.1 approved: NON-COMPLIANT (changed)\n"
        "  - iac.acme.kms-multi-region (high) at main.tf:12: KMS key is multi-region\n"
    )
    assert err == "warning: notice not delivered: webhook 127.0.0.1: ConnectError\n"
    assert run(cli, "recheck", "-c", str(catalog), "--policies", str(tmp_path / "nope"))[0] == 2
    assert (
        run(cli, "recheck", "-c", str(catalog), "--smtp", "localhost")[2]
        == "error: --smtp 'localhost': expected HOST:PORT\n"
    )
    # on a schedule: the state stays non-compliant, told as a change once (above), not every round
    code, out, err = run(
        cli, "recheck", "-c", str(catalog), "--policies", str(NEW_POLICIES), "--every", "1s", "--rounds", "2"
    )
    assert code == 1 and err == ""
    assert out.splitlines() == [
        "aws-kms-key 1.0.1 approved: NON-COMPLIANT",
        "  - iac.acme.kms-multi-region (high) at main.tf:12: KMS key is multi-region",
        "next re-check in 1s",
        "aws-kms-key 1.0.1 approved: NON-COMPLIANT",
        "  - iac.acme.kms-multi-region (high) at main.tf:12: KMS key is multi-region",
    ]
    assert run(cli, "recheck", "-c", str(catalog), "--rounds", "2")[:1] == (2,)
    assert run(cli, "recheck", "-c", str(catalog), "--every", "soon")[0] == 2


def test_scan_reports_unreadable_files_as_skipped(cli: typer.Typer, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CONSUMER, repo)
    (repo / "Chart.yaml").write_text("dependencies: [\n")
    code, out, _ = run(cli, "scan", str(repo), "-c", str(tmp_path / "empty"), "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["findings"] == []
    assert [s["component"] for s in document["skipped"]] == ["catalog"]
    assert document["skipped"][0]["reason"].startswith("Chart.yaml: ")


def test_bastion_main_mounts_the_group(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bastion.cli.main import main

    catalog = str(tmp_path / "catalog")
    assert (
        main(["catalog", "product", "add", str(PRODUCTS / "aws-kms-key" / "product.yml"), "-c", catalog]) == 0
    )
    assert main(["catalog", "list", "-c", catalog]) == 0
    assert "aws-kms-key (terraform) owner security-team@example.com" in capsys.readouterr().out
    assert main(["catalog", "scan", str(CONSUMER), "-c", catalog, "--fail-on", "none", "-f", "json"]) == 0
    assert '"catalog.version-unknown"' in capsys.readouterr().out


def test_scan_a_repository_by_url(cli: typer.Typer, tmp_path: Path) -> None:
    """A git URL is fetched shallow into a temporary directory: the same findings as the tree."""
    catalog = tmp_path / "catalog"
    assert (
        run(cli, "product", "add", str(PRODUCTS / "aws-kms-key" / "product.yml"), "-c", str(catalog))[0] == 0
    )
    repo = tmp_path / "infra"
    shutil.copytree(CONSUMER, repo)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "i"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    common = ("-c", str(catalog), "--fail-on", "none", "-f", "json")
    code, out, _ = run(cli, "scan", str(repo), *common)
    by_tree = sorted((f["rule_id"], f["location"]["path"]) for f in json.loads(out)["findings"])
    before = set(Path(tempfile.gettempdir()).glob("bastion-catalog-*"))
    code_url, out_url, _ = run(cli, "scan", repo.as_uri(), *common)
    by_url = sorted((f["rule_id"], f["location"]["path"]) for f in json.loads(out_url)["findings"])
    assert code == code_url == 0 and by_tree and by_url == by_tree
    assert set(Path(tempfile.gettempdir()).glob("bastion-catalog-*")) == before  # the clone is removed
    code, _, err = run(cli, "scan", "https://ci:glpat-secret1234@git.example.com/team/infra.git", *common)
    assert code == 2 and "glpat-secret1234" not in err and "credentials in a repository URL" in err
    code, _, err = run(cli, "scan", str(tmp_path / "nowhere"), *common)
    assert code == 2 and "no such repository or directory" in err


def test_bad_inputs_are_one_line_exit_2_and_nothing_half_published(cli: typer.Typer, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    assert run(cli, "product", "add", str(PRODUCTS / "aws-vpc" / "product.yml"), "-c", str(catalog))[0] == 0
    broken = tmp_path / "broken"
    shutil.copytree(PRODUCTS / "aws-vpc" / "2.0.0", broken)
    (broken / "variables.tf").write_text('variable "name" {\n  type = string\n')
    big = tmp_path / "big"
    shutil.copytree(PRODUCTS / "aws-vpc" / "2.0.0", big)
    (big / "README.md").write_text("x" * 2000)
    bad_spec = tmp_path / "bad.yml"
    bad_spec.write_text("name: Bad Name\nkind: terraform\nowner: x\nsource: acme/x/aws\n")
    clash = tmp_path / "clash.yml"
    clash.write_text((PRODUCTS / "aws-vpc" / "product.yml").read_text().replace("network-team", "mallory"))
    current = str(PRODUCTS / "aws-vpc" / "2.0.0")
    cases = [
        (("publish", str(broken), "-p", "aws-vpc", "-v", "2.0.0"), f"{broken / 'variables.tf'}: template"),
        (("publish", current, "-p", "aws-vpc", "-v", "2.0.0.1"), "'2.0.0.1': not a semantic version"),
        (("publish", current, "-p", "aws-nope", "-v", "2.0.0"), "no product aws-nope in the catalog"),
        (("product", "add", str(bad_spec)), f"{bad_spec}: invalid product: name: String should match"),
        (("product", "add", str(clash)), "product aws-vpc: name clashes with existing product aws-vpc"),
    ]  # fmt: skip
    for args, start in cases:
        code, out, err = run(cli, *args, "-c", str(catalog))
        assert (code, out) == (2, ""), args
        assert err.startswith(f"error: {start}") and err.count("\n") == 1 and "Traceback" not in err, err
    (catalog / "catalog.yml").write_text("max_artefact_bytes: 1000\n")
    code, _, err = run(cli, "publish", str(big), "-p", "aws-vpc", "-v", "2.0.0", "-c", str(catalog))
    size = sum(p.stat().st_size for p in big.iterdir())
    assert (code, err) == (
        2,
        f"error: {big}: artefact is {size:,} bytes, over the catalog's limit of 1,000 bytes\n",
    )
    written = sorted(p.relative_to(catalog).as_posix() for p in catalog.rglob("*") if p.is_file())
    assert written == [
        "audit.jsonl",
        "catalog.yml",
        "products/aws-vpc/product.yml",
    ]  # no version, no artefact
    assert [json.loads(line)["action"] for line in (catalog / "audit.jsonl").read_text().splitlines()] == [
        "product-add"
    ]


def test_publish_notes_checks_that_wait_for_the_consumers_inputs(cli: typer.Typer, tmp_path: Path) -> None:
    catalog = str(tmp_path / "catalog")
    spec = str(PRODUCTS / "azure-aks-cluster" / "product.yml")
    assert run(cli, "product", "add", spec, "-c", catalog)[0] == 0
    template = str(PRODUCTS / "azure-aks-cluster" / "1.2.0")
    code, out, err = run(cli, "publish", template, "-p", "azure-aks-cluster", "-v", "1.2.0", "-c", catalog)
    assert code == 0 and out.startswith("published azure-aks-cluster 1.2.0 (draft) sha256:")
    assert err.startswith("note: skipped iac main.tf: ") and err.endswith(
        " policy checks ended unknown (values known only at deploy time)\n"
    )


@pytest.mark.parametrize(
    "command",
    [("publish",), ("approve",), ("deprecate",), ("retire",), ("recheck",), ("list",), ("audit",), ("scan",),
     ("product", "add")],
)  # fmt: skip
def test_every_command_has_help_with_an_example(cli: typer.Typer, command: tuple[str, ...]) -> None:
    """Help renders (an option's help with ``[...]`` once read as markup and crashed) with an example."""
    result = CliRunner().invoke(cli, ["catalog", *command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"Example: bastion catalog {' '.join(command)}" in result.output
