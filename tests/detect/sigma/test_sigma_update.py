"""``bastion sigma update``: SigmaHQ-style release archives served from a loopback HTTP server, local
archives and directories; checksum, unsafe and broken archives; the swap is whole or not at all."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.sigma import update as update_mod
from bastion.detect.sigma.update import rule_digests, update_rules
from bastion.errors import InputError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sigma-update"
LSASS = "ffa6861c-4461-4f59-8a41-578c39f3f23e"
COMSVCS = "646ea171-dded-4578-8a4d-65e9822892e3"
SEVENZIP = "ec570e53-4c76-45a9-804d-dc3f355ff7a7"
DUMP = "rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\x.dmp full"
AT_CMD = "d2d642d7-b393-43fe-bae4-e81ed5915c4b"


def make_zip(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """A zip of ``folder`` under a top directory, as SigmaHQ's release zips are laid out."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, f"sigma/{path.relative_to(folder).as_posix()}")
        zf.writestr(
            "sigma/LICENSE.Detection.Rules.md", (FIXTURES / "LICENSE.Detection.Rules.md").read_bytes()
        )
        zf.writestr("sigma/images/logo.png", b"\x89PNG not kept")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


class _Server:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    try:
        yield srv
    finally:
        srv.close()


def test_update_from_url_reports_added_changed_removed_and_refused(
    server: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = make_zip(FIXTURES / "release-1"), make_zip(FIXTURES / "release-2")
    server.files["/r1/sigma_all_rules.zip"] = one
    server.files["/r2/sigma_all_rules.zip"] = two
    dest = tmp_path / "rules"
    digest = hashlib.sha256(one).hexdigest()
    args = [
        "sigma",
        "update",
        f"{server.url}/r1/sigma_all_rules.zip",
        "--dest",
        str(dest),
        "--sha256",
        digest,
    ]
    assert main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["loaded"] == 3 and doc["refused"] == [] and doc["sha256"] == digest
    assert (
        sorted(doc["added"]) == sorted([LSASS, COMSVCS, SEVENZIP])
        and not doc["changed"]
        and not doc["removed"]
    )
    assert (dest / "sigma" / "LICENSE.Detection.Rules.md").is_file()
    assert not list(dest.rglob("*.png")), "only rule files and licence texts are unpacked"
    assert main(["sigma", "update", f"{server.url}/r2/sigma_all_rules.zip", "--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert "3 rule(s) loaded from 4 file(s)" in out
    assert "2 added, 1 changed, 1 removed, 1 refused" in out
    refused = [line for line in out.splitlines() if line.startswith("refused")]
    assert (
        len(refused) == 1 and "broken_unknown_modifier.yml" in refused[0] and "nosuchmodifier" in refused[0]
    )
    assert str(dest) in refused[0], "refusals name the file where it is installed"
    digests = rule_digests(dest)
    assert set(digests) == {LSASS, COMSVCS, AT_CMD, "0d2a7a3e-6f1b-4c8e-9a55-5e1f2b3c4d5e"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging directory left behind"


def test_update_json_lists_each_change(
    server: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.files["/a.zip"] = make_zip(FIXTURES / "release-1")
    server.files["/b.zip"] = make_zip(FIXTURES / "release-2")
    dest = tmp_path / "rules"
    update_rules(f"{server.url}/a.zip", dest)
    assert main(["sigma", "update", f"{server.url}/b.zip", "--dest", str(dest), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["added"] == sorted([AT_CMD, "0d2a7a3e-6f1b-4c8e-9a55-5e1f2b3c4d5e"])
    assert doc["changed"] == [COMSVCS] and doc["removed"] == [SEVENZIP]
    assert [r["rule_id"] for r in doc["refused"]] == ["0d2a7a3e-6f1b-4c8e-9a55-5e1f2b3c4d5e"]


def _assert_untouched(dest: Path, before: dict[str, str]) -> None:
    assert rule_digests(dest) == before
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".")]


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    dest = tmp_path / "rules"
    update_rules(str(FIXTURES / "release-1"), dest)
    return dest, rule_digests(dest)


def test_wrong_checksum_installs_nothing(
    server: _Server, installed: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    dest, before = installed
    server.files["/r2.zip"] = make_zip(FIXTURES / "release-2")
    assert main(["sigma", "update", f"{server.url}/r2.zip", "--dest", str(dest), "--sha256", "0" * 64]) == 2
    err = capsys.readouterr().err
    assert "SHA-256 is" in err and "expected 000" in err and "Traceback" not in err
    _assert_untouched(dest, before)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"../evil.yml": b"title: x\n"}, "points outside the archive"),
        ({"/etc/evil.yml": b"title: x\n"}, "points outside the archive"),
    ],
)
def test_unsafe_zip_members_are_refused(
    tmp_path: Path, installed: tuple[Path, dict[str, str]], entries: dict[str, bytes], message: str
) -> None:
    dest, before = installed
    archive = tmp_path / "evil.zip"
    archive.write_bytes(make_zip(FIXTURES / "release-2", entries))
    with pytest.raises(InputError, match=message):
        update_rules(str(archive), dest)
    _assert_untouched(dest, before)
    assert not (tmp_path / "evil.yml").exists()


def test_zip_link_member_is_refused(tmp_path: Path, installed: tuple[Path, dict[str, str]]) -> None:
    dest, before = installed
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("sigma/rules/link.yml")
        info.external_attr = (0o120777 << 16) | 0
        zf.writestr(info, "/etc/passwd")
    archive = tmp_path / "link.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(InputError, match="is a link"):
        update_rules(str(archive), dest)
    _assert_untouched(dest, before)


def _tar(path: Path, folder: Path, link: bool = False) -> None:
    with tarfile.open(path, "w:gz") as tf:
        tf.add(folder, arcname="sigma-r2")
        if link:
            info = tarfile.TarInfo("sigma-r2/rules/passwd.yml")
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tf.addfile(info)


def test_tar_gz_archive_and_directory_sources(tmp_path: Path, installed: tuple[Path, dict[str, str]]) -> None:
    dest, _ = installed
    archive = tmp_path / "sigma.tar.gz"
    _tar(archive, FIXTURES / "release-2")
    report = update_rules(str(archive), dest)
    assert report.loaded == 3 and report.changed == [COMSVCS] and report.removed == [SEVENZIP]
    assert report.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    again = update_rules(str(FIXTURES / "release-2"), dest)
    assert again.added == again.changed == again.removed == [] and again.sha256 == ""
    linked = tmp_path / "linked.tar.gz"
    _tar(linked, FIXTURES / "release-1", link=True)
    before = rule_digests(dest)
    with pytest.raises(InputError, match="is a link"):
        update_rules(str(linked), dest)
    _assert_untouched(dest, before)


def test_bad_sources_fail_in_one_line(
    server: _Server,
    tmp_path: Path,
    installed: tuple[Path, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    dest, before = installed
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 this is not really a zip")
    text = tmp_path / "notes.txt"
    text.write_text("hello\n", encoding="utf-8")
    broken_only = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken_only, "w") as zf:
        zf.writestr("rules/bad.yml", "title: [unclosed\n")
    cases = [
        (f"{server.url}/missing.zip", "HTTP 404"),
        ("http://127.0.0.1:9/none.zip", "download failed"),
        (str(garbage), "not a readable zip archive"),
        (str(text), "not a zip or tar.gz archive"),
        (str(tmp_path / "nowhere"), "no such archive, directory or URL"),
        (str(broken_only), "no Sigma rule could be loaded"),
    ]
    for source, message in cases:
        assert main(["sigma", "update", source, "--dest", str(dest)]) == 2, source
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (source, err)
        assert len(err.strip().splitlines()) == 1, err
    assert main(["sigma", "update", str(FIXTURES / "release-2"), "--dest", str(dest), "--sha256", "ab"]) == 2
    assert "checks an archive" in capsys.readouterr().err
    _assert_untouched(dest, before)
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="is not a directory"):
        update_rules(str(FIXTURES / "release-2"), afile)
    assert afile.read_text(encoding="utf-8") == "x"


def test_size_limits(
    server: _Server, installed: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    dest, before = installed
    data = make_zip(FIXTURES / "release-2")
    server.files["/big.zip"] = data
    monkeypatch.setattr(update_mod, "MAX_DOWNLOAD_BYTES", len(data) // 2)
    with pytest.raises(InputError, match="download larger than"):
        update_rules(f"{server.url}/big.zip", dest)
    monkeypatch.setattr(update_mod, "MAX_DOWNLOAD_BYTES", 10 * len(data))
    monkeypatch.setattr(update_mod, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(InputError, match="unpacks to more than"):
        update_rules(f"{server.url}/big.zip", dest)
    monkeypatch.setattr(update_mod, "MAX_MEMBERS", 2)
    with pytest.raises(InputError, match="more than 2 archive members"):
        update_rules(f"{server.url}/big.zip", dest)
    _assert_untouched(dest, before)


def test_run_without_rules_uses_the_updated_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "data" / "sigma-rules"
    monkeypatch.delenv("BASTION_SIGMA_RULES", raising=False)
    monkeypatch.setattr(update_mod, "default_update_dir", lambda: home)
    assert main(["sigma", "update", str(FIXTURES / "release-1")]) == 0
    assert home.is_dir()
    capsys.readouterr()
    log = tmp_path / "sysmon.jsonl"
    event = {
        "Event": {
            "System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": "ws1"},
            "EventData": {
                "Image": "C:\\Windows\\System32\\rundll32.exe",
                "CommandLine": DUMP,
            },
        }
    }
    log.write_text(json.dumps(event) + "\n", encoding="utf-8")
    assert main(["sigma", "run", str(log), "--format", "jsonl"]) == 1
    captured = capsys.readouterr()
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    assert COMSVCS in {a["rule_id"] for a in alerts}
    assert "installed by bastion sigma update" in captured.err and "against 3 rule(s)" in captured.err
