"""Where a repository uses catalog products: Terraform module sources (git ``?ref=`` and registry
``version``), Helm chart dependencies, CloudFormation nested stack URLs and Dockerfile base
images; and which resources it writes by hand. Text is read, never executed or fetched.

Terraform is read with a small block scanner (module and resource headers, then the module's
``source`` and ``version`` attributes) rather than a full HCL parse: it only needs those few
attributes, and it is what keeps a thousand repositories within a minute."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from bastion.catalog.semver import parse_semver
from bastion.errors import InputError
from bastion.scan.iac.docker import is_dockerfile
from bastion.scan.iac.yamlsafe import LineDict, YamlError, load_all

__all__ = ["HandWritten", "Usage", "UseKind", "exact_version", "find_usage", "normalise_source"]

_SKIP_DIRS = {".git", ".terraform", "node_modules", ".venv", "__pycache__", ".terragrunt-cache"}
_MODULE = re.compile(r'^[ \t]*module[ \t]+"([^"]+)"[ \t]*\{', re.MULTILINE)
_RESOURCE = re.compile(r'^[ \t]*resource[ \t]+"([^"]+)"[ \t]+"([^"]+)"[ \t]*\{', re.MULTILINE)
_ATTRIBUTE = re.compile(r'^[ \t]*(source|version)[ \t]*=[ \t]*"([^"]*)"', re.MULTILINE)
_LITERAL = re.compile(
    r'^[ \t]*([A-Za-z_][A-Za-z0-9_-]*)[ \t]*=[ \t]*(?:"([^"$]*)"|(-?[0-9]+(?:\.[0-9]+)?|true|false))[ \t]*$',
    re.MULTILINE,
)
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_FROM = re.compile(r"^[ \t]*FROM[ \t]+(?:--platform=\S+[ \t]+)?(\S+)", re.MULTILINE | re.IGNORECASE)
_EXACT = re.compile(r"^=?\s*v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
MAX_FILE_BYTES = 2_000_000
"""Larger files are skipped (and said so): no consumer template is that big."""


class UseKind(StrEnum):
    """How a repository references a product."""

    TERRAFORM_MODULE = "terraform-module"
    HELM_DEPENDENCY = "helm-dependency"
    CFN_NESTED_STACK = "cfn-nested-stack"
    DOCKER_IMAGE = "docker-image"


@dataclass(frozen=True)
class Usage:
    """One reference to something that may be a catalog product."""

    kind: UseKind
    path: str
    """POSIX path relative to the scanned root."""
    line: int
    source: str
    """The reference as written (a module source, a chart repository/name, a URL, an image)."""
    key: str
    """:func:`normalise_source` of the reference without its version."""
    version: str | None
    """The exact version referenced, or None when it is a range, a branch or missing."""
    requested: str = ""
    """The version text as written (``~> 1.2``, ``main``), for messages."""
    inputs: tuple[tuple[str, str, int], ...] = ()
    """Literal inputs passed to it (name, value as text, line): what the product's constraints check."""


@dataclass(frozen=True)
class HandWritten:
    """A resource defined directly in the repository."""

    path: str
    line: int
    type: str
    name: str


def normalise_source(source: str) -> tuple[str, str]:
    """A reference's comparable key (scheme, forced getter, ``.git`` and credentials dropped,
    lower-cased) and its ``ref`` query value (or ``""``)."""
    text = source.strip()
    text = re.sub(r"^[a-z0-9]+::", "", text)
    text, _, query = text.partition("?")
    ref = parse_qs(query).get("ref", [""])[0]
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.sub(r"^[^/@]+@", "", text)  # user@host (ssh) or user:token@host
    text = re.sub(r"^([^/:]+):(?!\d)", r"\1/", text)  # git@host:org/repo -> host/org/repo
    repo, sep, subdir = text.partition("//")
    repo = repo.rstrip("/").removesuffix(".git")
    key = f"{repo}//{subdir.strip('/')}" if sep and subdir.strip("/") else repo
    return key.lower(), ref


def exact_version(text: str | None) -> str | None:
    """The exact semantic version ``text`` pins (``1.2.0``, ``v1.2.0``, ``= 1.2.0``), or None for a
    range, a branch name or nothing."""
    if not text:
        return None
    match = _EXACT.match(text.strip())
    if match is None:
        return None
    try:
        return str(parse_semver(match.group(1)))
    except InputError:
        return None


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _block_end(text: str, start: int) -> int:
    """The offset just after the brace closing the block whose ``{`` is at ``start``; strings
    (with their escapes) are skipped so braces inside them do not count."""
    depth, i, n = 0, start, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _strip_comments(text: str) -> str:
    """Comments blanked out, line numbers kept."""
    if "/*" in text:
        text = _BLOCK_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    if "#" not in text and "//" not in text:
        return text
    lines = text.split("\n")
    return "\n".join("" if line.lstrip().startswith(("#", "//")) else line for line in lines)


def _terraform(rel: str, text: str) -> Iterator[Usage | HandWritten]:
    text = _strip_comments(text)
    for match in _MODULE.finditer(text):
        end = _block_end(text, match.end() - 1)
        body = text[match.end() : end]
        attributes = {m.group(1): m.group(2) for m in _ATTRIBUTE.finditer(body)}
        source = attributes.get("source")
        if source is None or source.startswith(("./", "../")):
            continue  # a local module is the repository's own code
        key, ref = normalise_source(source)
        requested = ref or attributes.get("version", "")
        first = _line_of(text, match.start())
        inputs = tuple(
            (
                m.group(1),
                m.group(2) if m.group(2) is not None else m.group(3),
                first + body.count("\n", 0, m.start()),
            )
            for m in _LITERAL.finditer(body)
            if m.group(1) not in {"source", "version", "providers", "count", "for_each", "depends_on"}
        )
        yield Usage(
            UseKind.TERRAFORM_MODULE,
            rel,
            first,
            source,
            key,
            exact_version(requested),
            requested,
            inputs,
        )
    for match in _RESOURCE.finditer(text):
        yield HandWritten(rel, _line_of(text, match.start()), match.group(1), match.group(2))


def _yaml(path: Path, text: str) -> list[Any]:
    try:
        return load_all(text)
    except YamlError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None


def _helm(rel: str, path: Path, text: str) -> Iterator[Usage]:
    documents = _yaml(path, text)
    chart = documents[0] if documents and isinstance(documents[0], dict) else {}
    for dependency in chart.get("dependencies") or []:
        if not isinstance(dependency, dict) or not dependency.get("name"):
            continue
        repository = str(dependency.get("repository") or "")
        if not repository or repository.startswith(("file://", "@", "alias:")):
            continue
        reference = f"{repository.rstrip('/')}/{dependency['name']}"
        requested = str(dependency.get("version") or "")
        line = dependency.line if isinstance(dependency, LineDict) else 1
        key, _ = normalise_source(reference)
        yield Usage(UseKind.HELM_DEPENDENCY, rel, line, reference, key, exact_version(requested), requested)


def _template_url(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        inner = value.get("Fn::Sub")
        if isinstance(inner, str):
            return inner
        if isinstance(inner, list) and inner and isinstance(inner[0], str):
            return inner[0]
    return None


def _cloudformation(rel: str, path: Path, text: str) -> Iterator[Usage | HandWritten]:
    for document in _yaml(path, text):
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            continue
        for name, resource in document["Resources"].items():
            if not isinstance(resource, dict):
                continue
            kind = str(resource.get("Type", ""))
            line = resource.line if isinstance(resource, LineDict) else 1
            if kind == "AWS::CloudFormation::Stack":
                url = _template_url(dict(resource.get("Properties") or {}).get("TemplateURL"))
                if url:
                    key, _ = normalise_source(url)
                    yield Usage(UseKind.CFN_NESTED_STACK, rel, line, url, key, None, "")
            elif kind.startswith(("AWS::", "Custom::")):
                yield HandWritten(rel, line, kind, str(name))


def _dockerfile(rel: str, text: str) -> Iterator[Usage]:
    for match in _FROM.finditer(text):
        image = match.group(1)
        if image.lower() == "scratch" or "$" in image:
            continue
        name, _, digest = image.partition("@")
        repo, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
        key, _ = normalise_source(repo)
        yield Usage(
            UseKind.DOCKER_IMAGE,
            rel,
            _line_of(text, match.start()),
            image,
            key,
            exact_version(tag),
            tag or digest,
        )


def find_usage(root: Path) -> tuple[list[Usage], list[HandWritten], list[str], int]:
    """Every product reference and hand-written resource under ``root``, one line for each file
    that could not be read (the scan goes on without it), and how many files were read."""
    if not root.exists():
        raise InputError(f"{root}: not found")
    uses: list[Usage] = []
    resources: list[HandWritten] = []
    skipped: list[str] = []
    read = 0
    for path, rel in _files(root):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                skipped.append(f"{rel}: over {MAX_FILE_BYTES:,} bytes, not read")
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            read += 1
            found: Iterator[Usage | HandWritten]
            if path.name.endswith(".tf"):
                found = _terraform(rel, text)
            elif path.name == "Chart.yaml":
                found = _helm(rel, path, text)
            elif is_dockerfile(path.name):
                found = _dockerfile(rel, text)
            elif "AWS::" in text:
                found = _cloudformation(rel, path, text)
            else:
                continue
            for item in found:
                if isinstance(item, Usage):
                    uses.append(item)
                else:
                    resources.append(item)
        except (OSError, InputError) as exc:
            skipped.append(f"{rel}: {exc}")
    return uses, resources, skipped, read


def _files(root: Path) -> Iterator[tuple[Path, str]]:
    if root.is_file():
        yield root, root.name
        return
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
        base = Path(directory)
        for name in sorted(names):
            if name.endswith((".tf", ".yaml", ".yml", ".json", ".template")) or is_dockerfile(name):
                path = base / name
                yield path, path.relative_to(root).as_posix()
