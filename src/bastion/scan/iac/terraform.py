"""Terraform modules to resources: variables (defaults, tfvars, module inputs), locals,
static ``count``/``for_each``, and local modules followed with their call recorded."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.scan.iac.hcl import BlockLines, HclError, ParsedFile, parse_hcl, parse_tf_json
from bastion.scan.iac.iamdoc import COMPUTED_DATA
from bastion.scan.iac.model import ModuleCall, Ref, Resource, Unresolved, is_plain, refs_in
from bastion.scan.iac.tfeval import evaluate_template
from bastion.scan.iac.tfexpr import Scope, resolve

__all__ = ["TerraformProject", "is_terraform", "is_tfvars"]

MAX_MODULE_DEPTH = 8
Notify = Callable[[str, str], None]
"""(path, message) -> None, for notices."""


def is_terraform(name: str) -> bool:
    """A ``.tf`` or ``.tf.json`` file."""
    return name.endswith((".tf", ".tf.json"))


def is_tfvars(name: str) -> bool:
    """A variables file Terraform loads on its own (``terraform.tfvars``, ``*.auto.tfvars``)."""
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith(
        (".auto.tfvars", ".auto.tfvars.json")
    )


@dataclass
class _Module:
    directory: str
    files: list[ParsedFile] = field(default_factory=list)
    tfvars: dict[str, Any] = field(default_factory=dict)


def _blocks(parsed: ParsedFile, kind: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for entry in parsed.data.get(kind, []):
        if isinstance(entry, dict):
            for name, body in entry.items():
                yield name, body if isinstance(body, dict) else {}


class TerraformProject:
    """All Terraform of one scan: parse each directory once, evaluate each root module."""

    def __init__(
        self, root: Path, read: Callable[[str], str | None], notify: Notify, skip: Notify | None = None
    ) -> None:
        self.root = root
        self.read = read
        self.notify = notify
        self.skip = skip or notify
        """(path, reason) for a file that could not be checked at all (``--strict`` fails on it)."""
        self.modules: dict[str, _Module | None] = {}

    def load(self, directory: str, names: Iterable[str]) -> _Module | None:
        """Parse the Terraform files ``names`` of ``directory`` (relative POSIX paths)."""
        if directory in self.modules:
            return self.modules[directory]
        module = _Module(directory)
        for name in sorted(names):
            relpath = posixpath.join(directory, name) if directory else name
            text = self.read(relpath)
            if text is None:
                continue
            try:
                if is_tfvars(name):
                    values = (parse_tf_json if name.endswith(".json") else parse_hcl)(relpath, text)
                    module.tfvars.update(values.data)
                elif name.endswith(".tf.json"):
                    module.files.append(parse_tf_json(relpath, text))
                else:
                    module.files.append(parse_hcl(relpath, text))
            except HclError as exc:
                self.skip(relpath, f"{exc}; file not checked, the scan goes on")
        self.modules[directory] = module
        return module

    def _load_dir(self, directory: str) -> _Module | None:
        if directory in self.modules:
            return self.modules[directory]
        full = self.root / directory
        try:
            names = [n for n in os.listdir(full) if is_terraform(n) or is_tfvars(n)]
        except OSError:
            self.modules[directory] = None
            return None
        return self.load(directory, names)

    def called_dirs(self) -> set[str]:
        """Directories used as local modules by a loaded module; they are not roots."""
        called: set[str] = set()
        for directory, module in list(self.modules.items()):
            for parsed in module.files if module else ():
                for _name, body in _blocks(parsed, "module"):
                    target = _local_source(directory, body.get("source"))
                    if target is not None:
                        called.add(target)
        return called

    def evaluate(self, directory: str) -> list[Resource]:
        """Resources of the root module in ``directory``."""
        module = self._load_dir(directory)
        if module is None:
            return []
        return _Evaluator(self, module, dict(module.tfvars), "", (), 0).run()


def _local_source(directory: str, source: Any) -> str | None:
    if not isinstance(source, str) or not source.startswith(("./", "../")):
        return None
    joined = posixpath.normpath(posixpath.join(directory or ".", source))
    return "" if joined == "." else joined


class _Evaluator:
    def __init__(
        self,
        project: TerraformProject,
        module: _Module,
        inputs: dict[str, Any],
        prefix: str,
        calls: tuple[ModuleCall, ...],
        depth: int,
        root_dir: str | None = None,
    ) -> None:
        self.project = project
        self.module = module
        self.inputs = inputs
        self.prefix = prefix
        self.calls = calls
        self.depth = depth
        self.variables: dict[str, Any] = {}
        self.locals_raw: dict[str, Any] = {}
        self.locals: dict[str, Any] = {}
        self.resources: set[str] = set()
        self.resources_raw: dict[str, dict[str, Any]] = {}
        self.configured: dict[tuple[str, str], Any] = {}
        self.root_dir = module.directory if root_dir is None else root_dir
        """The root module's directory: Terraform's working directory, where file() paths start."""
        self.functions = {
            "file": self._file,
            "fileexists": self._fileexists,
            "templatefile": self._templatefile,
        }
        self.data_raw: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, Any] = {}
        self.data: dict[str, Any] = {}
        for parsed in module.files:
            for dtype, named in _blocks(parsed, "data"):
                for name, body in named.items():
                    self.data_raw[f"{dtype}.{name}"] = body if isinstance(body, dict) else {}
            for name, body in _blocks(parsed, "variable"):
                self.variables[name] = body
            for entry in parsed.data.get("locals", []):
                if isinstance(entry, dict):
                    self.locals_raw.update(entry)
            for rtype, named in _blocks(parsed, "resource"):
                for name, body in named.items():
                    self.resources.add(f"{rtype}.{name}")
                    self.resources_raw[f"{rtype}.{name}"] = body if isinstance(body, dict) else {}

    def _var(self, name: str) -> Any:
        if name in self.inputs:
            return self.inputs[name]
        body = self.variables.get(name)
        if body is None:
            return Unresolved(f"var.{name} is not declared")
        if "default" in body:
            return body["default"]
        return Unresolved(f"var.{name} has no default and no value in a tfvars file")

    def _local(self, name: str) -> Any:
        if name in self.locals:
            return self.locals[name]
        if name not in self.locals_raw:
            return Unresolved(f"local.{name} is not defined")
        self.locals[name] = Unresolved(f"local.{name} refers to itself")
        self.locals[name] = resolve(self.locals_raw[name], self._scope({}))
        return self.locals[name]

    def _path(self, relpath: Any) -> str | Unresolved:
        """A path given to file() (relative to the root module, as Terraform's working directory)."""
        if not isinstance(relpath, str):
            return Unresolved(f"file path {relpath!r} is not a string", error=True)
        joined = posixpath.normpath(posixpath.join(self.root_dir or ".", relpath))
        if posixpath.isabs(relpath) or joined.startswith(".."):
            return Unresolved(f"file({relpath!r}) is outside the scanned directory")
        return "" if joined == "." else joined

    def _file(self, relpath: Any) -> Any:
        path = self._path(relpath)
        if isinstance(path, Unresolved):
            return path
        text = self.project.read(path)
        return text if text is not None else Unresolved(f"file({relpath!r}) not found", error=True)

    def _fileexists(self, relpath: Any) -> Any:
        path = self._path(relpath)
        return path if isinstance(path, Unresolved) else self.project.read(path) is not None

    def _templatefile(self, relpath: Any, variables: Any = None) -> Any:
        text = self._file(relpath)
        if isinstance(text, Unresolved) or "${" not in text:
            return text
        bound = variables if isinstance(variables, dict) else {}
        return evaluate_template(text, self._scope({}).lookup, self.functions, bound)

    def _data(self, address: str) -> Any:
        """A data source computed from the files (``aws_iam_policy_document``) or unknown."""
        if address in self.data:
            return self.data[address]
        dtype = address.partition(".")[0]
        body = self.data_raw.get(address)
        if body is None or dtype not in COMPUTED_DATA:
            return Unresolved(f"data.{address} is read from the provider at plan time")
        self.data[address] = Unresolved(f"data.{address} refers to itself")
        attrs = resolve({k: v for k, v in body.items() if k not in ("count", "for_each")}, self._scope({}))
        self.data[address] = COMPUTED_DATA[dtype](attrs)
        return self.data[address]

    def _configured(self, address: str, rest: list[str]) -> Any:
        """The value another resource's own argument is set to in the files, when it is known there
        (``aws_vpc.main.cidr_block`` of ``cidr_block = "10.0.0.0/16"``): Terraform plans it as
        written. None (a reference, known after apply) for computed attributes (``id``, ``arn``),
        resources with ``count``/``for_each``, blocks, and values that are not plain known data."""
        body = self.resources_raw.get(address, {})
        if not rest or rest[0] in _META_ARGUMENTS or rest[0] not in body:
            return None
        if "count" in body or "for_each" in body:
            return None
        key = (address, rest[0])
        if key not in self.configured:
            self.configured[key] = None  # a reference cycle stays a reference
            self.configured[key] = resolve(body[rest[0]], self._scope({}))
        value = _dig(self.configured[key], rest[1:], f"{address}.{rest[0]}")
        return value if is_plain(value) else None

    def _scope(self, iteration: dict[str, Any]) -> Scope:
        def lookup(namespace: str, name: str, rest: list[str]) -> Any:
            if namespace == "var":
                return _dig(self._var(name), rest, f"var.{name}")
            if namespace == "local":
                return _dig(self._local(name), rest, f"local.{name}")
            if namespace in ("count", "each"):
                key = f"{namespace}.{name}"
                if key not in iteration:
                    return Unresolved(f"{key} used outside count/for_each")
                return _dig(iteration[key], rest, key)
            if f"{namespace}.{name}" in iteration:  # a dynamic block's iterator: port.value, ingress.key
                return _dig(iteration[f"{namespace}.{name}"], rest, f"{namespace}.{name}")
            if namespace == "path":
                if name == "module":
                    return posixpath.relpath(self.module.directory or ".", self.root_dir or ".")
                if name == "root":
                    return "."
                return Unresolved(f"path.{name} depends on where Terraform runs")
            if namespace == "data":
                return _dig(self._data(name), rest, f"data.{name}")
            if namespace == "module":
                return _dig(self._module_outputs(name), rest, f"module.{name}")
            address = f"{namespace}.{name}"
            if address in self.resources:
                configured = self._configured(address, rest)
                if configured is not None:
                    return configured
                attribute = next((p for p in rest if not p.isdigit()), "")
                return Ref(self.prefix + address, attribute)
            return Unresolved(f"{address} is not a known value")

        return Scope(lookup, self.functions)

    def run(self) -> list[Resource]:
        out: list[Resource] = []
        for parsed in self.module.files:
            for rtype, named in _blocks(parsed, "resource"):
                for name, body in named.items():
                    lines = parsed.lines.get(("resource", rtype, name), BlockLines(1, 1))
                    out.extend(self._instances(parsed.path, rtype, name, body, lines))
            for name, body in _blocks(parsed, "module"):
                lines = parsed.lines.get(("module", name), BlockLines(1, 1))
                out.extend(self._module(parsed.path, name, body, lines))
            for name, body in _blocks(parsed, "provider"):
                lines = parsed.lines.get(("provider", name), BlockLines(1, 1))
                out.append(self._provider(parsed.path, name, body, lines))
            for dtype, named in _blocks(parsed, "data"):
                if dtype in COMPUTED_DATA:
                    for name in named:
                        lines = parsed.lines.get(("data", dtype, name), BlockLines(1, 1))
                        out.append(self._data_resource(parsed.path, dtype, name, lines))
        return out

    def _provider(self, path: str, name: str, body: dict[str, Any], lines: BlockLines) -> Resource:
        """A provider block, checked for hard-coded credentials (type ``provider.NAME``)."""
        attrs = resolve(body, self._scope({}))
        alias = attrs.get("alias") if isinstance(attrs.get("alias"), str) else ""
        address = f"{self.prefix}provider.{name}" + (f".{alias}" if alias else "")
        return self._block(f"provider.{name}", address, path, attrs, lines)

    def _data_resource(self, path: str, dtype: str, name: str, lines: BlockLines) -> Resource:
        """A data source Terraform computes from the files, checked like a resource."""
        address = f"{self.prefix}data.{dtype}.{name}"
        value = self._data(f"{dtype}.{name}")
        attrs = value if isinstance(value, dict) else {"json": value}
        return self._block(dtype, address, path, attrs, lines)

    def _block(
        self,
        rtype: str,
        address: str,
        path: str,
        attrs: dict[str, Any],
        lines: BlockLines,
        ids: frozenset[str] | None = None,
        refs: frozenset[str] = frozenset(),
    ) -> Resource:
        """A block checked as a resource: a resource instance, or a provider or data source
        known by its address alone (``ids`` None)."""
        return Resource(
            type=rtype,
            name=address,
            path=path,
            start_line=lines.start,
            end_line=lines.end,
            attrs=attrs,
            lines=lines.attrs,
            source="terraform",
            module_call=self.calls,
            refs=refs,
            ids=ids if ids is not None else frozenset({address}),
        )

    def _iterations(self, path: str, address: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        scope = self._scope({})
        if "count" in body:
            count = resolve(body["count"], scope)
            if isinstance(count, bool):
                count = int(count)
            if isinstance(count, int | float):
                return [(f"[{i}]", {"count.index": i}) for i in range(int(count))]
            reason = count.reason if isinstance(count, Unresolved) else f"count is {count!r}"
            self.project.notify(path, f"{address}: count not evaluated ({reason}); checked as one instance")
            return [("", {"count.index": Unresolved(f"count of {address} is unknown")})]
        if "for_each" in body:
            each = resolve(body["for_each"], scope)
            if isinstance(each, dict):
                return [(f'["{k}"]', {"each.key": k, "each.value": v}) for k, v in each.items()]
            if isinstance(each, list) and not any(isinstance(v, Unresolved | Ref) for v in each):
                return [(f'["{v}"]', {"each.key": v, "each.value": v}) for v in each]
            reason = each.reason if isinstance(each, Unresolved) else "for_each is not a static map or set"
            self.project.notify(
                path, f"{address}: for_each not evaluated ({reason}); checked as one instance"
            )
            unknown = Unresolved(f"for_each of {address} is unknown")
            return [("", {"each.key": unknown, "each.value": unknown})]
        return [("", {})]

    def _instances(
        self, path: str, rtype: str, name: str, body: dict[str, Any], lines: BlockLines
    ) -> list[Resource]:
        address = f"{self.prefix}{rtype}.{name}"
        found: list[Resource] = []
        for suffix, iteration in self._iterations(path, address, body):
            attrs = self._expanded(body, iteration, ("count", "for_each", "dynamic"))
            ids = {address, address + suffix}
            for key in ("bucket", "name", "id"):
                if isinstance(attrs.get(key), str):
                    ids.add(attrs[key])
            found.append(
                self._block(rtype, address + suffix, path, attrs, lines, frozenset(ids), refs_in(attrs))
            )
        return found

    def _expanded(self, body: dict[str, Any], iteration: dict[str, Any], skip: tuple[str, ...]) -> Any:
        """``body`` resolved, with its ``dynamic`` blocks expanded into blocks of their name after
        the static ones (nested dynamic blocks too). A ``for_each`` that is not known adds an
        unknown element beside the static blocks (or makes the attribute unknown when there are
        none), so checks over those blocks end unknown, never pass."""
        attrs = resolve({k: v for k, v in body.items() if k not in skip}, self._scope(iteration))
        if not isinstance(attrs, dict):
            return attrs
        for name, spec in _dynamic_specs(body):
            existing = attrs.get(name)
            blocks = list(existing) if isinstance(existing, list) else [] if existing is None else [existing]
            each = resolve(spec.get("for_each"), self._scope(iteration))
            if isinstance(each, dict):
                items = list(each.items())
            elif isinstance(each, list) and not any(isinstance(v, Unresolved | Ref) for v in each):
                items = list(enumerate(each))
            else:
                reason = each.reason if isinstance(each, Unresolved) else "its for_each is known after apply"
                unknown = Unresolved(f"dynamic block {name!r}: {reason}")
                attrs[name] = [*blocks, unknown] if blocks else unknown  # none known: whether any exists too
                continue
            it = _iterator(spec, name)
            content = spec.get("content")
            content = content[0] if isinstance(content, list) and content else content
            for key, value in items:
                scope = {**iteration, f"{it}.key": key, f"{it}.value": value}
                blocks.append(
                    self._expanded(content if isinstance(content, dict) else {}, scope, ("dynamic",))
                )
            attrs[name] = blocks
        return attrs

    def _module_outputs(self, name: str) -> Any:
        """The outputs of a local module called once (no count/for_each), as a map; else unknown."""
        if name in self.outputs:
            return self.outputs[name]
        self.outputs[name] = Unresolved(f"module.{name} outputs refer to themselves")
        body = next(
            (b for parsed in self.module.files for n, b in _blocks(parsed, "module") if n == name), None
        )
        target = _local_source(self.module.directory, body.get("source")) if body is not None else None
        if body is None:
            found: Any = Unresolved(f"module.{name} is not declared")
        elif target is None or target.startswith("..") or posixpath.isabs(target):
            found = Unresolved(f"module.{name} is not a local module inside the scan: outputs unknown")
        elif "count" in body or "for_each" in body or self.depth >= MAX_MODULE_DEPTH:
            found = Unresolved(f"module.{name} outputs of a counted or deep module are not evaluated")
        else:
            module = self.project._load_dir(target)
            if module is None or not module.files:
                found = Unresolved(f"module.{name}: no Terraform files in {target or '.'}")
            else:
                skip = ("source", "version", "providers", "depends_on")
                inputs = {k: resolve(v, self._scope({})) for k, v in body.items() if k not in skip}
                child = _Evaluator(
                    self.project,
                    module,
                    inputs,
                    f"{self.prefix}module.{name}.",
                    self.calls,
                    self.depth + 1,
                    self.root_dir,
                )
                found = {
                    out_name: resolve(out_body.get("value"), child._scope({}))
                    for parsed in module.files
                    for out_name, out_body in _blocks(parsed, "output")
                }
        self.outputs[name] = found
        return found

    def _module(self, path: str, name: str, body: dict[str, Any], lines: BlockLines) -> list[Resource]:
        source = body.get("source")
        target = _local_source(self.module.directory, source)
        if target is None:
            self.project.notify(
                path, f"module.{name}: source {source!r} is not a local path; its resources are not checked"
            )
            return []
        if self.depth >= MAX_MODULE_DEPTH:
            self.project.notify(path, f"module.{name}: nested deeper than {MAX_MODULE_DEPTH}; not followed")
            return []
        if target.startswith("..") or posixpath.isabs(target):
            self.project.notify(path, f"module.{name}: source {source!r} leaves the scan root; not followed")
            return []
        module = self.project._load_dir(target)
        if module is None or not module.files:
            self.project.notify(path, f"module.{name}: no Terraform files in {target or '.'}")
            return []
        call = ModuleCall(path, lines.start, lines.end, name)
        out: list[Resource] = []
        for suffix, iteration in self._iterations(path, f"module.{name}", body):
            skip = ("source", "version", "count", "for_each", "providers", "depends_on")
            inputs = {k: resolve(v, self._scope(iteration)) for k, v in body.items() if k not in skip}
            prefix = f"{self.prefix}module.{name}{suffix}."
            child = _Evaluator(
                self.project, module, inputs, prefix, (*self.calls, call), self.depth + 1, self.root_dir
            )
            out.extend(child.run())
        return out


def _dynamic_specs(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The ``dynamic "NAME" { for_each, iterator, content }`` blocks of a body, in order."""
    found: list[tuple[str, dict[str, Any]]] = []
    for entry in body.get("dynamic") or []:
        for name, spec in entry.items() if isinstance(entry, dict) else ():
            specs = spec if isinstance(spec, list) else [spec]
            found.extend((str(name), one) for one in specs if isinstance(one, dict))
    return found


def _iterator(spec: dict[str, Any], name: str) -> str:
    """The name a dynamic block's content uses for its element: ``iterator``, else the block's."""
    given = spec.get("iterator")
    if isinstance(given, str) and given.strip("${} "):
        return given.strip("${} ")
    return name


_META_ARGUMENTS = frozenset(
    {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection", "dynamic"}
)


def _dig(value: Any, rest: list[str], label: str) -> Any:
    for key in rest:
        if isinstance(value, Unresolved | Ref):
            return value
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return Unresolved(f"{label} has no element {key!r}", error=True)
    return value
