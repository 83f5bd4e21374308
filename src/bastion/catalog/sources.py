"""Where a repository uses catalog products: Terraform module sources (git ``?ref=`` and registry
``version``), Helm chart dependencies, CloudFormation nested stack URLs and Dockerfile base
images; and which resources it writes by hand. Text is read, never executed or fetched.

Terraform is read with a small block scanner (module and resource headers, then the module's
``source`` and ``version`` attributes) rather than a full HCL parse: it only needs those few
attributes, and it is what keeps a thousand repositories within a minute."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from bastion.catalog.hcltext import JsonKeys, LineCounter, block_end, blocks_of, mask, top_level
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
_FROM = re.compile(r"^[ \t]*FROM[ \t]+(?:--platform=\S+[ \t]+)?(\S+)", re.MULTILINE | re.IGNORECASE)
_EXACT = re.compile(r"^=?\s*v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
_PUBLIC_REGISTRY = re.compile(
    r"^(?:registry\.terraform\.io|registry\.opentofu\.org)/([^/]+/[^/]+/[^/]+(?://.*)?)$"
)
_S3_HOST = (
    r"s3(?:[.-](?:dualstack\.)?(?:[a-z0-9-]+|\$\{aws::region\}))?"
    r"\.(?:amazonaws\.com(?:\.cn)?|\$\{aws::urlsuffix\})"
)
_S3_PATH_STYLE = re.compile(rf"^{_S3_HOST}/(?P<bucket>[^/]+)(?:/(?P<key>.*))?$")
_S3_VIRTUAL_HOST = re.compile(rf"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.{_S3_HOST}(?:/(?P<key>.*))?$")
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
    inputs_path: str = ""
    """The file the inputs are in when it is not :attr:`path` (a chart's ``values.yaml``)."""


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
    is_s3 = text.lower().startswith("s3://")
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.sub(r"^[^/@]+@", "", text)  # user@host (ssh) or user:token@host
    text = re.sub(r"^([^/:${}]+):(?!\d)", r"\1/", text)  # git@host:org/repo -> host/org/repo
    repo, sep, subdir = text.partition("//")
    repo = repo.rstrip("/").removesuffix(".git")
    key = f"{repo}//{subdir.strip('/')}" if sep and subdir.strip("/") else repo
    key = key.lower()
    public = _PUBLIC_REGISTRY.match(key)  # registry.terraform.io/acme/vpc/aws is acme/vpc/aws
    if public is not None:
        key = public.group(1)
    return _s3_key(key, bucket_first=is_s3), ref


def _s3_key(key: str, bucket_first: bool) -> str:
    """Every way of writing an S3 object's URL as one key, ``s3/BUCKET/KEY`` (virtual-hosted and
    path-style hosts, legacy and dual-stack regional names, ``${AWS::Region}`` left in by ``!Sub``)."""
    if bucket_first:
        return "s3/" + key
    match = _S3_PATH_STYLE.match(key) or _S3_VIRTUAL_HOST.match(key)
    if match is None:
        return key
    return "/".join(part for part in ("s3", match.group("bucket"), match.group("key")) if part)


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


_SKIPPED_INPUTS = frozenset({"source", "version", "providers", "count", "for_each", "depends_on"})


def _terraform(rel: str, text: str) -> Iterator[Usage | HandWritten]:
    masked = mask(text)
    code = masked.code
    lines = LineCounter(code)
    for match in _MODULE.finditer(code):
        start = match.end()
        end = block_end(masked.shape, start - 1)
        attributes: dict[str, str] = {}
        for attribute in top_level(_ATTRIBUTE, masked, start, end):
            attributes.setdefault(attribute.group(1), attribute.group(2))
        source = attributes.get("source")
        if source is None or source.startswith(("./", "../")):
            continue  # a local module is the repository's own code
        key, ref = normalise_source(source)
        requested = ref or attributes.get("version", "")
        first = lines.at(match.start())
        inputs = tuple(
            (m.group(1), m.group(2) if m.group(2) is not None else m.group(3), lines.at(m.start()))
            for m in top_level(_LITERAL, masked, start, end)
            if m.group(1) not in _SKIPPED_INPUTS
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
    lines = LineCounter(code)
    for match in _RESOURCE.finditer(code):
        yield HandWritten(rel, lines.at(match.start()), match.group(1), match.group(2))


def _scalar(value: Any) -> str | None:
    """A literal input value as text (JSON and YAML scalars), None for anything computed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _terraform_json(rel: str, path: Path, text: str) -> Iterator[Usage | HandWritten]:
    """Module blocks and resources of a ``.tf.json`` file (Terraform's JSON syntax)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(document, dict):
        return
    keys = JsonKeys(text)
    for block in blocks_of(document.get("module")):
        for name, body in block.items():
            if not isinstance(body, dict) or not isinstance(body.get("source"), str):
                continue
            source = body["source"]
            if source.startswith(("./", "../")):
                continue
            key, ref = normalise_source(source)
            requested = ref or str(body.get("version") or "")
            line = keys.line(name)
            inputs = tuple(
                (field, literal, keys.line(field, line))
                for field, value in body.items()
                if field not in _SKIPPED_INPUTS and (literal := _scalar(value)) is not None
            )
            yield Usage(
                UseKind.TERRAFORM_MODULE, rel, line, source, key, exact_version(requested), requested, inputs
            )
    for block in blocks_of(document.get("resource")):
        for kind, named in block.items():
            for name in named if isinstance(named, dict) else {}:
                yield HandWritten(rel, keys.line(name), str(kind), str(name))


def _yaml(path: Path, text: str) -> list[Any]:
    try:
        return load_all(text)
    except YamlError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None


def _helm(rel: str, path: Path, text: str) -> Iterator[Usage]:
    documents = _yaml(path, text)
    chart = documents[0] if documents and isinstance(documents[0], dict) else {}
    dependencies = [d for d in chart.get("dependencies") or [] if isinstance(d, dict) and d.get("name")]
    values, values_rel = _chart_values(path, rel) if dependencies else ({}, "")
    for dependency in dependencies:
        repository = str(dependency.get("repository") or "")
        if not repository or repository.startswith(("file://", "@", "alias:")):
            continue
        reference = f"{repository.rstrip('/')}/{dependency['name']}"
        requested = str(dependency.get("version") or "")
        line = dependency.line if isinstance(dependency, LineDict) else 1
        key, _ = normalise_source(reference)
        section = values.get(str(dependency.get("alias") or dependency["name"]))
        inputs = tuple(_values_inputs(section, "")) if isinstance(section, dict) else ()
        yield Usage(
            UseKind.HELM_DEPENDENCY,
            rel,
            line,
            reference,
            key,
            exact_version(requested),
            requested,
            inputs,
            values_rel if inputs else "",
        )


def _chart_values(chart: Path, rel: str) -> tuple[dict[str, Any], str]:
    """The chart's ``values.yaml`` (what it passes its dependencies, under their names) and its
    relative path; empty when there is none. A values file that does not parse is an error naming it."""
    path = chart.with_name("values.yaml")
    if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
        return {}, ""
    documents = _yaml(path, path.read_text(encoding="utf-8", errors="replace"))
    document = documents[0] if documents and isinstance(documents[0], dict) else {}
    return document, rel.rpartition("/")[0] + "/values.yaml" if "/" in rel else "values.yaml"


def _values_inputs(values: dict[str, Any], prefix: str) -> Iterator[tuple[str, str, int]]:
    """Scalar values as ``a.b.c`` names (as a chart's inputs are named), with their lines."""
    lines = values.key_lines if isinstance(values, LineDict) else {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _values_inputs(value, name + ".")
        elif (literal := _scalar(value)) is not None:
            yield name, literal, lines.get(str(key), 1)


_PSEUDO = {"AWS::Region": "${AWS::Region}", "AWS::URLSuffix": "${AWS::URLSuffix}"}
"""Pseudo parameters left as placeholders (S3 URLs are matched with any region in them)."""


def _template_url(value: Any) -> str | None:
    """A nested stack's ``TemplateURL`` as text: a string, ``Fn::Sub`` (its literal variables
    substituted) or ``Fn::Join`` of literals; None when it is computed from anything else."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    if "Ref" in value:
        return _PSEUDO.get(str(value["Ref"]))
    if "Fn::Sub" in value:
        inner = value["Fn::Sub"]
        if isinstance(inner, str):
            return inner
        if (
            isinstance(inner, list)
            and len(inner) == 2
            and isinstance(inner[0], str)
            and isinstance(inner[1], dict)
        ):
            text = inner[0]
            for name, replacement in inner[1].items():
                literal = _template_url(replacement)
                if literal is None:
                    return None
                text = text.replace("${" + str(name) + "}", literal)
            return text
        return None
    joined = value.get("Fn::Join")
    if (
        isinstance(joined, list)
        and len(joined) == 2
        and isinstance(joined[0], str)
        and isinstance(joined[1], list)
    ):
        parts = [_template_url(part) for part in joined[1]]
        return None if any(part is None for part in parts) else joined[0].join(str(p) for p in parts)
    return None


def _stack_inputs(
    properties: dict[str, Any], line: int, keys: JsonKeys | None
) -> tuple[tuple[str, str, int], ...]:
    """Literal ``Parameters`` a nested stack passes (name, value as text, line); in JSON, which
    keeps no lines, the line is the first ``"NAME":`` after the resource's."""
    parameters = properties.get("Parameters")
    if not isinstance(parameters, dict):
        return ()
    lines = parameters.key_lines if isinstance(parameters, LineDict) else {}
    return tuple(
        (str(name), literal, lines.get(str(name)) or (keys.line(str(name), line) if keys else line))
        for name, value in parameters.items()
        if (literal := _scalar(value)) is not None
    )


def _cloudformation(rel: str, path: Path, text: str) -> Iterator[Usage | HandWritten]:
    keys: JsonKeys | None = None
    if text.lstrip().startswith("{"):  # JSON (may be indented with tabs, which YAML refuses)
        try:
            documents: list[Any] = [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        keys = JsonKeys(text)
    else:
        documents = _yaml(path, text)
    for document in documents:
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            continue
        for name, resource in document["Resources"].items():
            if not isinstance(resource, dict):
                continue
            kind = str(resource.get("Type", ""))
            line = resource.line if isinstance(resource, LineDict) else keys.line(str(name)) if keys else 1
            if kind == "AWS::CloudFormation::Stack":
                properties = resource.get("Properties")
                properties = properties if isinstance(properties, dict) else {}
                url = _template_url(properties.get("TemplateURL"))
                if url:
                    key, _ = normalise_source(url)
                    inputs = _stack_inputs(properties, line, keys)
                    yield Usage(UseKind.CFN_NESTED_STACK, rel, line, url, key, None, "", inputs)
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
            elif path.name.endswith(".tf.json"):
                found = _terraform_json(rel, path, text)
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
