"""Go modules: go.mod ``require`` directives (``// indirect`` marks transitive ones), ``replace`` honoured."""

from __future__ import annotations

import re

from bastion.scan.deps.model import Package, ParseResult
from bastion.scan.deps.workspace import Workspace

__all__ = ["parse_go_mod"]

ECO = "Go"
_ENTRY = re.compile(r"^(?P<module>\S+)\s+(?P<version>v\S+)(?P<rest>.*)$")
_REPLACE = re.compile(
    r"^(?P<old>\S+)(?:\s+(?P<old_version>v\S+))?\s*=>\s*(?P<new>\S+)(?:\s+(?P<version>v\S+))?\s*$"
)


def parse_go_mod(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """go.mod; a module replaced by a local path is a skipped record, by another module is followed."""
    result = ParseResult()
    block: str | None = None
    requires: list[tuple[str, str, bool, int]] = []
    replaces: dict[tuple[str, str | None], tuple[str, str | None]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("//", 1)[0].strip()
        comment = raw.split("//", 1)[1] if "//" in raw else ""
        if block is not None:
            if line == ")":
                block = None
                continue
            directive, body = block, line
        else:
            head, _, body = line.replace("\t", " ").partition(" ")
            if head in {"require", "replace"} and body.strip() == "(":
                block = head
                continue
            directive, body = head, body.strip()
        if not body:
            continue
        if directive == "require":
            match = _ENTRY.match(body)
            if match is None:
                result.note("not a 'module version' requirement", number)
                continue
            requires.append(
                (match.group("module"), match.group("version"), "indirect" not in comment, number)
            )
        elif directive == "replace":
            match = _REPLACE.match(body)
            if match is None:
                result.note("not an 'old [version] => new [version]' replacement", number)
                continue
            old = (match.group("old"), match.group("old_version"))
            replaces[old] = (match.group("new"), match.group("version"))
    for module, version, direct, number in requires:
        reason = None
        name = module
        # https://go.dev/ref/mod#go-mod-file-replace: a versioned left side replaces only that
        # version and wins over an unversioned one for it
        replacement = replaces.get((module, version)) or replaces.get((module, None))
        if replacement is not None:
            target, new_version = replacement
            if new_version is None or target.startswith((".", "/")):
                reason = f"replaced by local path {target}"
            else:
                name, version = target, new_version
        result.packages.append(Package(ECO, name, None if reason else version, path, number, direct, reason))
    return result
