"""Where an npm lock entry comes from: a registry release, or git, a path, a tarball URL.

A version string in a lockfile is only a registry version when it is a semver version; the
spec shorthands npm, yarn and pnpm write for other sources (``github:user/repo#sha``,
``gitlab:``, ``bitbucket:``, ``user/repo``, ``file:``, a URL) are never versions. See
https://docs.npmjs.com/cli/v10/configuring-npm/package-json#dependencies for the forms.
"""

from __future__ import annotations

import re

__all__ = ["REGISTRY_PREFIXES", "is_semver", "source_kind", "source_reason", "split_alias"]

REGISTRY_PREFIXES = ("https://registry.npmjs.org/", "https://registry.yarnpkg.com/")
_GIT_PREFIXES = ("git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "gist:", "ssh://")
_LOCAL_PREFIXES = ("file:", "link:", "workspace:", "portal:", "patch:", "exec:")
# https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string (loosened:
# a leading "v" and "=" as npm accepts them in old lockfiles)
_SEMVER = re.compile(
    r"^[=v]?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_SHORTHAND = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(?:#.*)?$")


def is_semver(text: str) -> bool:
    """Whether ``text`` is an exact semver version (what a registry release has)."""
    return _SEMVER.match(text) is not None


def source_kind(text: str) -> str | None:
    """The kind of non-registry source a spec or URL names (git, local path, tarball), else None."""
    if text.startswith(_GIT_PREFIXES) or ("://" in text and ".git" in text and "#" in text):
        return "git dependency"
    if text.startswith(_LOCAL_PREFIXES) or text.startswith((".", "/", "~")):
        return "local path dependency"
    if text.startswith(("http://", "https://")):
        if "://codeload.github.com/" in text or ("://gitlab.com/" in text and "/-/archive/" in text):
            return "git dependency"  # a git host's archive of a commit
        if text.startswith(REGISTRY_PREFIXES) or "/-/" in text:
            return None  # a registry tarball (any registry: ``<registry>/<name>/-/<name>-<v>.tgz``)
        return "tarball URL dependency"
    if _SHORTHAND.match(text):
        return "git dependency"  # ``user/repo`` is GitHub shorthand
    return None


def source_reason(resolved: object, version: object) -> str | None:
    """Why an entry is not a checkable registry release, else None.

    ``resolved`` is where the package manager fetched it from (may be absent), ``version`` the
    version string the lockfile records; a version that is not semver is never taken as one.
    """
    for text in (resolved, version):
        if isinstance(text, str) and text:
            reason = source_kind(text)
            if reason is not None:
                return reason
    if not isinstance(version, str) or not version:
        return "no version in the lock entry"
    if not is_semver(version):
        return f"not a registry version ({version[:60]!r})"
    return None


def split_alias(version: str) -> tuple[str, str] | None:
    """``npm:lodash@4.17.11`` (an npm alias) as ``("lodash", "4.17.11")``, else None."""
    if not version.startswith("npm:"):
        return None
    spec = version[4:]
    at = spec.find("@", 1)
    if at <= 0:
        return None
    return spec[:at], spec[at + 1 :]
