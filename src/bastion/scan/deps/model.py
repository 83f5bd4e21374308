"""What the manifest parsers produce: packages with their purl, file and line."""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

__all__ = [
    "ManifestError",
    "Package",
    "ParseResult",
    "json_key_lines",
    "load_json",
    "load_yaml_mapping",
    "make_purl",
]

PURL_TYPES = {
    "PyPI": "pypi",
    "npm": "npm",
    "Maven": "maven",
    "Go": "golang",
    "crates.io": "cargo",
    "RubyGems": "gem",
    "Packagist": "composer",
    "NuGet": "nuget",
}


class ManifestError(ValueError):
    """A manifest that cannot be read at all; ``line`` where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@functools.lru_cache(maxsize=65536)
def make_purl(ecosystem: str, name: str, version: str | None) -> str:
    """The package URL of a package (``pkg:maven/org.apache.struts/struts2-core@2.3.31``)."""
    kind = PURL_TYPES.get(ecosystem, ecosystem.lower())
    namespace: str | None = None
    short = name
    if ecosystem == "Maven" and ":" in name:
        namespace, short = name.split(":", 1)
    elif ecosystem in {"npm", "Go", "Packagist"} and "/" in name:
        namespace, short = name.rsplit("/", 1)
    fast = _plain_purl(kind, namespace, short, version)
    if fast is not None:
        return fast
    return PackageURL(type=kind, namespace=namespace, name=short, version=version).to_string()


# packageurl-python's normalisation for the types above, for parts without surrounding blanks or
# empty path segments (anything else goes through PackageURL): the same lower-casing sets, the
# same quoting; tests/scan/deps/test_deps_purl.py checks both agree. About 10x faster, which
# matters for SBOMs of tens of thousands of packages.
_LOWER_NAMESPACE = frozenset({"pypi", "composer"})
_LOWER_NAME = frozenset({"pypi", "composer", "npm"})
_PLAIN_TYPES = frozenset(PURL_TYPES.values())
_BLANK = re.compile(r"(^|/)\s|\s($|/)|//|^/|/$|^$")


def _quote(text: str) -> str:
    return urllib.parse.quote(text.encode("utf-8")).replace("%3A", ":")


def _plain_purl(kind: str, namespace: str | None, name: str, version: str | None) -> str | None:
    if kind not in _PLAIN_TYPES or _BLANK.search(name) or "/" in name:
        return None
    if (namespace is not None and _BLANK.search(namespace)) or (
        version is not None and version != version.strip()
    ):
        return None
    if kind in _LOWER_NAME:
        name = name.lower()
    if kind == "pypi":
        name = name.replace("_", "-")
    quoted = _quote(name)
    if kind in _LOWER_NAME:
        quoted = quoted.lower()
    text = f"pkg:{kind}/"
    if namespace:
        if kind in _LOWER_NAMESPACE:
            namespace = namespace.lower()
        text += "/".join(_quote(segment) for segment in namespace.split("/")) + "/"
    text += quoted
    if version:
        text += "@" + _quote(version)
    return text


@dataclass(frozen=True)
class Package:
    """One dependency as a manifest declares it."""

    ecosystem: str
    """OSV spelling: PyPI, npm, Maven, Go, crates.io, RubyGems, Packagist, NuGet."""
    name: str
    version: str | None
    """The exact version, or None when the manifest does not pin one."""
    path: str
    """Manifest path relative to the scan target."""
    line: int | None = None
    direct: bool | None = None
    """True for a direct dependency, False for transitive, None when the file does not say."""
    skip_reason: str | None = None
    """Why this package cannot be checked (unpinned, git or path source...)."""
    scope: str | None = None
    """dev / test / optional and the like, when the manifest says."""

    @property
    def purl(self) -> str:
        """Package URL of this package."""
        return make_purl(self.ecosystem, self.name, self.version)


@dataclass
class ParseResult:
    """Packages of one manifest plus notices (file-level problems, with line where known)."""

    packages: list[Package] = field(default_factory=list)
    notices: list[tuple[str, int | None]] = field(default_factory=list)

    def note(self, message: str, line: int | None = None) -> None:
        """Record a problem that did not stop the parse."""
        self.notices.append((message, line))


_KEY = re.compile(r'^[ \t]*"((?:[^"\\]|\\.)*)"[ \t]*:', re.MULTILINE)


def json_key_lines(text: str) -> dict[str, int]:
    """First line (1-based) of every object key that starts a line in a JSON text."""
    lines: dict[str, int] = {}
    line = 1
    last = 0
    for match in _KEY.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        lines.setdefault(match.group(1), line)
    return lines


def load_yaml_mapping(text: str, kind: str) -> dict[str, Any]:
    """A YAML lockfile's top-level mapping; ManifestError (with the line) if invalid or not a mapping."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ManifestError("invalid YAML", mark.line + 1 if mark is not None else None) from None
    if not isinstance(data, dict):
        raise ManifestError(f"not a {kind}")
    return data


def load_json(text: str, result: ParseResult) -> Any:
    """Parse JSON, noting duplicate keys (the last one wins, as in npm); ManifestError if invalid."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    hook: Callable[[list[tuple[str, Any]]], dict[str, Any]] = pairs
    try:
        data = json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    for key in dict.fromkeys(duplicates):
        result.note(f"duplicate key {key!r}; the last value is used", _second_line(text, key))
    return data


def _second_line(text: str, key: str) -> int | None:
    needle = json.dumps(key)
    first = text.find(needle)
    second = text.find(needle, first + 1) if first >= 0 else -1
    return text.count("\n", 0, second) + 1 if second >= 0 else None
