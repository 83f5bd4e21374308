"""Run semgrep as a subprocess, fully offline, and map its JSON output to findings.

semgrep runs with local rule files only, ``--metrics=off`` and no version check, in a
throw-away HOME/XDG directory so it never reads or writes the user's ``~/.semgrep``
(login token, settings) and never sees a ``.semgrepignore`` or ``.git`` of the target:
the walk already chose the files, which are staged in a scratch tree (see
:func:`run_semgrep`). A failure (bad exit, bad JSON, timeout) becomes a
:class:`~bastion.scan.sast.common.Problem`; this module never raises for a semgrep run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess  # bastion: ignore[sast.bandit.B404] runs semgrep, an argument list and no shell
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bastion.findings import Confidence, Finding, Location, Severity, make_fingerprint
from bastion.rules import RuleInfo
from bastion.scan.base import SourceFile
from bastion.scan.sast.common import Problem, SourceLines, ToolOutcome, evidence_text
from bastion.scan.sast.cwe import parse_cwe_ids

__all__ = [
    "SEMGREP_MISSING",
    "RuleSet",
    "find_semgrep",
    "load_rule_set",
    "run_semgrep",
    "select_files",
    "semgrep_rule_infos",
]

log = logging.getLogger(__name__)

SEMGREP_MISSING = "semgrep not installed (pip install 'bastion[semgrep]')"
"""The skip reason shown when no semgrep executable is found."""

_SEVERITY = {
    "ERROR": Severity.HIGH,
    "WARNING": Severity.MEDIUM,
    "INFO": Severity.LOW,
    # semgrep's newer severity scale
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}
_CONFIDENCE = {"HIGH": Confidence.HIGH, "MEDIUM": Confidence.MEDIUM, "LOW": Confidence.LOW}

_ANY_FILE = "*"
"""Marker in a suffix set: the rules apply to every file (generic/regex rules)."""

# Extensions per semgrep language name (https://semgrep.dev/docs/supported-languages).
_LANGUAGE_SUFFIXES: dict[str, frozenset[str]] = {
    "python": frozenset({".py", ".pyi", ".pyw"}),
    "javascript": frozenset({".js", ".jsx", ".mjs", ".cjs"}),
    "typescript": frozenset({".ts", ".tsx", ".mts", ".cts"}),
    "java": frozenset({".java"}),
    "go": frozenset({".go"}),
    "ruby": frozenset({".rb"}),
    "php": frozenset({".php"}),
    "c": frozenset({".c", ".h"}),
    "cpp": frozenset({".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h"}),
    "csharp": frozenset({".cs"}),
    "kotlin": frozenset({".kt", ".kts"}),
    "scala": frozenset({".scala"}),
    "rust": frozenset({".rs"}),
    "swift": frozenset({".swift"}),
    "bash": frozenset({".sh", ".bash"}),
    "yaml": frozenset({".yml", ".yaml"}),
    "json": frozenset({".json"}),
    "terraform": frozenset({".tf", ".hcl", ".tfvars"}),
    "html": frozenset({".html", ".htm"}),
    "xml": frozenset({".xml"}),
    "solidity": frozenset({".sol"}),
    "lua": frozenset({".lua"}),
    "ocaml": frozenset({".ml", ".mli"}),
    "elixir": frozenset({".ex", ".exs"}),
    "r": frozenset({".r"}),
    "julia": frozenset({".jl"}),
    "dart": frozenset({".dart"}),
    "clojure": frozenset({".clj", ".cljs", ".cljc", ".edn"}),
    "vue": frozenset({".vue"}),
    "apex": frozenset({".cls"}),
    "jsonnet": frozenset({".jsonnet", ".libsonnet"}),
    "dockerfile": frozenset({".dockerfile"}),
}
_ALIASES = {
    "py": "python",
    "python2": "python",
    "python3": "python",
    "js": "javascript",
    "ts": "typescript",
    "golang": "go",
    "rb": "ruby",
    "c++": "cpp",
    "c#": "csharp",
    "kt": "kotlin",
    "sh": "bash",
    "hcl": "terraform",
    "tf": "terraform",
    "sol": "solidity",
    "ex": "elixir",
    "docker": "dockerfile",
}
_DOCKERFILE_NAMES = ("dockerfile", "containerfile")


@dataclass(frozen=True)
class RuleSet:
    """The rule files of one run and the file suffixes their languages cover."""

    paths: tuple[Path, ...]
    suffixes: frozenset[str]
    """Lower-case extensions (``.py``); contains ``"*"`` when some rule applies to any file."""
    dockerfiles: bool = False
    """True when some rule targets Dockerfiles, which are matched by name."""


def find_semgrep() -> Path | None:
    """The semgrep executable: on PATH, else next to the running interpreter (a venv's bin)."""
    found = shutil.which("semgrep")
    if found:
        return Path(found)
    beside = Path(sys.executable).parent / ("semgrep.exe" if os.name == "nt" else "semgrep")
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    return None


def load_rule_set(paths: Sequence[Path]) -> RuleSet:
    """Read the ``languages`` of every rule in ``paths`` (files or directories of YAML/JSON).

    Raises ``ValueError`` naming the file when one is not a readable semgrep rule file.
    A language Bastion has no extension list for selects every file: semgrep itself
    then decides, so no rule is silently starved of files.
    """
    suffixes: set[str] = set()
    dockerfiles = False
    for language in _languages(paths):
        name = _ALIASES.get(language, language)
        if name == "dockerfile":
            dockerfiles = True
        suffixes.update(_LANGUAGE_SUFFIXES.get(name, {_ANY_FILE}))
    return RuleSet(tuple(paths), frozenset(suffixes), dockerfiles)


def _rule_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.suffix.lower() in {".yml", ".yaml", ".json"} and p.is_file()
            )
        else:
            yield path


def _languages(paths: Sequence[Path]) -> Iterator[str]:
    for path in _rule_files(paths):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read semgrep rule file {path}: {exc}") from exc
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(f"semgrep rule file {path} is not valid YAML: {first}") from exc
        rules = data.get("rules") if isinstance(data, dict) else None
        if not isinstance(rules, list):
            raise ValueError(f"semgrep rule file {path} has no 'rules' list")
        for rule in rules:
            languages = rule.get("languages", []) if isinstance(rule, dict) else []
            if isinstance(languages, list):
                yield from (str(lang).strip().lower() for lang in languages)


def select_files(files: Iterable[SourceFile], rules: RuleSet) -> list[SourceFile]:
    """The files whose extension (or Dockerfile name) matches a language of ``rules``."""
    if _ANY_FILE in rules.suffixes:
        return list(files)
    chosen = []
    for file in files:
        name = file.name.lower()
        if file.suffix in rules.suffixes or (rules.dockerfiles and name.startswith(_DOCKERFILE_NAMES)):
            chosen.append(file)
    return chosen


def run_semgrep(
    executable: Path, files: Sequence[SourceFile], rules: RuleSet, timeout_s: float
) -> ToolOutcome:
    """Run semgrep with ``rules`` over ``files`` in one process limited to ``timeout_s``.

    The files are staged (hard-linked, or copied across devices) under their relative
    paths in a scratch tree, and semgrep scans that one directory. Passing each file as
    its own target costs semgrep a project lookup per file: 27 s instead of 4 s for the
    49 files of Bastion's own src/ on 2 cores, and the command line grows with the repo.
    An empty ``.semgrepignore`` at the top of the tree turns off semgrep's default
    ignores (``tests/``, ``node_modules/``, ...), which would silently drop walked files.
    """
    outcome = ToolOutcome()
    if not files or not rules.paths:
        return outcome
    with tempfile.TemporaryDirectory(prefix="bastion-semgrep-") as scratch_name:
        scratch = Path(scratch_name)
        home = scratch / "home"
        home.mkdir()
        tree = scratch / "target"
        staged = _stage(files, tree, outcome)
        if staged:
            command = [*_base_command(executable, rules), str(tree)]
            data = _run(command, _environment(home), home, timeout_s, len(staged), outcome)
            if data is not None:
                _collect(data, staged, f"{tree}{os.sep}", SourceLines(), outcome)
    return outcome


def _stage(files: Sequence[SourceFile], tree: Path, outcome: ToolOutcome) -> dict[str, SourceFile]:
    """Link or copy ``files`` under ``tree``; staged path -> source file."""
    tree.mkdir()
    (tree / ".semgrepignore").write_text(
        "# Empty on purpose: Bastion's walk already chose these files.\n", encoding="utf-8"
    )
    staged: dict[str, SourceFile] = {}
    for file in files:
        relative = Path(file.relpath)
        if relative.is_absolute() or ".." in relative.parts:
            outcome.problems.append(Problem("semgrep: path outside the target, not scanned", file.relpath))
            continue
        destination = tree / relative
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(file.path, destination)
            except OSError:  # another device, or links not allowed: copy instead
                shutil.copyfile(file.path, destination)
        except OSError as exc:
            outcome.problems.append(
                Problem(f"semgrep: cannot stage file: {exc.strerror or exc}", file.relpath)
            )
            continue
        staged[str(destination)] = file
    return staged


def _base_command(executable: Path, rules: RuleSet) -> list[str]:
    command = [
        str(executable),
        "scan",
        "--json",
        "--metrics=off",
        "--disable-version-check",
        "--quiet",
        "--no-git-ignore",
        "--no-rewrite-rule-ids",
        # the walk already enforced Bastion's size limit; semgrep's own 1 MB cut would
        # drop files silently
        "--max-target-bytes=0",
    ]
    for path in rules.paths:
        command += ["--config", str(path)]
    return command


def _environment(home: Path) -> dict[str, str]:
    """The parent's environment without SEMGREP_* settings, HOME and XDG dirs in ``home``.

    Dropping inherited SEMGREP_* variables keeps an ambient ``SEMGREP_APP_TOKEN`` or
    ``SEMGREP_RULES`` from turning the run into a logged-in or registry-backed one.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEMGREP_")}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home),
            "XDG_CACHE_HOME": str(home),
            "SEMGREP_SEND_METRICS": "off",
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
            "SEMGREP_SETTINGS_FILE": str(home / "settings.yml"),
            "SEMGREP_LOG_FILE": str(home / "semgrep.log"),
            "SEMGREP_VERSION_CACHE_PATH": str(home / "semgrep_version"),
        }
    )
    return env


def _run(
    command: list[str], env: Mapping[str, str], cwd: Path, timeout_s: float, count: int, outcome: ToolOutcome
) -> dict[str, Any] | None:
    """Run semgrep; its parsed JSON, or None after recording why not."""
    try:
        proc = subprocess.Popen(  # bastion: ignore[sast.bandit.B603] fixed argv: semgrep path and our flags
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # so a timeout can stop semgrep-core children too
        )
    except OSError as exc:
        outcome.problems.append(Problem(f"semgrep could not start: {exc.strerror or exc}"))
        return None
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill(proc)
        outcome.problems.append(Problem(f"semgrep timed out after {timeout_s:g} s on {count} files"))
        return None
    try:
        data = json.loads(stdout)
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
    except ValueError:
        outcome.problems.append(
            Problem(f"semgrep failed (exit {proc.returncode}): {_last_line(stderr) or 'no JSON output'}")
        )
        return None
    if proc.returncode not in (0, 1) and not data.get("errors"):
        outcome.problems.append(
            Problem(f"semgrep failed (exit {proc.returncode}): {_last_line(stderr) or 'no error reported'}")
        )
    return data


def _kill(proc: subprocess.Popen[bytes]) -> None:
    # ProcessLookupError: it exited between the timeout and the kill; nothing left to stop.
    with contextlib.suppress(ProcessLookupError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    proc.communicate()


def _last_line(stream: bytes) -> str:
    text = stream.decode("utf-8", errors="replace").strip()
    return text.splitlines()[-1][:300] if text else ""


def _collect(
    data: Mapping[str, Any],
    by_path: Mapping[str, SourceFile],
    prefix: str,
    lines: SourceLines,
    outcome: ToolOutcome,
) -> None:
    """Turn semgrep's JSON into findings and problems; ``prefix`` is the staged tree's path."""
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            outcome.problems.append(_problem(error, by_path, prefix))
    for result in data.get("results") or []:
        finding = _finding(result, by_path, lines) if isinstance(result, dict) else None
        if finding is not None:
            outcome.findings.append(finding)


def _source(path: object, by_path: Mapping[str, SourceFile]) -> SourceFile | None:
    if not isinstance(path, str):
        return None
    return by_path.get(path) or by_path.get(os.path.normpath(os.path.abspath(path)))


def _problem(error: Mapping[str, Any], by_path: Mapping[str, SourceFile], prefix: str) -> Problem:
    kind = error.get("type")
    name = kind[0] if isinstance(kind, list) and kind else kind
    # semgrep names files by their staged path; show the target-relative one instead
    text = str(error.get("message") or "").replace(prefix, "").strip()
    first = text.splitlines()[0] if text else "no message"
    label = f"semgrep {name}" if isinstance(name, str) and name else "semgrep"
    source = _source(error.get("path"), by_path)
    return Problem(f"{label}: {first[:300]}", source.relpath if source else None)


def _finding(
    result: Mapping[str, Any], by_path: Mapping[str, SourceFile], lines: SourceLines
) -> Finding | None:
    source = _source(result.get("path"), by_path)
    check_id = result.get("check_id")
    start = result.get("start") or {}
    end = result.get("end") or {}
    if source is None or not isinstance(check_id, str) or not isinstance(start.get("line"), int):
        log.debug("ignoring semgrep result outside the scanned files: %r", result.get("path"))
        return None
    extra = result.get("extra") or {}
    metadata = extra.get("metadata") or {}
    start_line = int(start["line"])
    end_line = int(end.get("line", start_line))
    location = Location(
        path=source.relpath,
        start_line=start_line,
        end_line=max(end_line, start_line),
        start_column=start.get("col"),
        end_column=end.get("col"),
    )
    message = " ".join(str(extra.get("message", "")).split())
    snippet = lines.region(source.path, start_line, end_line)
    rule_id = f"sast.semgrep.{check_id}"
    references = metadata.get("references")
    if isinstance(references, str):
        references = [references]
    help_uri = next(
        (r for r in references or [] if isinstance(r, str) and r.startswith(("https://", "http://"))), ""
    )
    return Finding(
        rule_id=rule_id,
        scanner="sast",
        title=str(metadata.get("title") or _first_sentence(message) or check_id),
        severity=_SEVERITY.get(str(extra.get("severity", "")).upper(), Severity.MEDIUM),
        location=location,
        message=message,
        fingerprint=make_fingerprint(rule_id, location, "\n".join(snippet) or message),
        evidence=evidence_text(snippet),
        confidence=_CONFIDENCE.get(str(metadata.get("confidence", "")).upper(), Confidence.MEDIUM),
        cwe=parse_cwe_ids(metadata.get("cwe")),
        fix=str(metadata.get("remediation") or ""),
        help_uri=help_uri,
        metadata={"tool": "semgrep", "check_id": check_id},
    )


def semgrep_rule_infos(path: Path) -> tuple[RuleInfo, ...]:
    """The rules of one semgrep rule file as :class:`RuleInfo`, read the way findings are built
    (title, severity, CWE, remediation and first reference link from each rule's metadata).
    Raises ``ValueError`` naming the file when it is not a semgrep rule file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read semgrep rule file {path}: {exc}") from exc
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, list):
        raise ValueError(f"{path}: not a semgrep rule file (no 'rules' list)")
    infos = []
    for rule in rules:
        if not isinstance(rule, dict) or "id" not in rule:
            continue
        check_id = str(rule["id"])
        found = rule.get("metadata")
        metadata: dict[str, Any] = found if isinstance(found, dict) else {}
        message = " ".join(str(rule.get("message", "")).split())
        references = metadata.get("references")
        if isinstance(references, str):
            references = [references]
        help_uri = next(
            (r for r in references or [] if isinstance(r, str) and r.startswith(("https://", "http://"))), ""
        )
        infos.append(
            RuleInfo(
                id=f"sast.semgrep.{check_id}",
                title=str(metadata.get("title") or _first_sentence(message) or check_id),
                severity=_SEVERITY.get(str(rule.get("severity", "")).upper(), Severity.MEDIUM),
                scanner="sast",
                cwe=parse_cwe_ids(metadata.get("cwe")),
                fix=str(metadata.get("remediation") or ""),
                help_uri=help_uri,
                equivalent_ids={"semgrep": check_id},
                description=message,
            )
        )
    return tuple(infos)


def _first_sentence(message: str) -> str:
    sentence = message.split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= 100 else sentence[:99] + "\u2026"
