"""Go modules: go.mod ``require`` directives (``// indirect`` marks transitive ones), ``replace`` honoured."""

from __future__ import annotations

import re

from bastion.scan.deps.model import Package, ParseResult
from bastion.scan.deps.parsers import Workspace

__all__ = ["parse_go_mod"]

ECO = "Go"
_ENTRY = re.compile(r"^(?P<module>\S+)\s+(?P<version>v\S+)(?P<rest>.*)$")
_REPLACE = re.compile(r"^(?P<old>\S+)(?:\s+v\S+)?\s*=>\s*(?P<new>\S+)(?:\s+(?P<version>v\S+))?")


def parse_go_mod(text: str, path: str, _workspace: Workspace) -> ParseResult:
    """go.mod; a module replaced by a local path is a skipped record, by another module is followed."""
    result = ParseResult()
    block: str | None = None
    requires: list[tuple[str, str, bool, int]] = []
    replaces: dict[str, tuple[str, str | None]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("//", 1)[0].strip()
        comment = raw.split("//", 1)[1] if "//" in raw else ""
        if block is not None:
            if line == ")":
                block = None
                continue
            directive, body = block, line
        else:
            head, _, body = line.partition(" ")
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
            if match is not None:
                replaces[match.group("old")] = (match.group("new"), match.group("version"))
    for module, version, direct, number in requires:
        reason = None
        name = module
        if module in replaces:
            target, new_version = replaces[module]
            if new_version is None or target.startswith((".", "/")):
                reason = f"replaced by local path {target}"
            else:
                name, version = target, new_version
        result.packages.append(Package(ECO, name, None if reason else version, path, number, direct, reason))
    return result
