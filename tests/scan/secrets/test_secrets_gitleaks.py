"""gitleaks users keep their triage: ``gitleaks:allow`` comments and ``.gitleaks.toml`` allow-lists
leave secrets out of the report, counted in a notice; what cannot be applied is said."""

from __future__ import annotations

import json
from pathlib import Path

from bastion.cli.main import main

# Generated for this test; they grant nothing.
TOKEN_A = "Zt4Kq8Lm2Nx7Pw3R"
TOKEN_B = "Hb3Jc9Kd2Le7Mf4N"
TOKEN_C = "Aq1Bw2Ce3Dr4Ef5G"
TOKEN_D = "Pz9Ox8Ny7Mw6Lv5K"


def _scan(root: Path) -> dict[str, object]:
    out = root.parent / f"{root.name}-report.json"
    main(["scan", str(root), "-s", "secrets", "-f", "json", "-o", str(out), "-q", "--fail-on", "none"])
    report: dict[str, object] = json.loads(out.read_text())
    return report


def test_gitleaks_allow_comments_and_allowlists(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "fixtures").mkdir(parents=True)
    (root / ".gitleaks.toml").write_text(
        'title = "team config"\n'
        "[allowlist]\n"
        'paths = ["^fixtures/"]\n'
        f'regexes = ["{TOKEN_C[:12]}"]\n'
        'stopwords = ["notarealtoken"]\n'
        "[[allowlists]]\n"
        'targetRules = ["github-pat"]\n'
        'paths = ["^src/"]\n'
    )
    (root / "fixtures" / "sample.env").write_text(f"DB_PASSWORD={TOKEN_A}\n")
    (root / "app.env").write_text(
        f"DB_PASSWORD={TOKEN_B}  # gitleaks:allow\nAPI_SECRET={TOKEN_C}\nADMIN_PASSWORD={TOKEN_D}\n"
    )
    report = _scan(root)
    findings = report["findings"]
    assert isinstance(findings, list)
    lines = {(f["location"]["path"], f["location"]["start_line"]) for f in findings}
    assert lines == {("app.env", 3)}
    text = json.dumps(report)
    assert "3 secrets not reported as gitleaks allows them" in text
    assert "targets gitleaks rule ids" in text
    for token in (TOKEN_A, TOKEN_B, TOKEN_C, TOKEN_D):
        assert token not in text


def test_a_broken_gitleaks_file_is_reported_and_nothing_is_allowed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".gitleaks.toml").write_text("[allowlist\npaths = [\n")
    (root / "app.env").write_text(f"ADMIN_PASSWORD={TOKEN_D}\n")
    report = _scan(root)
    findings = report["findings"]
    assert isinstance(findings, list) and len(findings) == 1
    assert "the file could not be read" in json.dumps(report)
