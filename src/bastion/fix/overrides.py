"""Pin a transitive npm dependency the package manager's own way: ``overrides`` (npm 8.3+) or
``resolutions`` (Yarn) in package.json, since no direct entry exists to raise.

The text is edited line by line to keep the file's layout, and the result must still parse
as JSON, or nothing is changed.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

__all__ = ["override_key", "pin_transitive"]

_KEYS = {"package-lock.json": "overrides", "npm-shrinkwrap.json": "overrides", "yarn.lock": "resolutions"}


def override_key(lockfile: str) -> str | None:
    """The package.json section that pins transitive versions for ``lockfile``'s manager;
    None when Bastion does not write one for it (pnpm keeps it under ``pnpm.overrides``)."""
    return _KEYS.get(PurePosixPath(lockfile).name.lower())


def pin_transitive(text: str, package: str, target: str, key: str) -> str | None:
    """``text`` (a package.json) with ``package`` pinned to ``target`` under ``key``; None when
    the file's layout is not one this edit understands (the result would not be valid JSON)."""
    lines = text.splitlines(keepends=True)
    entry = re.compile(r'^(?P<head>\s*"' + re.escape(package) + r'"\s*:\s*")[^"]*(?P<tail>".*)$', re.DOTALL)
    opener = re.compile(r'^(?P<indent>\s*)"' + re.escape(key) + r'"\s*:\s*\{(?P<rest>.*)$', re.DOTALL)
    for index, line in enumerate(lines):
        opened = opener.match(line)
        if opened is None:
            continue
        if opened["rest"].strip().startswith("}"):  # "overrides": {} on one line
            lines[index] = line.replace("{}", "{" + json.dumps(package) + ": " + json.dumps(target) + "}", 1)
            return _valid("".join(lines))
        for inner in range(index + 1, len(lines)):
            if re.match(r"^\s*\}", lines[inner]):
                break
            found = entry.match(lines[inner])
            if found is not None:
                lines[inner] = found["head"] + target + found["tail"]
                return _valid("".join(lines))
        indent = opened["indent"] * 2 or "    "
        lines.insert(index + 1, f'{indent}"{package}": "{target}",\n')
        return _valid("".join(lines)) or _valid("".join(lines).replace(f'"{target}",\n', f'"{target}"\n', 1))
    return _append_section(text, package, target, key)


def _append_section(text: str, package: str, target: str, key: str) -> str | None:
    body = text.rstrip()
    if not body.endswith("}"):
        return None
    head = body[:-1].rstrip()
    indent = re.search(r'^(\s+)"', text, re.MULTILINE)
    pad = indent.group(1) if indent else "  "
    section = f'{pad}"{key}": {{\n{pad * 2}"{package}": "{target}"\n{pad}}}'
    joined = f"{head},\n{section}\n}}" if not head.endswith("{") else f"{head}\n{section}\n}}"
    return _valid(joined + text[len(text.rstrip()) :])


def _valid(text: str) -> str | None:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return None
    return text
