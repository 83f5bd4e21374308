"""Python manifests: requirements files, poetry/Pipfile/uv/pdm locks, and pyproject.toml (PEP 621)."""

from __future__ import annotations

import contextlib
import posixpath
import re
import tomllib
from collections.abc import Iterator
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import VERSION_PATTERN, InvalidVersion

from bastion.scan.deps.model import ManifestError, Package, ParseResult, json_key_lines, load_json
from bastion.scan.deps.workspace import Workspace

__all__ = [
    "archive_name_version",
    "parse_pdm_lock",
    "parse_pipfile_lock",
    "parse_poetry_lock",
    "parse_pyproject",
    "parse_requirements",
    "parse_uv_lock",
    "pinned_version",
    "requirement_part",
    "simple_pin",
]

ECO = "PyPI"
_OPTION = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")
_SIMPLE_PIN = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*==\s*(?P<version>(?=[0-9])"
    + VERSION_PATTERN
    + r")\s*$",
    re.VERBOSE | re.IGNORECASE,
)
_COMMENT = re.compile(r"(^|\s+)#.*$")  # as pip's COMMENT_RE: '#' at the start or after a space
_ARCHIVES = (".whl", ".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar")
_URL_SCHEMES = ("git+", "hg+", "svn+", "bzr+", "http://", "https://", "file:")


def pinned_version(requirement: Requirement) -> str | None:
    """The exact version of an ``==`` / ``===`` pin without wildcard, else None."""
    specs = list(requirement.specifier)
    if len(specs) == 1 and specs[0].operator in {"==", "==="} and "*" not in specs[0].version:
        return specs[0].version
    return None


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, joined text) with backslash continuations and comments removed."""
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", raw)
        if not buffer:
            start = number
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            yield start, buffer.strip()
        buffer = ""
    if buffer.strip():
        yield start, buffer.strip()


def parse_requirements(text: str, path: str, workspace: Workspace) -> ParseResult:
    """A pip requirements file; ``-r`` includes that the walk did not cover are read too."""
    result = ParseResult()
    _requirements(text, path, workspace, result, {path})
    return result


def _requirements(text: str, path: str, workspace: Workspace, result: ParseResult, seen: set[str]) -> None:
    for line, entry in _logical_lines(text):
        option = _OPTION.match(entry)
        if option:
            included = posixpath.normpath(posixpath.join(posixpath.dirname(path), option.group(2)))
            if option.group(1) in {"-c", "--constraint"} or included in seen:
                continue  # constraints pin nothing by themselves
            seen.add(included)
            if included in workspace.files and included.endswith(".txt") and "requirements" in included:
                continue  # read on its own as part of the walk
            body = workspace.read(included)
            if body is None:
                result.note(f"included file {option.group(2)} not found", line)
                continue
            _requirements(body, included, workspace, result, seen)
            continue
        if entry.startswith("-e ") or entry.startswith("--editable"):
            name = entry.split(None, 1)[-1]
            result.packages.append(
                Package(ECO, _egg_name(name), None, path, line, True, "editable install (-e)")
            )
            continue
        entry = requirement_part(entry)
        if not entry:
            continue  # --index-url, --no-binary and other pip options
        first = entry.split(None, 1)[0]
        if first.startswith(_URL_SCHEMES) or first.startswith((".", "/")) or _is_archive(first):
            result.packages.append(_from_location(first, path, line))
            continue
        pin = simple_pin(entry)
        if pin is not None:
            result.packages.append(Package(ECO, pin[0], pin[1], path, line, True))
            continue
        try:
            requirement = Requirement(entry)
        except InvalidRequirement as exc:
            result.note(f"not a valid requirement ({str(exc).splitlines()[0]})", line)
            continue
        result.packages.append(_from_requirement(requirement, path, line))


def simple_pin(entry: str) -> tuple[str, str] | None:
    """Name and version of a plain ``name==version`` line (no extras, markers or wildcards), else None.

    The bulk of a lock file; reading it without the full PEP 508 parser makes a 20,000-line
    requirements file several times faster. Anything else goes through ``Requirement``.
    """
    match = _SIMPLE_PIN.match(entry)
    if match is None:
        return None
    return match.group("name"), match.group("version")


def requirement_part(line: str) -> str:
    """A requirements line without its per-requirement options (``--hash``, ``--config-settings``, ``-C``).

    As pip's own ``break_args_options``: the options start at the first token that starts with a dash
    (https://pip.pypa.io/en/stable/reference/requirements-file-format/#per-requirement-options).
    """
    tokens = line.split()
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index])
    return " ".join(tokens)


def _is_archive(text: str) -> bool:
    return _archive_file(text) is not None


def _archive_file(location: str) -> str | None:
    """The file name of a location that names a wheel or sdist archive, else None."""
    base = location.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    filename = base.rsplit("/", 1)[-1]
    return filename if filename.lower().endswith(_ARCHIVES) else None


def archive_name_version(location: str) -> tuple[str, str] | None:
    """Name and version from a wheel or sdist file name (``foo-1.0-py3-none-any.whl``), else None.

    Per the binary and source distribution format specs
    (https://packaging.python.org/en/latest/specifications/binary-distribution-format/); an older
    sdist name that the spec's parser refuses is split at its last ``-`` before a digit.
    """
    filename = _archive_file(location)
    if filename is None:
        return None
    # A name the spec's parsers reject falls through to the looser reading below.
    with contextlib.suppress(InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        if filename.lower().endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return str(name), str(version)
        if filename.lower().endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return str(name), str(version)
    stem = re.sub(r"\.(tar\.gz|tar\.bz2|tar\.xz|tgz|zip|tar)$", "", filename, flags=re.IGNORECASE)
    match = re.fullmatch(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*?)-(?P<version>\d[^-]*)", stem)
    if match is None:
        return None
    return match.group("name"), match.group("version")


def _from_location(entry: str, path: str, line: int | None) -> Package:
    """A requirement given as a URL or a path: named by ``#egg=`` or by the archive's file name."""
    archive = archive_name_version(entry)
    egg = re.search(r"[#&]egg=([A-Za-z0-9_.\-]+)", entry)
    if archive is not None and (egg is None or _norm(egg.group(1)) == _norm(archive[0])):
        return Package(ECO, archive[0], archive[1], path, line, True)
    return Package(ECO, _egg_name(entry), None, path, line, True, "URL or path requirement")


def _egg_name(text: str) -> str:
    match = re.search(r"[#&]egg=([A-Za-z0-9_.\-]+)", text)
    if match:
        return match.group(1)
    return text.rstrip("/").rsplit("/", 1)[-1].split("@")[0] or text


def _from_requirement(requirement: Requirement, path: str, line: int | None) -> Package:
    if requirement.url:
        archive = archive_name_version(requirement.url)
        if archive is not None and _norm(archive[0]) == _norm(requirement.name):
            return Package(ECO, requirement.name, archive[1], path, line, True)
        return Package(
            ECO, requirement.name, None, path, line, True, f"direct URL ({requirement.url.split(':')[0]})"
        )
    version = pinned_version(requirement)
    reason = None if version else f"version not pinned ({requirement.specifier or 'any version'})"
    return Package(ECO, requirement.name, version, path, line, True, reason)


def _toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ManifestError(f"invalid TOML: {exc}", int(match.group(1)) if match else None) from None


def _toml_package_lines(text: str) -> list[int]:
    """Line of each ``[[package]]`` header, in order."""
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"^\[\[package\]\]", text, re.MULTILINE)]


def _lock_packages(
    text: str, path: str, data: dict[str, Any], *, source_key: str, direct: set[str] | None
) -> ParseResult:
    result = ParseResult()
    lines = _toml_package_lines(text)
    entries = data.get("package", [])
    if not isinstance(entries, list):
        raise ManifestError("'package' is not an array of tables")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            result.note(
                f"package entry {index + 1} has no name", lines[index] if index < len(lines) else None
            )
            continue
        line = lines[index] if index < len(lines) else None
        name, version = entry["name"], entry.get("version")
        source = entry.get(source_key)
        reason = None
        if isinstance(source, dict) and _non_registry(source):
            reason = f"{_source_kind(source)} source, not a registry release"
            version = version if isinstance(version, str) else None
        if not isinstance(version, str):
            version, reason = None, reason or "no version in the lock entry"
        is_direct = None if direct is None else _norm(name) in direct
        result.packages.append(Package(ECO, name, version, path, line, is_direct, reason))
    return result


def _non_registry(source: dict[str, Any]) -> bool:
    kind = source.get("type") or next(
        (k for k in ("git", "path", "url", "directory", "editable") if k in source), None
    )
    return kind in {"git", "path", "url", "directory", "file", "editable"}


def _source_kind(source: dict[str, Any]) -> str:
    return str(
        source.get("type")
        or next((k for k in ("git", "path", "url", "directory", "editable") if k in source), "other")
    )


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_poetry_lock(text: str, path: str, workspace: Workspace) -> ParseResult:
    """poetry.lock; direct dependencies come from the sibling pyproject.toml when present."""
    data = _toml(text)
    return _lock_packages(text, path, data, source_key="source", direct=_pyproject_direct(path, workspace))


def parse_uv_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """uv.lock; the project itself (a virtual/editable source) is left out, direct ones marked."""
    data = _toml(text)
    version = data.get("version")
    result_version_note = version not in (None, 1)
    direct: set[str] = set()
    for entry in data.get("package", []):
        source = entry.get("source") if isinstance(entry, dict) else None
        if isinstance(source, dict) and {"editable", "virtual"} & set(source):
            direct |= {
                _norm(d["name"]) for d in entry.get("dependencies", []) if isinstance(d, dict) and "name" in d
            }
    projects = {
        entry.get("name")
        for entry in data.get("package", [])
        if isinstance(entry, dict)
        and isinstance(entry.get("source"), dict)
        and {"editable", "virtual"} & set(entry["source"])
    }
    result = _lock_packages(text, path, data, source_key="source", direct=direct or None)
    result.packages = [p for p in result.packages if p.name not in projects]
    if result_version_note:
        result.note(f"unknown uv.lock version {version!r}; read as version 1")
    return result


def parse_pdm_lock(text: str, path: str, workspace: Workspace) -> ParseResult:
    """pdm.lock (``[[package]]`` tables, same shape as poetry)."""
    data = _toml(text)
    return _lock_packages(text, path, data, source_key="source", direct=_pyproject_direct(path, workspace))


def _pyproject_direct(path: str, workspace: Workspace) -> set[str] | None:
    sibling = posixpath.join(posixpath.dirname(path), "pyproject.toml")
    body = workspace.read(sibling)
    if body is None:
        return None
    try:
        data = tomllib.loads(body)
    except tomllib.TOMLDecodeError:
        return None
    names: set[str] = set()
    project = data.get("project", {})
    for spec in [
        *project.get("dependencies", []),
        *(d for g in project.get("optional-dependencies", {}).values() for d in g),
    ]:
        try:
            names.add(_norm(Requirement(spec).name))
        except (InvalidRequirement, TypeError):
            continue
    poetry = data.get("tool", {}).get("poetry", {})
    for table in [
        poetry.get("dependencies", {}),
        poetry.get("dev-dependencies", {}),
        *(g.get("dependencies", {}) for g in poetry.get("group", {}).values() if isinstance(g, dict)),
    ]:
        if isinstance(table, dict):
            names |= {_norm(n) for n in table if n != "python"}
    return names or None


def parse_pipfile_lock(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """Pipfile.lock: the ``default`` and ``develop`` sections, pins as ``==X``."""
    result = ParseResult()
    data = load_json(text, result)
    if not isinstance(data, dict):
        raise ManifestError("not a Pipfile.lock (top level is not an object)")
    spec = data.get("_meta", {}).get("pipfile-spec")
    if spec not in (None, 6):
        result.note(f"unknown pipfile-spec {spec!r}; read as 6")
    lines = json_key_lines(text)
    for section, scope in (("default", None), ("develop", "dev")):
        for name, entry in (data.get(section) or {}).items():
            if not isinstance(entry, dict):
                continue
            raw = entry.get("version")
            version = raw[2:] if isinstance(raw, str) and raw.startswith("==") else None
            reason = None
            if version is None:
                reason = "git or path source" if {"git", "path", "file"} & set(entry) else "no pinned version"
            result.packages.append(Package(ECO, name, version, path, lines.get(name), None, reason, scope))
    return result


def parse_pyproject(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """PEP 621 ``[project]`` dependencies; a pinned one is checked, an unpinned one is an info finding."""
    result = ParseResult()
    data = _toml(text)
    project = data.get("project")
    if not isinstance(project, dict):
        return result
    groups: list[tuple[str | None, Any]] = [(None, project.get("dependencies", []))]
    groups += [(f"optional:{k}", v) for k, v in (project.get("optional-dependencies") or {}).items()]
    for scope, specs in groups:
        if not isinstance(specs, list):
            continue
        for spec in specs:
            if not isinstance(spec, str):
                continue
            line = _line_of(text, spec)
            try:
                requirement = Requirement(spec)
            except InvalidRequirement as exc:
                result.note(f"not a valid requirement {spec!r} ({str(exc).splitlines()[0]})", line)
                continue
            package = _from_requirement(requirement, path, line)
            result.packages.append(
                Package(
                    package.ecosystem,
                    package.name,
                    package.version,
                    path,
                    line,
                    True,
                    package.skip_reason,
                    scope,
                )
            )
    return result


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(f'"{needle}"')
    if index < 0:
        index = text.find(f"'{needle}'")
    return text.count("\n", 0, index) + 1 if index >= 0 else None
