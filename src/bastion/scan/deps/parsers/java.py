"""Java manifests: pom.xml (properties, dependencyManagement, parents in the repo) and gradle.lockfile."""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET  # bastion: ignore[sast.bandit.B405] types only; parsing uses defusedxml
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from bastion.scan.deps.model import ManifestError, Package, ParseResult
from bastion.scan.deps.workspace import Workspace

__all__ = ["parse_gradle_lockfile", "parse_pom"]

ECO = "Maven"
_PROPERTY = re.compile(r"\$\{([^}]+)\}")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_DEPENDENCY_TAG = re.compile(r"<(?:\w+:)?dependency[\s>]")
MAX_PARENT_DEPTH = 10


@dataclass
class _Pom:
    path: str
    root: ET.Element
    ns: str
    properties: dict[str, str] = field(default_factory=dict)
    managed: dict[str, str] = field(default_factory=dict)


def _child(element: ET.Element | None, ns: str, *names: str) -> str | None:
    for name in names:
        if element is None:
            return None
        element = element.find(f"{ns}{name}")
    if element is None or element.text is None:
        return None
    return element.text.strip()


def _load(text: str, path: str) -> _Pom:
    try:
        root = SafeET.fromstring(text)
    except DefusedXmlException as exc:
        raise ManifestError(f"refused unsafe XML ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise ManifestError(f"invalid XML: {exc}", exc.position[0]) from None
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag != f"{ns}project":
        raise ManifestError("not a Maven POM (root element is not <project>)")
    return _Pom(path, root, ns)


def _parent_pom(pom: _Pom, workspace: Workspace) -> _Pom | None:
    parent = pom.root.find(f"{pom.ns}parent")
    if parent is None:
        return None
    group, artifact = _child(parent, pom.ns, "groupId"), _child(parent, pom.ns, "artifactId")
    relative = _child(parent, pom.ns, "relativePath")
    candidates = []
    if relative != "":
        rel = relative or "../pom.xml"
        if not rel.endswith(".xml"):
            rel = posixpath.join(rel, "pom.xml")
        candidates.append(posixpath.normpath(posixpath.join(posixpath.dirname(pom.path), rel)))
    candidates += sorted(f for f in workspace.files if f.endswith("pom.xml") and f != pom.path)
    for candidate in candidates:
        body = workspace.read(candidate)
        if body is None:
            continue
        try:
            found = _load(body, candidate)
        except ManifestError:
            continue
        if _child(found.root, found.ns, "artifactId") == artifact and (
            _coordinate(found, "groupId") == group
        ):
            return found
    return None


def _coordinate(pom: _Pom, name: str) -> str | None:
    return _child(pom.root, pom.ns, name) or _child(pom.root, pom.ns, "parent", name)


def _resolve(value: str | None, properties: dict[str, str]) -> str | None:
    if value is None:
        return None
    for _ in range(10):
        replaced = _PROPERTY.sub(lambda m: properties.get(m.group(1), m.group(0)), value)
        if replaced == value:
            break
        value = replaced
    return value


def _chain(pom: _Pom, workspace: Workspace) -> list[_Pom]:
    """The POM and its parents in the repository, child first."""
    chain = [pom]
    while len(chain) < MAX_PARENT_DEPTH:
        parent = _parent_pom(chain[-1], workspace)
        if parent is None or any(p.path == parent.path for p in chain):
            break
        chain.append(parent)
    return chain


def _properties(chain: list[_Pom]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for pom in reversed(chain):  # parents first, the child overrides
        props = pom.root.find(f"{pom.ns}properties")
        for prop in props if props is not None else ():
            if isinstance(prop.tag, str) and prop.text is not None:
                merged[prop.tag.removeprefix(pom.ns)] = prop.text.strip()
        for key in ("version", "groupId", "artifactId"):
            value = _coordinate(pom, key)
            if value is not None:
                merged[f"project.{key}"] = value
                merged[f"pom.{key}"] = value
        parent_version = _child(pom.root, pom.ns, "parent", "version")
        if parent_version:
            merged["project.parent.version"] = parent_version
    return merged


def _dependency_lines(text: str) -> list[int]:
    cleaned = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return [cleaned.count("\n", 0, m.start()) + 1 for m in _DEPENDENCY_TAG.finditer(cleaned)]


def parse_pom(text: str, path: str, workspace: Workspace) -> ParseResult:
    """A Maven pom.xml; versions from properties, dependencyManagement and parent POMs in the repository."""
    result = ParseResult()
    pom = _load(text, path)
    chain = _chain(pom, workspace)
    if pom.root.find(f"{pom.ns}parent") is not None and len(chain) == 1:
        result.note("parent POM is not in the repository; inherited versions and properties are unknown")
    properties = _properties(chain)
    managed: dict[str, str] = {}
    for member in reversed(chain):
        for dep in member.root.iterfind(
            f"{member.ns}dependencyManagement/{member.ns}dependencies/{member.ns}dependency"
        ):
            group = _resolve(_child(dep, member.ns, "groupId"), properties)
            key = f"{group}:{_resolve(_child(dep, member.ns, 'artifactId'), properties)}"
            version = _resolve(_child(dep, member.ns, "version"), properties)
            if version:
                managed[key] = version
    lines = _dependency_lines(text)
    ns = pom.ns
    all_deps = list(pom.root.iter(f"{ns}dependency"))
    line_of = {id(dep): (lines[i] if i < len(lines) else None) for i, dep in enumerate(all_deps)}
    wanted = list(pom.root.iterfind(f"{ns}dependencies/{ns}dependency"))
    for profile in pom.root.iterfind(f"{ns}profiles/{ns}profile"):
        wanted += list(profile.iterfind(f"{ns}dependencies/{ns}dependency"))
    for dep in wanted:
        group = _resolve(_child(dep, ns, "groupId"), properties)
        artifact = _resolve(_child(dep, ns, "artifactId"), properties)
        line = line_of.get(id(dep))
        if not group or not artifact:
            result.note("dependency without groupId or artifactId", line)
            continue
        name = f"{group}:{artifact}"
        raw = _child(dep, ns, "version")
        version = _resolve(raw, properties) if raw else managed.get(name)
        scope = _child(dep, ns, "scope")
        reason = None
        if version is None:
            reason = "version not declared here nor managed in the repository's POMs"
        elif "${" in version:
            reason, version = f"version {version} refers to an undefined property", None
        elif version[:1] in "[(" or "," in version:
            reason, version = f"version range {version}, not a pinned version", None
        result.packages.append(Package(ECO, name, version, path, line, True, reason, scope))
    return result


_GRADLE = re.compile(r"^(?P<group>[^:#\s]+):(?P<artifact>[^:\s]+):(?P<version>[^=\s]+)=(?P<conf>.*)$")


def parse_gradle_lockfile(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """gradle.lockfile (``group:artifact:version=configurations``)."""
    result = ParseResult()
    if (
        path.endswith(".lockfile")
        and not path.endswith("gradle.lockfile")
        and "gradle" not in text[:300].lower()
    ):
        return result  # some other tool's *.lockfile
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("empty="):
            continue
        match = _GRADLE.match(line)
        if match is None:
            result.note("not a group:artifact:version=configurations line", number)
            continue
        configurations = match.group("conf")
        scope = (
            "test" if configurations and all("test" in c.lower() for c in configurations.split(",")) else None
        )
        result.packages.append(
            Package(
                ECO,
                f"{match.group('group')}:{match.group('artifact')}",
                match.group("version"),
                path,
                number,
                None,
                None,
                scope,
            )
        )
    return result
