"""Secrets in git history: every commit (``--git-history``), a range (``--since``), the index (``--staged``).

Git does the heavy lifting and this module reads one streamed patch: ``git log --all -p
-U0`` oldest commit first, or ``git diff --cached -U0``. Only added lines matter: each
file's added lines in one commit are joined into a block that the detector scans like a
file (so a PEM key added over 30 lines is one secret), and the hunk headers map the
block's lines back to line numbers in that commit's version of the file.

A secret is reported once, at the commit that first added it (parents before children),
with the commit id and author date. Its fingerprint is the working tree's (rule, path,
secret hash, no commit), so baselines hold whether a secret was found in the tree or in
history. Merges are read as dense combined diffs, so a line that no parent had (an "evil
merge") is scanned and lines a merge brings from a branch are not scanned twice.

Git runs with a fixed argv and no shell, never prompts, never writes (no optional locks),
and ignores what a scanned repository could make it run: external diff drivers, textconv
filters, fsmonitor hooks, signature checks. Blobs over 5 MB are treated as binary by git
itself (``core.bigFileThreshold``) and skipped like binary files.
"""

from __future__ import annotations

import os
import re
import subprocess  # bastion: ignore[sast.bandit.B404] runs git with a fixed argv and no shell
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from bastion.errors import InputError
from bastion.findings import Finding
from bastion.scan.base import HistoryMode, HistorySpec, NoticeKind, ScanContext
from bastion.scan.secrets.detect import Detector, Hit

__all__ = ["MAX_BLOB_SIZE", "ToFinding", "scan_history"]

ToFinding = Callable[[Hit, str], Finding]
"""Builds the redacted finding for a hit in a file (``scanner.to_finding``)."""

MAX_BLOB_SIZE = 5_000_000
"""Files over this size in a commit are skipped, like the working-tree walk's limit."""
_SAFE_CONFIG = (
    "core.quotepath=off",
    f"core.bigFileThreshold={MAX_BLOB_SIZE}",
    "core.fsmonitor=false",
    "log.showSignature=false",
    "log.showRoot=true",
    "diff.noprefix=false",
    "color.ui=false",
)
_DIFF_FLAGS = (
    "-p", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames",
    "--src-prefix=a/", "--dst-prefix=b/",
)  # fmt: skip
_COMMIT = b"\x00"
"""Commit header lines start with NUL, which no patch line does."""
_HUNK = re.compile(rb"^(@@+) (?:-\d+(?:,\d+)? )+\+(\d+)")
_ESCAPES = {ord(k): ord(v) for k, v in zip('abtnvfr"\\', '\a\b\t\n\v\f\r"\\', strict=True)}
_FLAGS = {HistoryMode.ALL: "--git-history", HistoryMode.SINCE: "--since", HistoryMode.STAGED: "--staged"}


@dataclass(frozen=True)
class _Repo:
    root: Path
    prefix: str
    """The scan root relative to the work tree's top (``""`` at the top, else ``sub/dir/``)."""
    shallow: bool


@dataclass
class _Block:
    """The added lines of one file in one commit."""

    path: str
    lines: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    size: int = 0
    bad_encoding: bool = False


@dataclass
class _Commit:
    sha: str | None = None
    date: str | None = None


def scan_history(
    spec: HistorySpec, root: Path, detector: Detector, context: ScanContext, to_finding: ToFinding
) -> Iterator[Finding]:
    """Yield one redacted finding per secret added in the history ``spec`` selects under ``root``.

    ``to_finding(hit, path)`` turns a detector hit into the scanner's redacted finding; this
    module adds the commit, the author date and the line numbers of the file in that commit.

    Raises :class:`~bastion.errors.InputError`, one line naming ``root``, when git is
    missing, ``root`` is not in a git work tree, or ``--since`` names an unknown revision.
    A shallow clone is scanned as far as it goes, with a notice that history is incomplete.
    """
    flag = _FLAGS[spec.mode]
    repo = _open_repo(root, flag)
    if repo.shallow and spec.mode is not HistoryMode.STAGED:
        context.notice(
            NoticeKind.SCANNER,
            f"{root} is a shallow clone: history is incomplete, commits before its shallow boundary "
            "were not scanned (fetch with --unshallow to scan them)",
        )
    scope = ("--relative", "--full-history", "--", ".") if repo.prefix else ()
    if spec.mode is HistoryMode.STAGED:
        argv = ["diff", "--cached", *_DIFF_FLAGS, *scope]
    else:
        if spec.mode is HistoryMode.SINCE:
            revs = [f"{_resolve(repo, spec.since or '', flag)}..HEAD"]
        else:
            revs = ["--all"]
        header = "--format=%x00%H%x1f%aI"
        argv = ["log", *revs, "--reverse", "--topo-order", "--cc", header, *_DIFF_FLAGS, *scope]
    yield from _scan_patch(repo, argv, flag, detector, context, to_finding)


def _scan_patch(
    repo: _Repo, argv: list[str], flag: str, detector: Detector, context: ScanContext, to_finding: ToFinding
) -> Iterator[Finding]:
    """Read the patch git streams line by line and scan each file's added lines per commit.

    States: a NUL line starts a commit, ``diff`` a file, ``+++`` names it, ``@@`` (``@@@``
    for a merge's combined diff, one column per parent) starts a hunk whose new-file
    line numbers follow. A line is added in this commit when every column reads ``+``.
    """
    reported: set[str] = set()
    noted: set[tuple[NoticeKind, str]] = set()
    commit = _Commit()

    def flush(block: _Block | None) -> Iterator[Finding]:
        if block is None or not block.lines:
            return
        if block.bad_encoding and (NoticeKind.ENCODING, block.path) not in noted:
            noted.add((NoticeKind.ENCODING, block.path))
            where = f" in commit {commit.sha}" if commit.sha else ""
            context.notice(
                NoticeKind.ENCODING,
                f"not valid UTF-8{where}; scanned with replacement characters",
                block.path,
            )
        for hit in detector.detect("\n".join(block.lines), block.path):
            finding = to_finding(hit, block.path)
            if finding.fingerprint in reported:
                continue
            reported.add(finding.fingerprint)
            yield _in_commit(finding, block, hit.line, hit.end_line, commit)

    def skip(path: str, kind: NoticeKind, why: str) -> None:
        if (kind, path) not in noted:
            noted.add((kind, path))
            where = f"in commit {commit.sha}" if commit.sha else "in the index"
            context.notice(kind, f"{why} {where}, skipped", path)

    block: _Block | None = None
    in_hunk = False
    parents = 1
    line_no = 0
    with _git_stream(repo, argv, flag) as stream:
        for raw in stream:
            first = raw[:1]
            if in_hunk and first and first in b"+- ":
                prefix = raw[:parents]
                if b"-" in prefix:
                    continue
                if block is not None and prefix.count(b"+") == parents:
                    _add_line(block, raw[parents:].rstrip(b"\n"), line_no)
                    if block.size > MAX_BLOB_SIZE:
                        skip(block.path, NoticeKind.TOO_LARGE, f"added lines over {MAX_BLOB_SIZE} bytes")
                        block = None
                line_no += 1
            elif first == b"@":
                match = _HUNK.match(raw)
                in_hunk = match is not None
                if match is not None:
                    parents = len(match.group(1)) - 1
                    line_no = int(match.group(2))
            elif first == _COMMIT:
                yield from flush(block)
                block, in_hunk = None, False
                sha, _, date = raw[1:].decode("utf-8", "replace").rstrip("\n").partition("\x1f")
                commit.sha, commit.date = sha, date
            elif raw.startswith(b"diff "):
                yield from flush(block)
                block, in_hunk = None, False
            elif raw.startswith(b"+++ "):
                name = _path(raw[4:].rstrip(b"\n"))
                block = _Block(name) if name is not None else None
            elif raw.startswith(b"Binary files "):
                path = raw.rstrip(b"\n").rpartition(b" and ")[2].removesuffix(b" differ")
                name = _path(path)
                if name is not None:
                    skip(name, NoticeKind.BINARY, f"binary file or over {MAX_BLOB_SIZE // 1_000_000} MB")
        yield from flush(block)


def _add_line(block: _Block, data: bytes, number: int) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        block.bad_encoding = True
    block.lines.append(text)
    block.numbers.append(number)
    block.size += len(data) + 1


def _in_commit(finding: Finding, block: _Block, line: int, end_line: int, commit: _Commit) -> Finding:
    """Map a finding's block line numbers to the file's, and add the commit it came from."""
    location = replace(
        finding.location, start_line=_line(block, line), end_line=_line(block, end_line), commit=commit.sha
    )
    metadata = dict(finding.metadata)
    if isinstance(metadata.get("paired_line"), int):
        metadata["paired_line"] = _line(block, metadata["paired_line"])
    if commit.sha:
        metadata.update(commit=commit.sha, author_date=commit.date)
        message = f"{finding.message}; added in commit {commit.sha[:12]} ({commit.date})"
    else:
        metadata.update(staged=True)
        message = f"{finding.message}; staged for commit"
    return finding.with_changes(location=location, metadata=metadata, message=message)


def _line(block: _Block, number: int) -> int:
    """The file's line number for line ``number`` (1-based) of the joined block."""
    return block.numbers[min(max(number, 1), len(block.numbers)) - 1]


def _path(token: bytes) -> str | None:
    """The path of a ``b/path`` patch header token (C-quoted when odd); None for /dev/null."""
    token = token.removesuffix(b"\t")  # git ends a name that holds a space with a tab
    if len(token) >= 2 and token.startswith(b'"') and token.endswith(b'"'):
        token = _unquote(token[1:-1])
    if not token.startswith(b"b/"):
        return None
    return token[2:].decode("utf-8", "replace")


def _unquote(data: bytes) -> bytes:
    """Undo git's C-style quoting of a path: ``\\t``, ``\\"``, ``\\303\\251``."""
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == 0x5C and i + 1 < len(data):
            digits = data[i + 1 : i + 4]
            if len(digits) == 3 and all(0x30 <= d <= 0x37 for d in digits):
                out.append(int(digits, 8) & 0xFF)
                i += 4
            else:
                out.append(_ESCAPES.get(data[i + 1], data[i + 1]))
                i += 2
            continue
        out.append(data[i])
        i += 1
    return bytes(out)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", GIT_NO_LAZY_FETCH="1", GIT_PAGER="cat", LC_ALL="C"
    )
    return env


def _argv(args: list[str]) -> list[str]:
    config = [item for pair in _SAFE_CONFIG for item in ("-c", pair)]
    return ["git", "--no-pager", *config, *args]


def _run(root: Path, args: list[str], flag: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(  # bastion: ignore[sast.bandit.B603] git with Bastion-built arguments
            _argv(args), cwd=root, env=_env(), capture_output=True, check=False
        )
    except FileNotFoundError:
        raise InputError(
            f"{flag}: git is not installed; it is needed to read the history of {root}"
        ) from None
    except OSError as exc:
        raise InputError(f"{flag}: cannot run git in {root}: {exc.strerror or exc}") from None


def _git_error(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (fatal or lines or ["git failed"])[0].removeprefix("fatal: ").removeprefix("error: ")


def _open_repo(root: Path, flag: str) -> _Repo:
    args = ["rev-parse", "--is-inside-work-tree", "--show-prefix", "--is-shallow-repository"]
    done = _run(root, args, flag)
    if done.returncode != 0:
        reason = _git_error(done.stderr)
        if "not a git repository" in reason:
            raise InputError(f"{flag}: {root} is not a git repository")
        raise InputError(f"{flag}: cannot read the git repository at {root}: {reason}")
    out = done.stdout.decode("utf-8", "replace").splitlines()
    if len(out) < 3 or out[0] != "true":
        raise InputError(f"{flag}: {root} is not inside a git work tree")
    return _Repo(root, out[1], out[2] == "true")


def _resolve(repo: _Repo, rev: str, flag: str) -> str:
    """The commit id ``rev`` names; :class:`InputError` when it names none."""
    done = _run(
        repo.root, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], flag
    )
    sha = done.stdout.decode("ascii", "replace").strip()
    if done.returncode != 0 or not sha:
        raise InputError(f"{flag}: unknown revision {rev!r} in the git repository at {repo.root}")
    return sha


@contextmanager
def _git_stream(repo: _Repo, args: list[str], flag: str) -> Iterator[IO[bytes]]:
    """Run git and stream its stdout; stderr goes to a temporary file so a chatty git never blocks.

    Raises :class:`InputError` when git exits with an error; git is killed when the reader
    stops early.
    """
    with tempfile.TemporaryFile() as stderr:
        try:
            proc = subprocess.Popen(  # bastion: ignore[sast.bandit.B603] git with Bastion-built arguments
                _argv(args), cwd=repo.root, env=_env(),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
            )  # fmt: skip
        except OSError as exc:
            raise InputError(f"{flag}: cannot run git in {repo.root}: {exc.strerror or exc}") from None
        with proc:
            if proc.stdout is None:  # cannot happen with stdout=PIPE; keeps the type checker honest
                raise InputError(f"{flag}: git produced no output stream in {repo.root}")
            finished = False
            try:
                yield proc.stdout
                finished = True
            finally:
                if not finished:
                    proc.kill()
        if proc.returncode != 0:
            stderr.seek(0)
            reason = _git_error(stderr.read(65_536))
            raise InputError(f"{flag}: git failed reading the history of {repo.root}: {reason}")
