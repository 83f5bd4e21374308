"""How a consumer uses a product version, rendered from its example inputs: a Terraform module
block, a Helm dependency with its values, a CloudFormation nested stack, an ARM parameters file,
a Dockerfile ``FROM``. What the catalog page shows beside each product; ``catalog scan`` recognises
each of them as a use of that version."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from bastion.catalog.model import ProductKind, ProductSpec, VersionRecord

__all__ = ["usage_example"]

_REGISTRY_ADDRESS = re.compile(r"^(?:[a-z0-9.-]+\.[a-z]{2,}(?::\d+)?/)?[\w-]+/[\w-]+/[\w-]+$", re.IGNORECASE)
"""A Terraform registry address (``acme/vpc/aws``, ``app.terraform.io/acme/vpc/aws``): pinned with
``version``; anything else (git, a URL) is pinned with ``?ref=``."""


def _hcl(value: Any) -> str:
    """A JSON value written as HCL (strings, numbers, booleans, lists and objects coincide)."""
    return json.dumps(value)


def _terraform(spec: ProductSpec, record: VersionRecord) -> str:
    lines = [f'module "{spec.name.replace("-", "_")}" {{']
    if _REGISTRY_ADDRESS.match(spec.source):
        lines += [f"  source  = {_hcl(spec.source)}", f"  version = {_hcl(record.version)}"]
    else:
        separator = "&" if "?" in spec.source else "?"
        lines.append(f"  source = {_hcl(f'{spec.source}{separator}ref={record.version}')}")
    if record.example_inputs:
        lines.append("")
        width = max(len(name) for name in record.example_inputs)
        lines += [f"  {name:<{width}} = {_hcl(value)}" for name, value in record.example_inputs.items()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"image.tag": x}`` as ``{"image": {"tag": x}}`` (chart inputs are named by their path)."""
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        node = nested
        *parents, last = name.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[last] = value
    return nested


def _helm(spec: ProductSpec, record: VersionRecord) -> str:
    repository, _, chart = spec.source.rstrip("/").rpartition("/")
    dependency = {"dependencies": [{"name": chart, "version": record.version, "repository": repository}]}
    text = "# Chart.yaml\n" + yaml.safe_dump(dependency, sort_keys=False)
    if record.example_inputs:
        values = {chart: _nested(record.example_inputs)}
        text += "# values.yaml\n" + yaml.safe_dump(values, sort_keys=False)
    return text


def _cloudformation(spec: ProductSpec, record: VersionRecord) -> str:
    properties: dict[str, Any] = {
        "TemplateURL": f"{spec.source.rstrip('/')}/{record.version}/<template file>"
    }
    if record.example_inputs:
        properties["Parameters"] = dict(record.example_inputs)
    name = "".join(part.capitalize() for part in spec.name.split("-"))
    resource = {"Resources": {name: {"Type": "AWS::CloudFormation::Stack", "Properties": properties}}}
    return yaml.safe_dump(resource, sort_keys=False)


def _arm(record: VersionRecord) -> str:
    document = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {name: {"value": value} for name, value in record.example_inputs.items()},
    }
    return json.dumps(document, indent=2) + "\n"


def _dockerfile(spec: ProductSpec, record: VersionRecord) -> str:
    lines = [f"FROM {spec.source}:{record.version}"]
    if record.example_inputs:
        arguments = " ".join(f"--build-arg {name}={value}" for name, value in record.example_inputs.items())
        lines.append(f"# built with: docker build {arguments} .")
    return "\n".join(lines) + "\n"


def usage_example(spec: ProductSpec, record: VersionRecord) -> str:
    """How to use ``record`` of ``spec``, with its example inputs; empty for plain manifests
    (applied as they are, they take no inputs)."""
    match spec.kind:
        case ProductKind.TERRAFORM:
            return _terraform(spec, record)
        case ProductKind.HELM:
            return _helm(spec, record)
        case ProductKind.CLOUDFORMATION:
            return _cloudformation(spec, record)
        case ProductKind.ARM:
            return _arm(record)
        case ProductKind.DOCKERFILE:
            return _dockerfile(spec, record)
        case ProductKind.KUBERNETES:
            return ""
