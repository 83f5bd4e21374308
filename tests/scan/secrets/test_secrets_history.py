"""Git history scanning: --git-history, --since, --staged, on real repositories built in tmp_path."""

from __future__ import annotations

import json
import os
import random
import shlex
import string
import subprocess
import time
import zlib
from pathlib import Path

import pytest
import yaml

from bastion.ci.hook import main as hook_main
from bastion.cli.main import main
from bastion.errors import InputError
from bastion.findings import Finding
from bastion.results import ScanResult
from bastion.scan.base import HistoryMode, HistorySpec, NoticeKind, ScanContext, ScanTarget
from bastion.scan.engine import Concurrency, EngineOptions, run_scan
from bastion.scan.registry import Registration
from bastion.scan.secrets import SecretsScanner
from bastion.scan.secrets.history import _path, _unquote

SECRETS = Registration("secrets", "bastion.scan.secrets:SecretsScanner")
RSA_KEY = Path(__file__).parents[2] / "fixtures" / "secrets" / "corpus" / "deploy" / "id_rsa"
RNG = random.Random(11)
ALL = HistorySpec(HistoryMode.ALL)
BUDGET_S = 60.0
"""10,000 commits take a few seconds; the bound tolerates coverage and a busy shared CI box."""


def _token() -> str:
    """A GitHub classic token with a valid checksum."""
    from bastion.scan.secrets.validators import base62

    body = "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(30))
    return "ghp_" + body + base62(zlib.crc32(body.encode())).rjust(6, "0")


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user or system git config, fixed identities, so commits are reproducible."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Dev")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "dev@example.test")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str, date: str | None = None) -> str:
    """Run git in ``repo``; ``date`` sets the author and committer dates."""
    env = dict(os.environ)
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=True)
    return done.stdout.decode().strip()


def init(repo: Path) -> Path:
    """An empty repository on branch main."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    return repo


def commit(
    repo: Path, files: dict[str, str | bytes | None], message: str, date: str = "2024-01-01T10:00:00+00:00"
) -> str:
    """Write (or delete, for None) ``files``, commit them all, return the commit id."""
    for name, content in files.items():
        path = repo / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD")


def scan(root: Path, spec: HistorySpec | None = ALL) -> ScanResult:
    """Run the secrets scanner through the engine over ``root`` with ``spec``."""
    return run_scan(root, [SECRETS], EngineOptions(jobs=1, history=spec))


def github(findings: list[Finding]) -> list[Finding]:
    """The GitHub token findings, in report order."""
    return [f for f in findings if f.rule_id == "secrets.github-pat-classic"]


def test_secret_added_then_removed_is_found_with_commit_date_and_path(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    token = _token()
    commit(repo, {"README.md": "# demo\n"}, "first")
    added = commit(
        repo,
        {"src/app.py": f'import os\n\nx = 1\nTOKEN = "{token}"\n'},
        "add app",
        "2024-02-03T04:05:06+00:00",
    )
    commit(repo, {"src/app.py": 'import os\n\nx = 1\nTOKEN = os.environ["TOKEN"]\n'}, "use env")
    assert token not in (repo / "src/app.py").read_text()
    result = scan(repo)
    assert not result.failures, result.failures
    (finding,) = github(result.findings)
    assert finding.location.path == "src/app.py"
    assert finding.location.start_line == 4 and finding.location.end_line == 4
    assert finding.location.start_column == 10
    assert finding.location.commit == added and len(added) == 40
    assert finding.metadata["author_date"] == "2024-02-03T04:05:06+00:00"
    assert finding.metadata["commit"] == added
    assert added[:12] in finding.message
    assert token not in json.dumps(finding.to_dict())
    assert finding.evidence == "ghp_\u2026(40 chars)"


def test_fingerprint_matches_the_working_tree_finding(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, {"cfg.py": f'T = "{_token()}"\n'}, "add")
    (in_history,) = github(scan(repo).findings)
    (in_tree,) = github(scan(repo, None).findings)
    assert in_history.fingerprint == in_tree.fingerprint
    assert in_tree.location.commit is None


def test_same_secret_in_three_commits_is_reported_once_at_the_first(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    token = _token()
    first = commit(repo, {"a.py": f'T = "{token}"\n'}, "add", "2024-01-01T00:00:00+00:00")
    commit(repo, {"a.py": "T = None\n"}, "remove", "2024-01-02T00:00:00+00:00")
    commit(repo, {"a.py": f'# again\nT = "{token}"\n'}, "re-add", "2024-01-03T00:00:00+00:00")
    commit(repo, {"a.py": f'# again\n\nT = "{token}"\n'}, "move", "2024-01-04T00:00:00+00:00")
    (finding,) = github(scan(repo).findings)
    assert finding.location.commit == first
    assert finding.location.start_line == 1


def test_secret_on_a_side_branch_and_in_an_evil_merge(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    side_token, merge_token = _token(), _token()
    commit(repo, {"a.txt": "a\nb\n"}, "base")
    git(repo, "checkout", "-q", "-b", "side")
    side = commit(repo, {"side.py": f'T = "{side_token}"\n'}, "side secret")
    git(repo, "checkout", "-q", "main")
    commit(repo, {"a.txt": "a\nb\nmain\n"}, "main work")
    git(repo, "merge", "-q", "--no-commit", "side")
    (repo / "a.txt").write_text(f'a\nb\nmain\nT = "{merge_token}"\n')
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "merge")
    merge = git(repo, "rev-parse", "HEAD")
    found = {f.location.path: f for f in github(scan(repo).findings)}
    assert set(found) == {"side.py", "a.txt"}
    assert found["side.py"].location.commit == side
    assert found["a.txt"].location.commit == merge and found["a.txt"].location.start_line == 4


def test_all_refs_are_scanned_not_only_head(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, {"a.txt": "a\n"}, "base")
    git(repo, "checkout", "-q", "-b", "wip")
    commit(repo, {"wip.py": f'T = "{_token()}"\n'}, "wip")
    git(repo, "checkout", "-q", "main")
    git(repo, "tag", "-a", "v1", "-m", "release")
    assert [f.location.path for f in github(scan(repo).findings)] == ["wip.py"]


def test_since_limits_to_later_commits_and_rejects_unknown_revisions(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, {"old.py": f'T = "{_token()}"\n'}, "old")
    base = commit(repo, {"README.md": "x\n"}, "base")
    later = commit(repo, {"new.py": f'T = "{_token()}"\n'}, "new")
    (finding,) = github(scan(repo, HistorySpec(HistoryMode.SINCE, base)).findings)
    assert finding.location.path == "new.py" and finding.location.commit == later
    assert github(scan(repo, HistorySpec(HistoryMode.SINCE, "HEAD")).findings) == []
    result = scan(repo, HistorySpec(HistoryMode.SINCE, "no-such-branch"))
    assert result.failures and "--since: unknown revision 'no-such-branch'" in result.failures[0].error
    assert str(repo) in result.failures[0].error
    option_like = scan(repo, HistorySpec(HistoryMode.SINCE, "--output=/tmp/x"))
    assert option_like.failures and "unknown revision" in option_like.failures[0].error


def test_staged_finds_only_staged_additions(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    committed, staged, unstaged = _token(), _token(), _token()
    commit(repo, {"old.py": f'T = "{committed}"\nx = 1\n'}, "old")
    (repo / "old.py").write_text(f'T = "{committed}"\nx = 1\nS = "{staged}"\n')
    git(repo, "add", "old.py")
    (repo / "loose.py").write_text(f'U = "{unstaged}"\n')
    result = scan(repo, HistorySpec(HistoryMode.STAGED))
    assert not result.failures
    (finding,) = github(result.findings)
    assert finding.location.path == "old.py" and finding.location.start_line == 3
    assert finding.location.commit is None and finding.metadata["staged"] is True
    assert finding.evidence == "ghp_\u2026(40 chars)"


def test_staged_in_a_fresh_repository_and_from_a_subdirectory(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "a.py").write_text(f'T = "{_token()}"\n')
    (repo / "top.py").write_text(f'T = "{_token()}"\n')
    git(repo, "add", ".")
    staged = github(scan(repo, HistorySpec(HistoryMode.STAGED)).findings)
    assert sorted(str(f.location.path) for f in staged) == ["pkg/a.py", "top.py"]
    sub = github(scan(repo / "pkg", HistorySpec(HistoryMode.STAGED)).findings)
    assert [f.location.path for f in sub] == ["a.py"]


def test_subdirectory_root_limits_history_and_paths(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, {"pkg/a.py": f'T = "{_token()}"\n', "other/b.py": f'T = "{_token()}"\n'}, "two")
    assert [f.location.path for f in github(scan(repo / "pkg").findings)] == ["a.py"]


def test_non_git_directory_is_a_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text("x = 1\n")
    context = ScanContext("secrets")
    with pytest.raises(InputError, match=r"^--git-history: .*plain is not a git repository$"):
        list(SecretsScanner().scan(ScanTarget(plain, (), ALL), context))
    staged = scan(plain, HistorySpec(HistoryMode.STAGED))
    assert [f.error for f in staged.failures] == [f"--staged: {plain} is not a git repository"]


def test_missing_git_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = init(tmp_path / "repo")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(InputError, match="git is not installed"):
        list(SecretsScanner().scan(ScanTarget(repo, (), ALL), ScanContext("secrets")))


def test_shallow_clone_is_scanned_with_a_notice(tmp_path: Path) -> None:
    origin = init(tmp_path / "origin")
    commit(origin, {"gone.py": f'T = "{_token()}"\n'}, "old secret")
    commit(origin, {"gone.py": None}, "removed")
    commit(origin, {"kept.py": f'T = "{_token()}"\n'}, "current secret")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], check=True)
    result = scan(clone)
    assert not result.failures
    assert [f.location.path for f in github(result.findings)] == ["kept.py"]
    (notice,) = [n for n in result.notices if n.kind is NoticeKind.SCANNER]
    assert "shallow clone" in notice.message and "--unshallow" in notice.message


def test_binary_files_are_skipped_and_non_utf8_is_scanned(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    token = _token()
    blob = bytes(range(256)) * 50 + f'T = "{_token()}"'.encode() + b"\x00" * 10
    commit(repo, {"img.bin": blob}, "binary")
    latin = f'# caf\xe9\nT = "{token}"\n'.encode("latin-1")
    sha = commit(repo, {"legacy.cfg": latin}, "latin-1")
    result = scan(repo)
    assert not result.failures
    (finding,) = github(result.findings)
    assert finding.location.path == "legacy.cfg" and finding.location.commit == sha
    assert finding.location.start_line == 2
    kinds = {(n.kind, n.path) for n in result.notices}
    assert (NoticeKind.BINARY, "img.bin") in kinds
    assert (NoticeKind.ENCODING, "legacy.cfg") in kinds


def test_large_blob_is_skipped(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    big = "x = 1\n" * 900_000 + f'T = "{_token()}"\n'
    commit(repo, {"big.py": big}, "big")
    result = scan(repo)
    assert github(result.findings) == []
    assert any(n.path == "big.py" and "5 MB" in n.message for n in result.notices)


def test_rename_keeps_the_original_report_and_catches_edits(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    body = "".join(f"line_{i} = {i}\n" for i in range(20))
    original = commit(repo, {"old name.py": body + f'T = "{_token()}"\n'}, "add")
    git(repo, "mv", "old name.py", "new \u00e9\tname.py")
    renamed = commit(repo, {"new \u00e9\tname.py": body + f'T = "{_token()}"\nU = "{_token()}"\n'}, "rename")
    found = sorted(
        (f.location.path, f.location.commit, f.location.start_line) for f in github(scan(repo).findings)
    )
    assert found == [
        ("new \u00e9\tname.py", renamed, 21),
        ("new \u00e9\tname.py", renamed, 22),
        ("old name.py", original, 21),
    ]


def test_pem_key_added_in_one_commit_is_one_multiline_finding(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    key = RSA_KEY.read_text()
    commit(repo, {"deploy/notes.txt": "keys below\n"}, "notes")
    sha = commit(repo, {"deploy/notes.txt": "keys below\n\n" + key + "done\n"}, "add key")
    (finding,) = [f for f in scan(repo).findings if f.rule_id == "secrets.private-key-rsa"]
    assert finding.location.commit == sha
    assert finding.location.start_line == 3
    assert finding.location.end_line == 2 + len(key.splitlines())


def test_sharded_process_pool_reads_history_once(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    files: dict[str, str | bytes | None] = {f"m{i}.py": f"x = {i}\n" for i in range(450)}
    files["secret.py"] = f'T = "{_token()}"\n'
    commit(repo, files, "many files")
    result = run_scan(repo, [SECRETS], EngineOptions(concurrency=Concurrency.PROCESS, jobs=2, history=ALL))
    assert not result.failures
    assert [f.location.path for f in github(result.findings)] == ["secret.py"]


def test_quoted_paths_are_unquoted() -> None:
    assert _unquote(b'b/a\\tb\\"c\\\\d\\303\\251 \xc3\xa9') == b'b/a\tb"c\\d\xc3\xa9 \xc3\xa9'
    assert _path(b'"b/tab\\there"') == "tab\there"
    assert _path(b"/dev/null") is None


def _fast_import_stream(commits: int, secret_at: int, removed_at: int, token: str) -> bytes:
    """A fast-import stream of ``commits`` linear commits touching a rotating set of files."""
    out: list[bytes] = []
    for n in range(1, commits + 1):
        path = f"src/mod{n % 50}.py"
        body = f"# revision {n}\nVALUE_{n} = {n}\n"
        if n == secret_at:
            path, body = "config/settings.py", f'API = "{token}"\n'
        elif n == removed_at:
            path, body = "config/settings.py", 'API = os.environ["API"]\n'
        data = body.encode()
        message = f"commit {n}\n".encode()
        when = 1_700_000_000 + n * 60
        out.append(b"commit refs/heads/main\n")
        out.append(f"committer Dev <dev@example.test> {when} +0000\n".encode())
        out.append(b"data %d\n%s" % (len(message), message))
        out.append(f"M 100644 inline {path}\n".encode())
        out.append(b"data %d\n%s\n" % (len(data), data))
    return b"".join(out)


@pytest.mark.slow
def test_ten_thousand_commits_in_bounded_time(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    token = _token()
    stream = _fast_import_stream(10_000, secret_at=4_321, removed_at=7_000, token=token)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream, check=True)
    assert git(repo, "rev-list", "--count", "--all") == "10000"
    started = time.perf_counter()
    result = scan(repo)
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_S, elapsed
    assert not result.failures
    (finding,) = github(result.findings)
    expected = git(repo, "rev-list", "--all", "--grep", "^commit 4321$")
    assert finding.location.commit == expected and finding.location.path == "config/settings.py"


def test_cli_end_to_end_never_prints_the_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = init(tmp_path / "repo")
    token = _token()
    sha = commit(repo, {"app.py": f'TOKEN = "{token}"\n'}, "oops")
    commit(repo, {"app.py": "TOKEN = None\n"}, "fix")
    code = main(["scan", str(repo), "--scanners", "secrets", "--git-history", "-f", "json"])
    captured = capsys.readouterr()
    assert token not in captured.out + captured.err
    report = json.loads(captured.out)
    assert code == 1
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "secrets.github-pat-classic"]
    assert finding["location"]["commit"] == sha and finding["location"]["path"] == "app.py"
    assert main(["scan", str(repo), "--scanners", "secrets", "--staged", "-f", "json"]) == 0
    assert token not in capsys.readouterr().out


def test_cli_reports_a_non_git_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    code = main(["scan", str(plain), "--scanners", "secrets", "--git-history", "-f", "json"])
    assert code == 2
    assert f"--git-history: {plain} is not a git repository" in capsys.readouterr().err


def test_pre_commit_hook_entry_blocks_a_staged_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hooks = yaml.safe_load((Path(__file__).parents[3] / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "bastion-secrets"]
    assert hook["pass_filenames"] is False and hook["stages"] == ["pre-commit"]
    program, *args = shlex.split(hook["entry"])
    assert program in {"bastion", "bastion-hook"} and args[0] == "scan" and "--staged" in args
    repo = init(tmp_path / "repo")
    commit(repo, {"a.py": "x = 1\n"}, "base")
    (repo / "a.py").write_text(f'x = 1\nT = "{_token()}"\n')
    run = {"bastion": main, "bastion-hook": hook_main}[program]
    assert run([*args, str(repo)]) == 0  # not staged yet: nothing to block
    git(repo, "add", "a.py")
    assert run([*args, str(repo)]) == 1
    assert "a.py" in capsys.readouterr().out


def test_git_errors_are_input_errors_naming_the_directory(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, {"a.py": f'T = "{_token()}"\n'}, "add")
    with pytest.raises(InputError, match=r"^--git-history: .*\.git is not inside a git work tree$"):
        list(SecretsScanner().scan(ScanTarget(repo / ".git", (), ALL), ScanContext("secrets")))
    blob = git(repo, "rev-parse", "HEAD:a.py")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with pytest.raises(InputError, match=rf"^--git-history: git failed reading the history of {repo}: "):
        list(SecretsScanner().scan(ScanTarget(repo, (), ALL), ScanContext("secrets")))


def test_stopping_early_ends_git(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    for n in range(3):
        commit(repo, {f"f{n}.py": f'T = "{_token()}"\n' + "x = 1\n" * 20_000}, f"c{n}")
    findings = SecretsScanner().scan(ScanTarget(repo, (), ALL), ScanContext("secrets"))
    assert next(iter(findings)).location.path == "f0.py"
    findings.close()


def test_paired_aws_keys_report_file_line_numbers(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, {"credentials.ini": "a = 1\nb = 2\n[default]\n"}, "base")
    pair = (
        "aws_access_key_id = AKIAQ3EGRUPZZ5RGBT6P\n"
        "aws_secret_access_key = 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\n"
    )
    commit(repo, {"credentials.ini": "a = 1\nb = 2\n[default]\n" + pair}, "keys")
    found = {f.rule_id: f for f in scan(repo).findings}
    key_id = found["secrets.aws-access-key-id"]
    assert key_id.location.start_line == 4 and key_id.metadata["paired_line"] == 5
    assert found["secrets.aws-secret-access-key"].location.start_line == 5
