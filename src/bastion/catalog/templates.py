"""Read a template directory: which kind of product it is and its inputs and outputs
(Terraform variables/outputs, CloudFormation and ARM Parameters/Outputs, Helm values,
Dockerfile ARGs). A file that does not parse is one :class:`InputError` line naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.catalog.constraints import stack_parameter_constraint, terraform_validations
from bastion.catalog.hcltext import blocks_of
from bastion.catalog.model import Constraint, Param, ProductKind
from bastion.errors import InputError
from bastion.scan.iac.docker import is_dockerfile
from bastion.scan.iac.hcl import HclError, parse_hcl, parse_tf_json
from bastion.scan.iac.yamlsafe import YamlError, load_all
from bastion.structured import read_text

__all__ = ["TemplateInfo", "detect_kind", "example_inputs", "read_template", "template_files"]

_SKIP_DIRS = {".git", ".terraform", "node_modules", "__pycache__"}


@dataclass(frozen=True)
class TemplateInfo:
    """What a template declares."""

    kind: ProductKind
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]
    constraints: dict[str, Constraint] = field(default_factory=dict)
    """Limits the template itself puts on its inputs (CloudFormation ``AllowedValues``,
    ``AllowedPattern``, ``MinValue``/``MaxValue``; ARM ``allowedValues``, ``minValue``/``maxValue``;
    Terraform ``validation`` conditions of the forms :mod:`.constraints` reads)."""


def template_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root`` in a stable order, tool directories left out; links are
    not followed (a template must not smuggle in files from outside itself)."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS for part in rel.parts[:-1]) or path.is_symlink() or not path.is_file():
            continue
        yield path


def detect_kind(root: Path) -> ProductKind:
    """The kind of template in ``root``; :class:`InputError` when it holds none Bastion knows."""
    if not root.is_dir():
        raise InputError(f"{root}: template directory not found")
    names = {p.name for p in root.iterdir() if p.is_file()}
    if "Chart.yaml" in names:
        return ProductKind.HELM
    if any(n.endswith((".tf", ".tf.json")) for n in names):
        return ProductKind.TERRAFORM
    if any(is_dockerfile(n) for n in names):
        return ProductKind.DOCKERFILE
    for name in sorted(names):
        if name.endswith((".yaml", ".yml", ".json")):
            text = read_text(root / name, what="template")
            if "AWSTemplateFormatVersion" in text or "AWS::" in text:
                return ProductKind.CLOUDFORMATION
            if "deploymentTemplate.json" in text or "Microsoft." in text:
                return ProductKind.ARM
            if "apiVersion" in text and "kind" in text:
                return ProductKind.KUBERNETES
    raise InputError(
        f"{root}: no template found (Terraform, CloudFormation, ARM, Helm chart, manifests, Dockerfile)"
    )


def read_template(root: Path, kind: ProductKind | None = None) -> TemplateInfo:
    """The inputs and outputs the template in ``root`` declares; every file of its kind is parsed,
    and the first one that does not parse is an :class:`InputError` naming it and the line."""
    found = detect_kind(root)
    if kind is not None and found is not kind:
        raise InputError(f"{root}: the template is {found.value}, the product is {kind.value}")
    match found:
        case ProductKind.TERRAFORM:
            return _terraform(root)
        case ProductKind.CLOUDFORMATION | ProductKind.ARM:
            return _stack(root, found)
        case ProductKind.HELM:
            return _helm(root)
        case ProductKind.KUBERNETES:
            _yaml_documents(root)
            return TemplateInfo(found, (), ())
        case ProductKind.DOCKERFILE:
            return _dockerfile(root)


def _terraform(root: Path) -> TemplateInfo:
    inputs: list[Param] = []
    outputs: list[Param] = []
    constraints: dict[str, Constraint] = {}
    paths = sorted(p for p in root.iterdir() if p.is_file() and p.name.endswith((".tf", ".tf.json")))
    for path in paths:
        text = read_text(path, what="template")
        try:
            parsed = (
                parse_tf_json(path.name, text) if path.name.endswith(".json") else parse_hcl(path.name, text)
            )
        except HclError as exc:
            raise InputError(f"{path}: template does not parse: {exc}") from None
        for block in blocks_of(parsed.data.get("variable")):
            for name, body in block.items():
                body = body if isinstance(body, dict) else {}
                default = body.get("default")
                var_type = str(body.get("type", "any")).removeprefix("${").removesuffix("}")
                inputs.append(
                    Param(
                        str(name),
                        var_type,
                        str(body.get("description", "")),
                        default,
                        "default" not in body,
                    )
                )
                found = terraform_validations(str(name), var_type, body.get("validation"))
                if found is not None:
                    constraints[str(name)] = found
        for block in blocks_of(parsed.data.get("output")):
            for name, body in block.items():
                body = body if isinstance(body, dict) else {}
                outputs.append(Param(str(name), "", str(body.get("description", ""))))
    return TemplateInfo(ProductKind.TERRAFORM, tuple(inputs), tuple(outputs), constraints)


def _parse_document(path: Path) -> list[Any]:
    text = read_text(path, what="template")
    if path.suffix == ".json":
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: template does not parse: line {exc.lineno}: {exc.msg}") from None
    try:
        return load_all(text)
    except YamlError as exc:
        raise InputError(f"{path}: template does not parse: {exc}") from None


def _yaml_documents(root: Path) -> list[tuple[Path, Any]]:
    documents: list[tuple[Path, Any]] = []
    for path in template_files(root):
        if path.suffix in {".yaml", ".yml", ".json"} and "templates" not in path.relative_to(root).parts:
            documents.extend((path, doc) for doc in _parse_document(path))
    return documents


def _stack(root: Path, kind: ProductKind) -> TemplateInfo:
    inputs: list[Param] = []
    outputs: list[Param] = []
    constraints: dict[str, Constraint] = {}
    for _path, doc in _yaml_documents(root):
        if not isinstance(doc, dict):
            continue
        for name, body in dict(doc.get("Parameters") or doc.get("parameters") or {}).items():
            body = body if isinstance(body, dict) else {}
            default = body.get("Default", body.get("defaultValue"))
            description = body.get("Description") or dict(body.get("metadata") or {}).get("description", "")
            inputs.append(
                Param(
                    str(name),
                    str(body.get("Type", body.get("type", ""))),
                    str(description),
                    default,
                    default is None,
                )
            )
            found = stack_parameter_constraint(body)
            if found is not None:
                constraints[str(name)] = found
        for name, body in dict(doc.get("Outputs") or doc.get("outputs") or {}).items():
            body = body if isinstance(body, dict) else {}
            outputs.append(Param(str(name), str(body.get("type", "")), str(body.get("Description", ""))))
    return TemplateInfo(kind, tuple(inputs), tuple(outputs), constraints)


def _helm(root: Path) -> TemplateInfo:
    chart = _parse_document(root / "Chart.yaml")
    if not chart or not isinstance(chart[0], dict) or "name" not in chart[0]:
        raise InputError(f"{root / 'Chart.yaml'}: template does not parse: no chart name")
    inputs: list[Param] = []
    values_path = root / "values.yaml"
    if values_path.is_file():
        values = _parse_document(values_path)
        document = values[0] if values and isinstance(values[0], dict) else {}
        inputs.extend(_flatten(document, ""))
    for path in template_files(root / "templates") if (root / "templates").is_dir() else ():
        read_text(path, what="template")  # unreadable chart files fail here, not half-way through a publish
    return TemplateInfo(ProductKind.HELM, tuple(inputs), ())


def _flatten(values: dict[str, Any], prefix: str) -> Iterator[Param]:
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _flatten(value, name + ".")
        else:
            yield Param(name, type(value).__name__ if value is not None else "any", "", value, False)


def _dockerfile(root: Path) -> TemplateInfo:
    inputs: list[Param] = []
    outputs: list[Param] = []
    for path in sorted(p for p in root.iterdir() if p.is_file() and is_dockerfile(p.name)):
        for line in read_text(path, what="template").splitlines():
            words = line.strip().split(None, 1)
            if len(words) != 2:
                continue
            instruction, rest = words[0].upper(), words[1]
            if instruction == "ARG":
                name, _, default = rest.partition("=")
                inputs.append(Param(name.strip(), "string", "", default.strip() or None, not default))
            elif instruction == "EXPOSE":
                outputs.extend(Param(f"port {port}", "port") for port in rest.split())
    return TemplateInfo(ProductKind.DOCKERFILE, tuple(inputs), tuple(outputs))


def example_inputs(inputs: tuple[Param, ...], constraints: dict[str, Constraint]) -> dict[str, Any]:
    """Example values for every input: its default, else the first allowed value, else a
    placeholder naming its type (``<string>``)."""
    examples: dict[str, Any] = {}
    for param in inputs:
        constraint = constraints.get(param.name)
        if param.default is not None:
            examples[param.name] = param.default
        elif constraint is not None and constraint.allowed:
            examples[param.name] = constraint.allowed[0]
        elif constraint is not None and constraint.minimum is not None:
            examples[param.name] = _plain_number(constraint.minimum)
        elif constraint is not None and constraint.maximum is not None:
            examples[param.name] = _plain_number(constraint.maximum)
        else:
            examples[param.name] = f"<{param.type or 'value'}>"
    return examples


def _plain_number(value: float) -> float | int:
    """``2.0`` as ``2``: an example a template's integer input accepts."""
    return int(value) if value.is_integer() else value
