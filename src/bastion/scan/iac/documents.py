"""YAML and JSON inputs to resources: Kubernetes manifests, docker-compose, CloudFormation
(YAML short-form tags, JSON, SAM), Azure ARM templates and Terraform plan JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from bastion.scan.iac.model import Ref, Resource, Unresolved, first_unknown, refs_in
from bastion.scan.iac.yamlsafe import LineDict, YamlError, load_all

__all__ = ["DocumentError", "from_documents", "parse_json_file", "parse_yaml_file"]

LINES_JSON_LIMIT = 2_000_000
"""JSON files up to this size are read with the line-keeping loader; larger ones with ``json``."""

WORKLOAD_PODS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "PodTemplate": ("template", "spec"),
}
_COMPOSE_NAME = re.compile(r"^(docker-)?compose(\.[\w-]+)?\.ya?ml$")


class DocumentError(Exception):
    """The file cannot be read; the message names the line where known."""


def _flat_lines(value: Any, base: str, out: dict[str, int]) -> None:
    if isinstance(value, LineDict):
        for key, item in value.items():
            path = f"{base}.{key}" if base else str(key)
            out.setdefault(path, value.key_lines.get(str(key), value.line))
            _flat_lines(item, path, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            path = f"{base}.{index}" if base else str(index)
            if isinstance(item, LineDict):
                out.setdefault(path, item.line)
            _flat_lines(item, path, out)


def _span(value: Any, fallback: int = 1) -> tuple[int, int]:
    if isinstance(value, LineDict):
        return value.line, max(value.end_line, value.line)
    return fallback, fallback


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dig(doc: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _kubernetes(doc: dict[str, Any], path: str) -> Iterator[Resource]:
    kind = str(doc.get("kind"))
    if kind == "List" and isinstance(doc.get("items"), list):
        for item in doc["items"]:
            if isinstance(item, dict) and "kind" in item:
                yield from _kubernetes(item, path)
        return
    meta = _mapping(doc.get("metadata"))
    namespace = str(meta.get("namespace") or "default")
    name = str(meta.get("name") or "?")
    lines: dict[str, int] = {}
    _flat_lines(doc, "", lines)
    attrs: dict[str, Any] = dict(doc)
    aliases: tuple[str, ...] = ()
    shown: dict[str, str] = {}
    pod = _dig(doc, WORKLOAD_PODS[kind]) if kind in WORKLOAD_PODS else None
    if isinstance(pod, dict):
        aliases = ("k8s.workload",)
        attrs["_pod"] = pod
        pod_path = ".".join(WORKLOAD_PODS[kind])
        shown["_pod"] = pod_path
        _flat_lines(pod, "_pod", lines)
        containers: list[Any] = []
        for key in ("initContainers", "containers", "ephemeralContainers"):
            items = pod.get(key)
            if isinstance(items, list):
                for position, item in enumerate(items):
                    if isinstance(item, dict):
                        shown[f"_containers.{len(containers)}"] = f"{pod_path}.{key}.{position}"
                        containers.append(item)
        attrs["_containers"] = containers
        for index, container in enumerate(containers):
            if isinstance(container, LineDict):
                lines[f"_containers.{index}"] = container.line
            _flat_lines(container, f"_containers.{index}", lines)
        attrs["_namespace"] = namespace
    start, end = _span(doc)
    yield Resource(
        type=f"k8s.{kind}",
        name=f"{namespace}/{kind}/{name}",
        path=path,
        start_line=start,
        end_line=end,
        attrs=attrs,
        lines=lines,
        source="kubernetes",
        aliases=aliases,
        ids=frozenset({name}),
        shown=shown,
    )


def _compose(doc: dict[str, Any], path: str) -> Iterator[Resource]:
    services = doc.get("services")
    if not isinstance(services, dict):
        return
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        lines: dict[str, int] = {}
        _flat_lines(service, "", lines)
        start, end = _span(service)
        yield Resource(
            "compose.service",
            f"service {name}",
            path,
            start,
            end,
            dict(service),
            lines,
            "compose",
            ids=frozenset({str(name)}),
        )


def _cfn_value(value: Any, params: dict[str, Any], logical: set[str]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Ref":
                if arg in params and isinstance(params[arg], dict) and "Default" in params[arg]:
                    return params[arg]["Default"]
                if arg in logical:
                    return Ref(str(arg))
                return Unresolved(f"!Ref {arg} has no default")
            if key == "Fn::GetAtt":
                target = arg[0] if isinstance(arg, list) and arg else str(arg)
                return Ref(str(target), str(arg[1]) if isinstance(arg, list) and len(arg) > 1 else "")
            if isinstance(key, str) and key.startswith("Fn::"):
                return _cfn_function(key, _cfn_value(arg, params, logical), params)
        return {k: _cfn_value(v, params, logical) for k, v in value.items()}
    if isinstance(value, list):
        return [_cfn_value(v, params, logical) for v in value]
    return value


_SUB = re.compile(r"\$\{([^}!]+)\}")


def _cfn_function(key: str, arg: Any, params: dict[str, Any]) -> Any:
    """The value of an intrinsic function whose arguments are known; else unknown with the reason.

    ``Fn::Base64`` gives the text before encoding (what the policies and the secrets detector
    read); ``Fn::Sub`` substitutes parameters with defaults and fails on anything else.
    """
    stop = first_unknown(arg, "known at deploy time")
    if key == "Fn::Base64":
        return arg
    if stop is not None:
        return stop
    joinable = isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list)
    if key == "Fn::Join" and joinable and all(isinstance(p, str | int | float) for p in arg[1]):
        return str(arg[0]).join(str(p) for p in arg[1])
    if key == "Fn::Select" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
        index = int(arg[0]) if str(arg[0]).isdigit() else -1
        if 0 <= index < len(arg[1]):
            return arg[1][index]
    if key == "Fn::Sub" and isinstance(arg, str):
        missing = [n for n in _SUB.findall(arg) if not _default(params, n)]
        if missing:
            return Unresolved(f"Fn::Sub refers to ${{{missing[0]}}}, known at deploy time")
        return _SUB.sub(lambda m: str(params[m[1]]["Default"]), arg)
    return Unresolved(f"{key} is not evaluated")


def _default(params: dict[str, Any], name: str) -> bool:
    return isinstance(params.get(name), dict) and "Default" in params[name]


def _cloudformation(doc: dict[str, Any], path: str) -> Iterator[Resource]:
    resources = doc.get("Resources")
    params = _mapping(doc.get("Parameters"))
    if not isinstance(resources, dict):
        return
    logical = {str(k) for k in resources}
    for name, body in resources.items():
        if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
            continue
        props = _mapping(body.get("Properties"))
        lines: dict[str, int] = {}
        _flat_lines(props, "", lines)
        attrs = _cfn_value(dict(props), params, logical)
        yield _resource(body, body["Type"], str(name), path, attrs, lines, "cloudformation")


def _resource(
    body: dict[str, Any],
    rtype: str,
    name: str,
    path: str,
    attrs: dict[str, Any],
    lines: dict[str, int],
    source: str,
) -> Resource:
    """A CloudFormation or ARM resource, spanning ``body``'s lines and known by its name."""
    start, end = _span(body)
    refs = refs_in(attrs)
    return Resource(rtype, name, path, start, end, attrs, lines, source, refs=refs, ids=frozenset({name}))


_ARM_PARAM = re.compile(r"^\[parameters\('([^']+)'\)\]$")
_ARM_VARIABLE = re.compile(r"^\[variables\('([^']+)'\)\]$")


def _arm_value(value: Any, params: dict[str, Any], variables: dict[str, Any] | None = None) -> Any:
    """``value`` with ``[parameters('x')]`` replaced by the parameter's default and
    ``[variables('x')]`` by the template's variable (itself resolved against the parameters, one
    level: a variable naming another variable stays unknown); other expressions are unknown."""
    if (
        isinstance(value, str)
        and value.startswith("[")
        and value.endswith("]")
        and not value.startswith("[[")
    ):
        match = _ARM_PARAM.match(value)
        if match and isinstance(params.get(match[1]), dict) and "defaultValue" in params[match[1]]:
            return params[match[1]]["defaultValue"]
        match = _ARM_VARIABLE.match(value)
        if match and variables is not None and match[1] in variables:
            return _arm_value(variables[match[1]], params)
        return Unresolved(f"ARM expression {value[:60]} is not evaluated")
    if isinstance(value, dict):
        return {k: _arm_value(v, params, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_arm_value(v, params, variables) for v in value]
    return value


def _arm(doc: dict[str, Any], path: str) -> Iterator[Resource]:
    params = _mapping(doc.get("parameters"))
    variables = _mapping(doc.get("variables"))
    stack = [r for r in doc.get("resources", []) if isinstance(r, dict)]
    while stack:
        body = stack.pop(0)
        stack.extend(r for r in body.get("resources", []) if isinstance(r, dict))
        lines: dict[str, int] = {}
        _flat_lines(body, "", lines)
        attrs = _arm_value({k: v for k, v in body.items() if k != "resources"}, params, variables)
        yield _resource(body, str(body.get("type")), str(body.get("name")), path, attrs, lines, "arm")


def _after_unknown(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Address -> the ``after_unknown`` map of its planned change (values known only after apply)."""
    found: dict[str, dict[str, Any]] = {}
    for change in doc.get("resource_changes") or []:
        if isinstance(change, dict):
            unknown = _mapping(_mapping(change.get("change")).get("after_unknown"))
            if unknown:
                found[str(change.get("address"))] = unknown
    return found


def _plan(doc: dict[str, Any], path: str) -> Iterator[Resource]:
    unknown = _after_unknown(doc)
    stack = [_dig(doc, ("planned_values", "root_module"))]
    while stack:
        module = stack.pop(0)
        if not isinstance(module, dict):
            continue
        stack.extend(module.get("child_modules") or [])
        for entry in module.get("resources") or []:
            if not isinstance(entry, dict) or entry.get("mode") == "data":
                continue
            values = dict(_mapping(entry.get("values")))
            start, end = _span(entry)
            address = str(entry.get("address"))
            for key, flag in unknown.get(address, {}).items():
                if flag is True:
                    values[key] = Unresolved(f"{address}.{key} is known after apply")
            yield Resource(
                str(entry.get("type")),
                address,
                path,
                start,
                end,
                dict(values),
                {},
                "tfplan",
                ids=frozenset({address}),
            )


def from_documents(documents: list[Any], path: str) -> Iterator[Resource]:
    """Resources in parsed documents, whatever the format each document turns out to be."""
    name = path.rsplit("/", 1)[-1]
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        if "apiVersion" in doc and "kind" in doc:
            yield from _kubernetes(doc, path)
        elif isinstance(doc.get("Resources"), dict) and (
            "AWSTemplateFormatVersion" in doc or _has_cfn_types(doc)
        ):
            yield from _cloudformation(doc, path)
        elif "planned_values" in doc and "format_version" in doc:
            yield from _plan(doc, path)
        elif isinstance(doc.get("resources"), list) and "deploymentTemplate" in str(doc.get("$schema", "")):
            yield from _arm(doc, path)
        elif isinstance(doc.get("services"), dict) and (_COMPOSE_NAME.match(name) or "version" in doc):
            yield from _compose(doc, path)


def _has_cfn_types(doc: dict[str, Any]) -> bool:
    return any(
        isinstance(body, dict) and str(body.get("Type", "")).startswith(("AWS::", "Alexa::", "Custom::"))
        for body in doc["Resources"].values()
    )


_HINTS = ("apiVersion", "Resources", "services", "planned_values", "deploymentTemplate")


def _load(text: str, loader: Callable[[str], list[Any]]) -> list[Any]:
    try:
        return loader(text)
    except YamlError as exc:
        raise DocumentError(str(exc)) from None


def parse_yaml_file(path: str, text: str) -> list[Resource]:
    """Resources in a YAML file; [] when it holds nothing Bastion checks."""
    if not any(hint in text for hint in _HINTS):
        return []
    return list(from_documents(_load(text, load_all), path))


def parse_json_file(path: str, text: str) -> list[Resource]:
    """Resources in a JSON file (CloudFormation, ARM, plan, Kubernetes); [] otherwise."""
    if not any(hint in text for hint in _HINTS):
        return []
    if len(text) > LINES_JSON_LIMIT:
        try:
            return list(from_documents([json.loads(text)], path))
        except json.JSONDecodeError as exc:
            raise DocumentError(f"line {exc.lineno}: invalid JSON: {exc.msg}") from None
    return list(from_documents(_load(text.replace("\t", " "), load_all), path))
