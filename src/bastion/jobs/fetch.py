"""Fetch a repository to scan into a worker's cache, treating it as hostile.

* ``git clone``/``fetch`` with a depth, a wall-clock timeout (the whole process group is killed)
  and a size cap: no file git writes may exceed it (``RLIMIT_FSIZE``) and the checkout as a whole
  is measured after;
* no code from the repository runs: an empty template directory and ``core.hooksPath`` pointing
  nowhere (no hook runs), no system or global git config, no submodules, no LFS smudge filter,
  only the ``file``, ``https``, ``http``, ``ssh`` and ``git`` transports (no ``ext::``); the
  checkout's own ``.git/config`` is the one git wrote, never the repository's;
* symbolic links that point out of the checkout are removed before the scan and reported.

A local directory that is not a git repository is scanned where it is (it is the operator's).

Private repositories over HTTPS: the token is read from ``BASTION_GIT_TOKEN_<HOST>`` (the host
upper-cased, every other character an underscore: ``BASTION_GIT_TOKEN_GITHUB_COM``) and handed to
git as an ``Authorization`` header scoped to that host, through git's environment configuration:
never in the URL, the command line, the clone's ``.git/config`` or a message. Over SSH, the
operator's keys authenticate as usual.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bastion.errors import InputError

__all__ = ["TOKEN_ENV_PREFIX", "FetchError", "FetchLimits", "Fetched", "display_url", "fetch", "token_config"]

_PROTOCOLS = "file:https:http:ssh:git"
# bastion: ignore[sast.bandit.B105] the prefix of an environment variable's name, not a secret
TOKEN_ENV_PREFIX = "BASTION_GIT_TOKEN_"
# bastion: ignore[sast.bandit.B105] the user name sent beside a token, public by design
TOKEN_USER = "x-access-token"
"""The user name sent with a token (GitHub, Gitea and GitLab accept a token with any user name)."""


class FetchError(InputError):
    """The repository could not be fetched within the limits; the message says why.

    ``transient``: git itself failed (a network error, a server away), so another attempt may
    succeed; a missing path, a timeout or the size cap is final."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class FetchLimits:
    """How much a fetch may take."""

    depth: int = 1
    timeout_s: float = 300.0
    max_bytes: int = 500_000_000


@dataclass(frozen=True)
class Fetched:
    """A checkout ready to scan."""

    path: Path
    notes: list[str] = field(default_factory=list)
    """What was refused on the way (symbolic links out of the checkout, removed)."""


def _cache_dir(cache: Path, url: str) -> Path:
    return cache / hashlib.sha256(url.encode()).hexdigest()[:24]


def display_url(url: str) -> str:
    """``url`` as messages may show it: a ``user:secret@`` part, or any user part of an HTTP URL
    (a token can be the user name), replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or "@" not in authority:
        return url
    userinfo, _, host = authority.rpartition("@")
    if ":" in userinfo or scheme.lower().startswith("http"):
        return f"{scheme}://***@{host}{slash}{path}"
    return url


def token_config(url: str, environ: Mapping[str, str]) -> dict[str, str]:
    """git environment configuration sending the host's token (``BASTION_GIT_TOKEN_<HOST>``) as
    an ``Authorization`` header to that host only; empty for other URLs or without a token."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return {}
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return {}
    token = environ.get(TOKEN_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", host.upper()), "")
    if not token:
        return {}
    basic = base64.b64encode(f"{TOKEN_USER}:{token}".encode()).decode()
    base = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/"
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{base}.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


def _git_env(home: Path, url: str = "") -> dict[str, str]:
    return {
        **token_config(url, os.environ),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": _PROTOCOLS,
        "GIT_LFS_SKIP_SMUDGE": "1",
        "GIT_ASKPASS": "true",
        "SSH_ASKPASS": "true",
        "LC_ALL": "C",
    }


_SAFE = ("-c", "core.hooksPath=" + os.devnull, "-c", "core.fsmonitor=false", "-c", "protocol.ext.allow=never")


def _git(args: list[str], cwd: Path, limits: FetchLimits, url: str) -> None:
    def limit() -> None:  # in the child, before exec: no file larger than the cap
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_bytes, limits.max_bytes))

    what = display_url(url)
    try:
        # bastion: ignore[sast.bandit.B603] fixed argv, no shell; a URL is one argument after --
        process = subprocess.Popen(
            ["git", *_SAFE, *args],
            cwd=cwd,
            env=_git_env(cwd, url),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=limit,
            start_new_session=True,
        )
    except OSError as exc:
        raise FetchError(f"{what}: cannot run git: {exc.strerror or exc}") from None
    try:
        _, stderr = process.communicate(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()  # reaps it and closes its stderr pipe
        raise FetchError(f"{what}: timed out after {limits.timeout_s:g} s") from None
    if process.returncode == -signal.SIGXFSZ or b"File size limit" in stderr:
        raise FetchError(f"{what}: larger than the size limit of {limits.max_bytes} bytes")
    if process.returncode != 0 and b"invalid index-pack output" in stderr:
        # index-pack, git's pack writer, is the process RLIMIT_FSIZE stops (SIGXFSZ)
        raise FetchError(f"{what}: pack larger than the size limit of {limits.max_bytes} bytes (or broken)")
    if process.returncode != 0:
        last = stderr.decode(errors="replace").strip().splitlines()
        fatal = [line for line in last if line.startswith(("fatal:", "error:"))]
        detail = (fatal or last or [f"exit {process.returncode}"])[0]
        raise FetchError(f"{what}: git failed: {detail}", transient=True)


def _size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
    return total


def _remove_symlinks_out(root: Path) -> list[str]:
    notes: list[str] = []
    real_root = root.resolve()
    for dirpath, dirs, files in os.walk(root):
        if ".git" in dirs and Path(dirpath) == root:
            dirs.remove(".git")
        for name in [*dirs, *files]:
            path = Path(dirpath, name)
            if not path.is_symlink():
                continue
            target = path.resolve()
            if target != real_root and real_root not in target.parents:
                path.unlink()
                notes.append(f"{path.relative_to(root)}: symbolic link out of the repository removed")
    return notes


_TRANSPORT = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")


def _is_remote(url: str) -> bool:
    """A URL, scp-like address or ``transport::address`` (git refuses transports not allowed)."""
    return "://" in url or (url.startswith("git@") and ":" in url) or _TRANSPORT.match(url) is not None


def fetch(url: str, cache: Path, limits: FetchLimits) -> Fetched:
    """Clone ``url`` (or fetch it again, when the cache has it) into ``cache`` and return the
    checkout; :class:`FetchError` when it cannot be fetched, is too big or too slow."""
    if not _is_remote(url):
        local = Path(url)
        if not local.exists():
            raise FetchError(f"{display_url(url)}: no such repository or directory")
        if not (local / ".git").exists():
            return Fetched(local)
        url = local.resolve().as_uri()
    cache.mkdir(parents=True, exist_ok=True)
    dest = _cache_dir(cache, url)
    depth = f"--depth={max(1, limits.depth)}"
    if (dest / ".git").is_dir():
        _git(["fetch", "--no-tags", "--no-recurse-submodules", depth, "origin", "HEAD"], dest, limits, url)
        _git(["reset", "--hard", "--quiet", "FETCH_HEAD"], dest, limits, url)
        _git(["clean", "-ffdxq"], dest, limits, url)
    else:
        try:
            _git(
                ["clone", "--quiet", "--template=", "--no-tags", "--single-branch", "--no-recurse-submodules",
                 depth, "--", url, dest.name],
                cache, limits, url,
            )  # fmt: skip
        except FetchError:
            shutil.rmtree(dest, ignore_errors=True)  # a half clone is no cache
            raise
    size = _size(dest)
    if size > limits.max_bytes:
        raise FetchError(
            f"{display_url(url)}: {size} bytes checked out, over the size limit of {limits.max_bytes}"
        )
    return Fetched(dest, _remove_symlinks_out(dest))
