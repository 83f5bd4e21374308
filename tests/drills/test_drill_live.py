"""Live mode sends its probes only to the targets the exercise lists (loopback here)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bastion.cli.main import main
from bastion.drills.exercise import load_exercise
from bastion.drills.live import LiveRefused, check_targets, run_live
from conftest import ExerciseFactory


class _Lab(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Lab.seen.append(self.path)
        self.send_response(404 if "passwd" in self.path else 200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def lab() -> Iterator[str]:
    """A lab web app on loopback."""
    _Lab.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Lab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_listed_loopback_target_gets_the_probes(exercise_file: ExerciseFactory, lab: str) -> None:
    ex = load_exercise(
        exercise_file(scenarios=["web-sql-injection", "web-path-traversal"], live={"targets": {"web": lab}})
    )
    results = run_live(ex)
    assert [(r.scenario, r.status) for r in results] == [
        ("web-sql-injection", 200),
        ("web-path-traversal", 404),
    ]
    assert _Lab.seen == ["/products.php?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--",
                         "/download.php?file=../../../../etc/passwd"]  # fmt: skip


def test_unlisted_target_is_refused_before_anything_is_sent(
    exercise_file: ExerciseFactory, lab: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ex = exercise_file(scenarios=["web-sql-injection", "mfa-fatigue"], live={"targets": {"intranet": lab}})
    with pytest.raises(LiveRefused, match=r"live target 'web' is not listed under live\.targets"):
        check_targets(load_exercise(ex), load_exercise(ex).scenarios)
    assert main(["drill", "run", str(ex), "-o", str(tmp_path / "out"), "--live"]) == 2
    assert "live target 'web' is not listed" in capsys.readouterr().err
    assert _Lab.seen == [] and not (tmp_path / "out").exists()


def test_live_needs_targets_and_a_url(exercise_file: ExerciseFactory, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    ex = exercise_file(scenarios=["web-sql-injection"])
    assert main(["drill", "run", str(ex), "-o", str(tmp_path / "out"), "--live"]) == 2
    assert "lists no live.targets" in capsys.readouterr().err
    bad = load_exercise(
        exercise_file(scenarios=["web-sql-injection"], live={"targets": {"web": "ftp://127.0.0.1/"}})
    )
    with pytest.raises(LiveRefused, match="is not an http"):
        run_live(bad)


def test_cli_live_run_reports_each_probe(exercise_file: ExerciseFactory, lab: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    ex = exercise_file(scenarios=["web-sql-injection"], detectors=["sigma"], live={"targets": {"web": lab}})
    assert main(["drill", "run", str(ex), "-o", str(tmp_path / "out"), "--live"]) == 0
    assert f"live web-sql-injection {lab}/products.php" in capsys.readouterr().err
    assert len(_Lab.seen) == 1
    import json

    (sent,) = json.loads((tmp_path / "out" / "report.json").read_text())["live"]
    assert (sent["scenario"], sent["target"], sent["status"], sent["error"]) == (
        "web-sql-injection",
        "web",
        200,
        "",
    )
