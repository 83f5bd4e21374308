"""Invariant (issue 13, "Done means"): no full secret in any printed or stored field.

Random secrets of several kinds, in random files and shapes, are scanned through the CLI in
every report format; each output must hold none of them in full. The JSON and SARIF reports are
then uploaded, and every column of every table, the API's findings and the dashboard's pages must
hold none of them either. Secrets are generated here from a seed: they grant nothing.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_world import World, bearer, login
from sqlalchemy import select
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.report import ReportFormat
from bastion.store.models import Base

runner = CliRunner()
ALNUM = string.ascii_letters + string.digits


def _secrets(rng: random.Random) -> list[str]:
    upper = string.ascii_uppercase + "234567"
    return [
        "ghp_" + "".join(rng.choice(ALNUM) for _ in range(36)),
        "AKIA" + "".join(rng.choice(upper) for _ in range(16)),
        "glpat-" + "".join(rng.choice(ALNUM) for _ in range(20)),
    ]


SHAPES = (
    ("settings.env", "API_TOKEN={s}\n"),
    ("app/config.py", 'TOKEN = "{s}"\n'),
    ("deploy/values.yaml", "auth:\n  token: {s}\n"),
    ("docs/links.md", "see https://ci.example.com/hook?token={s}&x=1\n"),
    ("data/conf.json", '{{"key": "{s}"}}\n'),
)


def _tree(root: Path, rng: random.Random, secrets: list[str]) -> None:
    (root / ".git").mkdir(parents=True)
    for secret in secrets:
        path, shape = rng.choice(SHAPES)
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a") as handle:
            handle.write(shape.format(s=secret))


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def _all_stored(world: World) -> str:
    with world.store.read() as session:
        rows = [
            dict(row)
            for table in Base.metadata.sorted_tables
            for row in session.execute(select(table)).mappings().all()
        ]
    return repr(rows) + json.dumps(rows, default=str, ensure_ascii=False)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_full_secret_in_any_printed_or_stored_field(
    world: World, client: TestClient, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    secrets = _secrets(rng) + _secrets(rng)
    repo = tmp_path / "repo"
    _tree(repo, rng, secrets)
    outputs: dict[str, str] = {}
    for fmt in ReportFormat:
        written = tmp_path / f"report.{fmt.value}"
        arguments = ["scan", str(repo), "-s", "secrets", "--fail-on", "none", "-f", fmt.value]
        result = runner.invoke(app, [*arguments, "-o", str(written)])
        assert result.exit_code == 0, result.output
        outputs[fmt.value] = written.read_text("utf-8")
        assert not _leaks(result.output, secrets), (fmt, result.output)
        assert not _leaks(outputs[fmt.value], secrets), fmt
    report = json.loads(outputs["json"])
    assert len(report["findings"]) >= len(secrets) // 2, "the secrets were found (not a vacuous pass)"
    for kind in ("json", "sarif"):
        response = client.post("/api/v1/scans", content=outputs[kind], headers=bearer(world.demo_token))
        assert response.status_code == 201, response.text
        assert not _leaks(response.text, secrets)
    stored = _all_stored(world)
    assert not _leaks(stored, secrets)
    listing = client.get(
        "/api/v1/projects/demo/findings", params={"per_page": 200}, headers=bearer(world.demo_token)
    )
    assert listing.json()["total"] >= len(report["findings"]) and not _leaks(listing.text, secrets)
    login(client, "maya")
    for page in ("/findings?project=demo", "/scans?project=demo", "/projects/demo"):
        response = client.get(page)
        assert response.status_code == 200 and not _leaks(response.text, secrets), page
