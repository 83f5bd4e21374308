"""Validate Bastion's GitLab reports against GitLab's own 15.0.7 report schemas, and measure how
much of those schemas tests/ci/gitlab_shapes.py (the mirror the test suite runs) enforces.

The schema files are not part of this repository (they are GitLab's; read them in GitLab's
repository at lib/gitlab/ci/parsers/security/validators/schemas/15.0.7/ and save them, unchanged,
in one folder): pass that folder with --schemas.

1. Reports: real scans of examples/demo-app (every scanner, the demo advisory database), the deps
   and IaC fixtures, and a synthetic project whose findings push every limit (a fix text over
   GitLab's 7,000 characters, a title over 255, a rule link that is no URL). Each scan's JSON is
   rendered as the three report types GitLab reads (``bastion ci render``) and as the one SAST
   report of ``--format gitlab``; each is validated with jsonschema against the real schema.
2. Mirror: for every field of every report that the real schema constrains (a required key, an
   enum, a pattern, a length, a type, a minimum item count), one mutated report breaks that
   constraint alone; the real schema must reject it, and so must gitlab_shapes.check_report.
   A mutation the real schema rejects and the mirror accepts is a gap, listed by constraint.

Usage: python bench/ci/gitlab_schema_check.py --schemas DIR [--work build/gitlab-check]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import io
import json
import os
import random
import string
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema

from bastion.cli.main import main

REPO = Path(__file__).resolve().parents[2]

SCHEMA_FILES = {
    "sast": "sast-report-format.json",
    "secret_detection": "secret-detection-report-format.json",  # bastion: ignore[sast.bandit.B105] a name
    "dependency_scanning": "dependency-scanning-report-format.json",
}
TARGETS = {
    "gitlab-secret-detection": "secret_detection",
    "gitlab-dependency-scanning": "dependency_scanning",
    "gitlab-sast": "sast",
    "gitlab": "sast",  # --format gitlab: every finding in one SAST report
}
Mutation = tuple[str, str, dict[str, Any]]
"""(constraint kind, JSON path, mutated report)."""


def _load_mirror() -> Callable[[dict[str, Any], str], None]:
    """tests/ci/gitlab_shapes.py's check_report (tests/ci is not a package)."""
    spec = importlib.util.spec_from_file_location("gitlab_shapes", REPO / "tests" / "ci" / "gitlab_shapes.py")
    if spec is None or spec.loader is None:
        raise SystemExit("tests/ci/gitlab_shapes.py: cannot load")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check: Callable[[dict[str, Any], str], None] = module.check_report
    return check


check_report = _load_mirror()


def _bastion(*args: str) -> int:
    """Run the CLI in this process, its output discarded; its exit code."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(args))


def _limits_project(root: Path) -> Path:
    """A small git repository whose findings push GitLab's limits (see the module docstring)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n",
        encoding="utf-8",
    )
    rng = random.Random(7)  # a made-up key, built at run time so this file holds none
    key = "sk_live_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
    (root / "settings.py").write_text(f'STRIPE_KEY = "{key}"\n', encoding="utf-8")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(
            ["git", "-c", "user.email=b@example.invalid", "-c", "user.name=b", *command],
            cwd=root,
            check=True,
        )
    return root


def _stretch(report_path: Path, out: Path) -> Path:
    """The JSON report of ``report_path`` with every finding's texts made as long and odd as
    findings can be: a fix of 9,000 characters, a 400-character title, a help link that is a path."""
    document = json.loads(report_path.read_text(encoding="utf-8"))
    for finding in document["findings"]:
        finding["fix"] = "Rotate the credential and read it from the environment. " * 160
        finding["title"] = "A very long title " * 23
        finding["help_uri"] = "docs/rules/" + finding["rule_id"] + ".md"
        finding["message"] = "x" * 2_000
    out.write_text(json.dumps(document), encoding="utf-8")
    return out


def make_reports(work: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Scan the targets and render every GitLab report: name -> (schema kind, report)."""
    database = work / "advisories.sqlite3"
    database.unlink(missing_ok=True)
    examples = REPO / "examples" / "advisories"
    _bastion("db", "import", str(examples / "osv"), "--database", str(database))
    _bastion("db", "import", "--kev", str(examples / "kev.json"), "--database", str(database))
    os.environ["BASTION_ADVISORY_DB"] = str(database)  # what the scans below read
    fixtures = REPO / "tests" / "fixtures"
    scans = {
        "demo-app": [str(REPO / "examples" / "demo-app")],
        "deps-fixtures": [str(fixtures / "deps"), "--scanners", "deps"],
        "iac-fixtures": [str(fixtures / "iac"), "--scanners", "iac,secrets"],
        "limits": [str(_limits_project(work / "limits")), "--scanners", "secrets,sast", "--git-history"],
    }
    json_reports: dict[str, Path] = {}
    for name, args in scans.items():
        out = work / f"{name}.json"
        code = _bastion(
            "scan",
            *args,
            "--format",
            "json",
            "-o",
            str(out),
            "--fail-on",
            "none",
            "--config",
            str(work / "none.toml"),
        )
        if code != 0 or not out.is_file():
            raise SystemExit(f"bastion scan {name} failed (exit {code})")
        json_reports[name] = out
    json_reports["limits-stretched"] = _stretch(json_reports["limits"], work / "limits-stretched.json")
    reports: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, source in json_reports.items():
        for target, kind in TARGETS.items():
            out = work / f"{name}.{target}.json"
            if _bastion("ci", "render", str(source), "--to", f"{target}={out}") != 0:
                raise SystemExit(f"bastion ci render {source} --to {target} failed")
            reports[f"{name} {target}"] = (kind, json.loads(out.read_text(encoding="utf-8")))
    return reports


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and len(node) == 1:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _set(report: dict[str, Any], path: list[Any], value: Any, delete: bool = False) -> dict[str, Any]:
    mutated = copy.deepcopy(report)
    parent: Any = mutated
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return mutated


def _wrong_type(kind: Any) -> Any:
    kinds = kind if isinstance(kind, list) else [kind]
    for candidate in ({"not": "this"}, ["not", "this"], "not a number", 12345):
        if not any(_is(candidate, k) for k in kinds):
            return candidate
    return None


def _is(value: Any, kind: str) -> bool:
    checks = {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
    }
    return checks.get(kind, False)


def mutations(schema: dict[str, Any], report: dict[str, Any]) -> Iterator[Mutation]:
    """One mutation per constraint the schema puts on a value present in ``report`` (arrays: the
    constraints of their first item only, which every other item shares)."""

    def walk(node: dict[str, Any], value: Any, path: list[Any]) -> Iterator[Mutation]:
        node = _resolve(schema, node)
        where = "/".join(str(p) for p in path) or "(root)"
        if "type" in node and path:
            wrong = _wrong_type(node["type"])
            if wrong is not None:
                yield "type", where, _set(report, path, wrong)
        if "enum" in node and path:
            yield "enum", where, _set(report, path, "NOT-IN-THE-ENUM")
        if isinstance(value, str) and path:
            if "pattern" in node:
                yield "pattern", where, _set(report, path, " no match ")
            if node.get("minLength", 0) > 0:
                yield "minLength", where, _set(report, path, "")
            if "maxLength" in node:
                yield "maxLength", where, _set(report, path, "x" * (node["maxLength"] + 1))
        if isinstance(value, dict):
            for key in node.get("required", []):
                if key in value:
                    yield "required", f"{where}/{key}", _set(report, [*path, key], None, delete=True)
            for key, child in node.get("properties", {}).items():
                if key in value:
                    yield from walk(child, value[key], [*path, key])
        if isinstance(value, list):
            if node.get("minItems", 0) > 0 and path:
                yield "minItems", where, _set(report, path, [])
            if value and isinstance(node.get("items"), dict):
                yield from walk(node["items"], value[0], [*path, 0])

    yield from walk(schema, report, [])


def _mirror_rejects(report: dict[str, Any], kind: str) -> bool:
    try:
        check_report(report, kind)
    except (AssertionError, ValueError, TypeError, KeyError):
        return True
    return False


def run(schemas_dir: Path, work: Path) -> int:
    """Validate, mutation-test, print the results; 0 when every report is valid and no gap is left."""
    schemas = {}
    for kind, name in SCHEMA_FILES.items():
        path = schemas_dir / name
        if not path.is_file():
            raise SystemExit(f"{path}: missing; save GitLab's 15.0.7 {name} in {schemas_dir}")
        schemas[kind] = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft7Validator.check_schema(schemas[kind])
    work.mkdir(parents=True, exist_ok=True)
    (work / "none.toml").write_text("", encoding="utf-8")
    reports = make_reports(work)
    invalid = 0
    print("| report | kind | vulnerabilities | real schema | gitlab_shapes |")
    print("| --- | --- | ---: | --- | --- |")
    for name, (kind, report) in reports.items():
        validator = jsonschema.Draft7Validator(schemas[kind])
        errors = sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
        mirror = "rejects" if _mirror_rejects(report, kind) else "passes"
        verdict = "valid" if not errors else f"{len(errors)} errors: {errors[0].message[:80]}"
        invalid += bool(errors) + (mirror != "passes")
        print(f"| {name} | {kind} | {len(report['vulnerabilities'])} | {verdict} | {mirror} |")
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    gaps: set[tuple[str, str, str]] = set()
    for kind, report in reports.values():
        validator = jsonschema.Draft7Validator(schemas[kind])
        for constraint, where, mutated in mutations(schemas[kind], report):
            if validator.is_valid(mutated):
                continue  # e.g. a wrong type the schema allows; not a constraint on this value
            total[constraint] += 1
            if _mirror_rejects(mutated, kind):
                caught[constraint] += 1
            else:
                generic = "/".join("N" if part.isdigit() else part for part in where.split("/"))
                gaps.add((kind, constraint, generic))
    print()
    print("| constraint broken | mutations the real schema rejects | gitlab_shapes rejects too |")
    print("| --- | ---: | ---: |")
    for constraint in sorted(total):
        print(f"| {constraint} | {total[constraint]} | {caught[constraint]} |")
    print(f"| all | {sum(total.values())} | {sum(caught.values())} |")
    for kind, constraint, where in sorted(gaps):
        print(f"GAP: {kind}: {constraint} at {where} is not checked by gitlab_shapes")
    return 0 if not invalid and not gaps else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--schemas", type=Path, required=True, help="folder with GitLab's three 15.0.7 schemas"
    )
    parser.add_argument("--work", type=Path, default=REPO / "build" / "gitlab-check", help="scratch folder")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    sys.exit(run(arguments.schemas, arguments.work))
