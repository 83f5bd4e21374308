"""Raise a dependency's version in the manifest that declares it, changing nothing else.

Each editor rewrites only the version text on the lines that declare the package, so the
diff a reviewer sees is one line per package, with the file's own style (quotes, operators,
comments, order) kept. Where a manifest's constraint cannot simply be raised (an upper bound
that excludes the fix, an npm range with ``||``), the editor says so instead of guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bastion.advisories.records import normalize_name
from bastion.fix.overrides import override_key, pin_transitive

__all__ = ["MANIFEST_FOR_LOCKFILE", "Bump", "EditOutcome", "edit_manifest", "manifest_for"]

MANIFEST_FOR_LOCKFILE = {
    "poetry.lock": "pyproject.toml",
    "uv.lock": "pyproject.toml",
    "pdm.lock": "pyproject.toml",
    "pipfile.lock": "Pipfile",
    "package-lock.json": "package.json",
    "npm-shrinkwrap.json": "package.json",
    "yarn.lock": "package.json",
    "pnpm-lock.yaml": "package.json",
    "cargo.lock": "Cargo.toml",
    "gemfile.lock": "Gemfile",
    "composer.lock": "composer.json",
    "gradle.lockfile": "build.gradle",
}
"""Lockfile name (lower case) -> the manifest beside it that declares direct dependencies."""


@dataclass(frozen=True)
class EditOutcome:
    """What an editor did to one manifest for one package."""

    text: str | None
    """The new text, or None when nothing was changed."""
    note: str = ""
    """Why nothing was changed, when so."""


@dataclass(frozen=True)
class Bump:
    """One package to raise: from ``current`` to ``target``."""

    ecosystem: str
    package: str
    current: str
    target: str
    source: str = ""
    """The file the scanner found the package in (a lockfile for transitive packages)."""


Editor = Callable[[str, Bump], EditOutcome]
"""(manifest text, bump) -> outcome."""


def manifest_for(path: str) -> str:
    """The manifest to edit for a package found in ``path``: the file itself when it is a
    manifest, else the manifest beside the lockfile."""
    pure = PurePosixPath(path)
    sibling = MANIFEST_FOR_LOCKFILE.get(pure.name.lower())
    return str(pure.with_name(sibling)) if sibling else path


def edit_manifest(path: str, text: str, bump: Bump) -> EditOutcome:
    """Apply ``bump`` to the text of the manifest at ``path``."""
    editor = _editor(PurePosixPath(path).name)
    if editor is None:
        return EditOutcome(None, f"{PurePosixPath(path).name}: Bastion does not edit this manifest kind")
    return editor(text, bump)


def _editor(name: str) -> Editor | None:
    lower = name.lower()
    if (lower.endswith(".txt") and "requirements" in lower) or lower.endswith(".in"):
        return _requirements
    if lower.endswith((".csproj", ".fsproj", ".vbproj")):
        return _msbuild
    return {
        "pyproject.toml": _pyproject,
        "pipfile": _toml_table_entry,
        "cargo.toml": _toml_table_entry,
        "package.json": _package_json,
        "go.mod": _go_mod,
        "pom.xml": _pom,
        "gemfile": _gemfile,
        "composer.json": _composer_json,
        "build.gradle": _gradle,
        "build.gradle.kts": _gradle,
        "directory.packages.props": _msbuild,
    }.get(lower)


# --- Python -------------------------------------------------------------------------------

_PY_REQ = re.compile(
    r"""(?P<lead>^|["'\s,\[])(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<extras>\[[^\]]*\])?\s*"""
    r"""(?P<spec>(?:(?:===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+\s*,?\s*)+)"""
)
_CLAUSE = re.compile(r"(?P<op>===|==|~=|!=|<=|>=|<|>)\s*(?P<version>[A-Za-z0-9.*+!_-]+)")


def _python_spec(spec: str, target: str) -> tuple[str, str]:
    """``spec`` with its lower bound or pin raised to ``target``; (new spec, note when impossible)."""

    def raise_clause(match: re.Match[str]) -> str:
        op = match["op"]
        if op in {"==", "===", ">=", "~="}:
            return f"{op}{target}"
        if op == ">":
            return f">={target}"
        return match.group(0)

    new = _CLAUSE.sub(raise_clause, spec)
    try:
        if Version(target) not in SpecifierSet(new.replace(" ", "").rstrip(",")):
            return spec, f"constraint {spec.strip()} still excludes {target} after raising its lower bound"
    except (InvalidSpecifier, InvalidVersion):
        return spec, f"constraint {spec.strip()} is not PEP 440: edit by hand"
    return new, ""


def _python_lines(text: str, package: str, target: str, in_strings: bool) -> EditOutcome:
    wanted = normalize_name("PyPI", package)
    lines = text.splitlines(keepends=True)
    changed = False
    notes: list[str] = []
    for index, line in enumerate(lines):
        code = line.split("#", 1)[0]
        for match in _PY_REQ.finditer(code):
            if normalize_name("PyPI", match["name"]) != wanted:
                continue
            if in_strings and match["lead"] not in {'"', "'"}:
                continue
            spec, note = _python_spec(match["spec"], target)
            if note:
                notes.append(note)
                continue
            lines[index] = line[: match.start("spec")] + spec + line[match.end("spec") :]
            changed = True
            if _drop_hashes(lines, index):
                notes.append(f"the --hash lines of {package} were removed: regenerate them for {target}")
            break
    if changed:
        return EditOutcome("".join(line for line in lines if line is not _DROPPED), "; ".join(notes))
    return EditOutcome(None, "; ".join(notes) or f"{package} has no version constraint here to raise")


_DROPPED = ""
_HASH_LINE = re.compile(r"^\s*--hash[=\s]\S+\s*\\?\s*$")


def _drop_hashes(lines: list[str], index: int) -> bool:
    """Remove the ``--hash`` continuation lines of the requirement on ``lines[index]``: they
    pin the old version's files and would make pip refuse the new one."""
    if not lines[index].rstrip().endswith("\\"):
        return False
    following = index + 1
    dropped = False
    while following < len(lines) and _HASH_LINE.match(lines[following]):
        last = not lines[following].rstrip().endswith("\\")
        lines[following] = _DROPPED
        dropped = True
        following += 1
        if last:
            break
    if dropped:
        head = lines[index].rstrip()
        lines[index] = head[:-1].rstrip() + lines[index][len(lines[index].rstrip("\r\n")) :]
    return dropped


def _requirements(text: str, bump: Bump) -> EditOutcome:
    return _python_lines(text, bump.package, bump.target, in_strings=False)


_POETRY_ENTRY = re.compile(
    r"""^(?P<key>\s*["']?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)["']?\s*=\s*)(?P<value>.*)$"""
)


def _pyproject(text: str, bump: Bump) -> EditOutcome:
    outcome = _python_lines(text, bump.package, bump.target, in_strings=True)
    if outcome.text is not None:
        return outcome
    poetry = _toml_table_entry(text, bump)  # [tool.poetry.dependencies]
    return poetry if poetry.text is not None else outcome


# --- TOML tables: Pipfile, Cargo.toml, Poetry --------------------------------------------

_VERSION_VALUE = re.compile(
    r"""(?P<q>["'])(?P<op>==|>=|~=|\^|~|=)?\s*(?P<version>[0-9][A-Za-z0-9.+_-]*)(?P=q)"""
)


def _toml_table_entry(text: str, bump: Bump) -> EditOutcome:
    ecosystem, package, target = bump.ecosystem, bump.package, bump.target
    wanted = normalize_name(ecosystem, package)
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        entry = _POETRY_ENTRY.match(line.rstrip("\r\n"))
        if entry is None or normalize_name(ecosystem, entry["name"]) != wanted:
            continue
        value = entry["value"]
        if value.lstrip().startswith("{"):
            found = re.search(r"version\s*=\s*" + _VERSION_VALUE.pattern, value)
            span = (found.start("q"), found.end()) if found else None
        else:
            found = _VERSION_VALUE.match(value.strip())
            offset = len(value) - len(value.lstrip())
            span = (offset, offset + found.end()) if found else None
        if found is None or span is None:
            continue
        quote, op = found["q"], found["op"] or ""
        replacement = f"{quote}{op}{target}{quote}"
        start = entry.start("value") + span[0]
        lines[index] = line[:start] + replacement + line[entry.start("value") + span[1] :]
        return EditOutcome("".join(lines))
    return EditOutcome(None, f"{package} is not declared with a version here")


# --- npm ----------------------------------------------------------------------------------

_NPM_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
_NPM_RANGE = re.compile(r"^(?P<prefix>\^|~|>=|=)?v?(?P<version>\d+(?:\.\d+){0,2}(?:[-+][0-9A-Za-z.-]+)?)$")


def _json_entry(
    text: str, package: str, target: str, sections: tuple[str, ...]
) -> tuple[str | None, list[str]]:
    """``text`` (package.json, composer.json) with ``package``'s version range raised to ``target``
    in one of ``sections``, keeping its operator; (None, notes) when there is none to raise."""
    entry = re.compile(r'^(?P<head>\s*"' + re.escape(package) + r'"\s*:\s*")(?P<range>[^"]*)(?P<tail>".*)$')
    lines = text.splitlines(keepends=True)
    section: str | None = None
    notes: list[str] = []
    for index, line in enumerate(lines):
        opened = re.match(r'^\s*"(?P<key>[A-Za-z-]+)"\s*:\s*\{', line)
        if opened:
            section = opened["key"]
            continue
        match = entry.match(line.rstrip("\r\n")) if section in sections else None
        if match is None:
            continue
        plain = _NPM_RANGE.match(match["range"].strip())
        if plain is None:
            notes.append(f'"{package}": "{match["range"]}" is not a plain version or ^/~ range: edit by hand')
            continue
        end = len(line.rstrip("\r\n"))
        lines[index] = match["head"] + f"{plain['prefix'] or ''}{target}" + match["tail"] + line[end:]
        return "".join(lines), notes
    return _inline_entry(text, package, target, sections), notes


def _inline_entry(text: str, package: str, target: str, sections: tuple[str, ...]) -> str | None:
    """The same edit for an entry that shares its line with others (``{"dependencies":
    {"lodash": "4.17.11"}}`` on one line): the one occurrence whose change leaves the parsed
    document different in exactly that section entry; None when there is none (or the file is
    not JSON)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    for section in sections:
        declared = document.get(section)
        if not isinstance(declared, dict) or not isinstance(declared.get(package), str):
            continue
        plain = _NPM_RANGE.match(declared[package].strip())
        if plain is None:
            return None
        wanted = f"{plain['prefix'] or ''}{target}"
        expected = json.loads(text)
        expected[section][package] = wanted
        pattern = re.compile(r'("' + re.escape(package) + r'"\s*:\s*")' + re.escape(declared[package]) + '"')
        for found in pattern.finditer(text):
            candidate = text[: found.start()] + found[1] + wanted + '"' + text[found.end() :]
            try:
                if json.loads(candidate) == expected:
                    return candidate
            except json.JSONDecodeError:
                continue
    return None


def _package_json(text: str, bump: Bump) -> EditOutcome:
    package, target = bump.package, bump.target
    edited, notes = _json_entry(text, package, target, _NPM_SECTIONS)
    if edited is not None:
        return EditOutcome(edited)
    if notes:
        return EditOutcome(None, "; ".join(notes))
    if _declares(text, package, _NPM_SECTIONS):  # never an override against a direct entry (EOVERRIDE)
        return EditOutcome(None, f"{package} is a direct dependency in a layout this edit cannot change")
    key = override_key(bump.source)
    if key is None:
        return EditOutcome(None, f"{package} is not a direct dependency in package.json")
    pinned = pin_transitive(text, package, target, key)
    if pinned is None:
        return EditOutcome(None, f"{package} is transitive and package.json could not take a {key!r} entry")
    return EditOutcome(pinned, f"{package} is transitive: pinned to {target} under {key!r} in package.json")


def _declares(text: str, package: str, sections: tuple[str, ...]) -> bool:
    """Whether the JSON manifest ``text`` names ``package`` in one of ``sections``."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return False
    return isinstance(document, dict) and any(
        isinstance(document.get(section), dict) and package in document[section] for section in sections
    )


def _composer_json(text: str, bump: Bump) -> EditOutcome:
    edited, notes = _json_entry(text, bump.package, bump.target, ("require", "require-dev"))
    if edited is not None:
        return EditOutcome(edited)
    return EditOutcome(None, "; ".join(notes) or f"{bump.package} is not required in composer.json")


# --- Go -----------------------------------------------------------------------------------


def _go_mod(text: str, bump: Bump) -> EditOutcome:
    package, current, target = bump.package, bump.current, bump.target
    version = target if target.startswith("v") else f"v{target}"
    old = current if current.startswith("v") else f"v{current}"
    pattern = re.compile(
        r"^(?P<head>\s*(?:require\s+)?" + re.escape(package) + r"\s+)" + re.escape(old) + r"\b", re.MULTILINE
    )
    new, count = pattern.subn(lambda m: m["head"] + version, text, count=1)
    return EditOutcome(new) if count else EditOutcome(None, f"{package} {old} is not required in go.mod")


# --- Maven --------------------------------------------------------------------------------


def _pom(text: str, bump: Bump) -> EditOutcome:
    package, current, target = bump.package, bump.current, bump.target
    group, _, artifact = package.partition(":")
    block = re.compile(
        r"<dependency>(?:(?!</dependency>).)*?<groupId>\s*" + re.escape(group) + r"\s*</groupId>"
        r"(?:(?!</dependency>).)*?</dependency>",
        re.DOTALL,
    )
    for match in block.finditer(text):
        body = match.group(0)
        if not re.search(r"<artifactId>\s*" + re.escape(artifact) + r"\s*</artifactId>", body):
            continue
        version = re.search(r"<version>\s*(?P<value>[^<]*?)\s*</version>", body)
        if version is None:
            return EditOutcome(None, f"{package} takes its version from a parent or BOM: upgrade it there")
        value = version["value"]
        prop = re.fullmatch(r"\$\{(?P<name>[^}]+)\}", value)
        if prop is not None:
            return _pom_property(text, prop["name"], current, target, package)
        start = match.start() + version.start("value")
        return EditOutcome(text[:start] + target + text[start + len(value) :])
    return EditOutcome(None, f"{package} is not declared in this pom.xml")


def _pom_property(text: str, name: str, current: str, target: str, package: str) -> EditOutcome:
    prop = re.search(r"<" + re.escape(name) + r">\s*(?P<value>[^<]*?)\s*</" + re.escape(name) + ">", text)
    if prop is None:
        return EditOutcome(None, f"{package}: property ${{{name}}} is defined elsewhere (a parent pom)")
    if prop["value"] != current:
        return EditOutcome(None, f"{package}: property ${{{name}}} is {prop['value']!r}, not {current!r}")
    return EditOutcome(text[: prop.start("value")] + target + text[prop.end("value") :])


# --- Gradle -------------------------------------------------------------------------------


def _gradle(text: str, bump: Bump) -> EditOutcome:
    """``group:artifact:version`` strings and ``group: ..., name: ..., version: ...`` maps in
    build.gradle or build.gradle.kts; a version from a variable is left to a person."""
    group, _, artifact = bump.package.partition(":")
    coordinate = re.compile(
        r"(?P<q>[\"'])"
        + re.escape(f"{group}:{artifact}:")
        + r"(?P<version>[^\"'$@:]+)(?P<tail>(?:@\w+)?)(?P=q)"
    )
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        found = coordinate.search(line)
        if found is not None and found["version"] == bump.current:
            lines[index] = line[: found.start("version")] + bump.target + line[found.end("version") :]
            return EditOutcome("".join(lines))
        if re.search(r"group\s*[:=]\s*[\"']" + re.escape(group) + r"[\"']", line) and re.search(
            r"name\s*[:=]\s*[\"']" + re.escape(artifact) + r"[\"']", line
        ):
            version = re.search(r"(version\s*[:=]\s*[\"'])" + re.escape(bump.current) + r"([\"'])", line)
            if version is not None:
                lines[index] = line[: version.end(1)] + bump.target + line[version.start(2) :]
                return EditOutcome("".join(lines))
    if re.search(re.escape(f"{group}:{artifact}:") + r"\$", text):
        return EditOutcome(None, f"{bump.package}'s version comes from a variable: raise it where it is set")
    return EditOutcome(None, f"{bump.package} {bump.current} is not declared in this build file")


# --- NuGet --------------------------------------------------------------------------------


def _msbuild(text: str, bump: Bump) -> EditOutcome:
    """``<PackageReference Include="Name" Version="x" />`` (attribute or child element) in a
    .csproj/.fsproj/.vbproj or Directory.Packages.props (``PackageVersion``)."""
    name = re.escape(bump.package)
    element = re.compile(
        r"<Package(?:Reference|Version)\b[^>]*\b(?:Include|Update)\s*=\s*\"" + name + r"\"[^>]*>",
        re.IGNORECASE,
    )
    for found in element.finditer(text):
        tag = found.group(0)
        version = re.search(r"\bVersion\s*=\s*\"(?P<v>[^\"]*)\"", tag)
        if version is not None:
            start = found.start() + version.start("v")
            return EditOutcome(text[:start] + bump.target + text[found.start() + version.end("v") :])
        if tag.endswith("/>"):
            continue
        child = re.compile(r"<Version>\s*(?P<v>[^<]*?)\s*</Version>").search(text, found.end())
        if child is not None and "</Package" not in text[found.end() : child.start()]:
            return EditOutcome(text[: child.start("v")] + bump.target + text[child.end("v") :])
    return EditOutcome(None, f"{bump.package} has no PackageReference version here")


# --- Ruby ---------------------------------------------------------------------------------


def _gemfile(text: str, bump: Bump) -> EditOutcome:
    package, target = bump.package, bump.target
    line_re = re.compile(r"^(?P<head>\s*gem\s+[\"']" + re.escape(package) + r"[\"'])(?P<rest>.*)$")
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        match = line_re.match(line.rstrip("\r\n"))
        if match is None:
            continue
        rest = match["rest"]
        constraint = re.search(r"(?P<q>[\"'])(?P<op>~>|>=|=)?\s*(?P<version>\d[0-9A-Za-z.]*)(?P=q)", rest)
        if constraint is None:
            return EditOutcome(
                None, f"{package} has no version in the Gemfile: the lockfile refresh upgrades it"
            )
        op = f"{constraint['op']} " if constraint["op"] else ""
        new_rest = (
            rest[: constraint.start()]
            + f"{constraint['q']}{op}{target}{constraint['q']}"
            + rest[constraint.end() :]
        )
        end = len(line.rstrip("\r\n"))
        lines[index] = match["head"] + new_rest + line[end:]
        return EditOutcome("".join(lines))
    return EditOutcome(None, f"{package} is not declared in the Gemfile")
