"""Loading Sigma rule files with pySigma: every rule loads, or is refused with a one-line reason.

pySigma (the reference parser) reads the YAML, validates it and applies the modifiers; Bastion
compiles what it returns (:mod:`bastion.detect.sigma.compiler`). A file that is not YAML, a rule
pySigma rejects, a modifier it does not know, a feature Bastion cannot evaluate: each becomes a
:class:`Refusal` naming the file and the reason. Nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.modifiers import SigmaWideModifier, modifier_mapping
from sigma.policy import default_policy
from sigma.policy.regex_engine import RE2RegexEngine, RegexPattern

from bastion.detect.sigma.compiler import CompiledRule, compile_rule
from bastion.detect.sigma.correlate import CompiledCorrelation, compile_correlation
from bastion.detect.sigma.event import LogSource
from bastion.detect.sigma.pipeline import LogSourceSpec, Pipeline, default_pipelines
from bastion.detect.sigma.values import UnsupportedRule
from bastion.errors import InputError

__all__ = ["Refusal", "RuleSet", "covered", "load_placeholders", "load_rules", "rule_files"]

# The Sigma specification names UTF-16LE ``utf16le`` (an alias of ``wide``); pySigma 2.0.1 knows
# only ``wide``.
modifier_mapping.setdefault("utf16le", SigmaWideModifier)


class _QuietRE2(RE2RegexEngine):
    """pySigma's safe (re2) regex check without re2's own log line on stderr for every refused
    pattern: the refusal is reported once, with its reason, by ``sigma check``."""

    def compile(self, pattern: str, flags: int = 0) -> RegexPattern:
        """Compile as pySigma's engine does, with re2's error logging off."""
        import re

        import re2

        prefix = "".join(c for f, c in ((re.I, "i"), (re.M, "m"), (re.S, "s")) if int(flags) & int(f))
        options = re2.Options()
        options.log_errors = False
        return cast(RegexPattern, re2.compile(f"(?{prefix}){pattern}" if prefix else pattern, options))


if isinstance(default_policy.regex_engine, RE2RegexEngine):
    default_policy.regex_engine = _QuietRE2()

MAX_RULE_FILE_BYTES = 1024 * 1024
# libyaml's safe loader when PyYAML was built with it: the same documents, parsed in C (the
# pure-Python parser is three quarters of the time to load SigmaHQ)
_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Refusal:
    """A rule (or a whole file) that cannot be evaluated, and why."""

    path: str
    reason: str
    rule_id: str = ""
    title: str = ""

    def line(self) -> str:
        """``path: [id] reason`` on one line."""
        rid = f" [{self.rule_id}]" if self.rule_id else ""
        return f"{self.path}{rid}: {self.reason}"


@dataclass
class RuleSet:
    """Every rule that loaded, every one that did not, and the rules no pipeline feeds."""

    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    unmapped: list[CompiledRule] = field(default_factory=list)
    """Loaded rules whose log source no pipeline produces: they cannot fire on any log Bastion reads."""
    files: int = 0


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """YAML files under ``paths`` (a file is taken as given), sorted; InputError for a missing path."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()))
        elif path.is_file():
            out.append(path)
        else:
            raise InputError(f"{path}: no such rule file or directory")
    return out


def covered(logsource: LogSource, pipelines: Sequence[Pipeline]) -> bool:
    """True when some pipeline tags events with a log source the rule's ``logsource`` accepts."""
    want = logsource
    for pipeline in pipelines:
        for spec in (
            pipeline.spec.logsources
            if pipeline.spec.logsources_from is None
            else _lookup(pipeline, pipelines)
        ):
            got = (spec.product, spec.category, spec.service)
            if all(w is None or w == g for w, g in zip(want, got, strict=True)):
                return True
    return False


def _lookup(pipeline: Pipeline, pipelines: Sequence[Pipeline]) -> list[LogSourceSpec]:
    for p in pipelines:
        if p.name == pipeline.spec.logsources_from:
            return list(p.spec.logsources)
    return []


def load_placeholders(path: Path) -> dict[str, list[str]]:
    """A YAML mapping of placeholder name to a list of values (for the ``expand`` modifier)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read placeholders ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, Mapping) or not all(isinstance(v, list) for v in data.values()):
        raise InputError(f"{path}: placeholders must map each name to a list of values")
    return {str(k): [str(x) for x in v] for k, v in data.items()}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def load_rules(
    paths: Iterable[Path],
    placeholders: Mapping[str, list[str]] | None = None,
    pipelines: Sequence[Pipeline] | None = None,
) -> RuleSet:
    """Load and compile every rule under ``paths``."""
    pipelines = pipelines if pipelines is not None else default_pipelines()
    result = RuleSet()
    correlations: list[tuple[str, SigmaCorrelationRule]] = []
    by_ref: dict[str, CompiledRule] = {}
    for path in rule_files(paths):
        result.files += 1
        where = str(path)
        try:
            if path.stat().st_size > MAX_RULE_FILE_BYTES:
                result.refused.append(Refusal(where, f"file larger than {MAX_RULE_FILE_BYTES // 1024} KB"))
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.refused.append(Refusal(where, f"cannot read ({_first_line(exc)})"))
            continue
        try:
            documents = list(yaml.load_all(text, Loader=_YamlLoader))
            # references are resolved below, across files: a correlation may sit apart from its rules
            collection = SigmaCollection.from_dicts(documents, collect_errors=True, resolve_references=False)
        except (SigmaError, yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
            result.refused.append(Refusal(where, f"invalid rule file ({_first_line(exc)})"))
            continue
        per_rule = {_first_line(e) for rule in collection.rules for e in rule.errors}
        for error in getattr(collection, "errors", []):
            if _first_line(error) not in per_rule:  # errors of one rule are reported with its id below
                result.refused.append(Refusal(where, _first_line(error)))
        for rule in collection.rules:
            rid = str(rule.id) if rule.id else ""
            if rule.errors:
                result.refused.append(Refusal(where, _first_line(rule.errors[0]), rid, rule.title))
                continue
            if isinstance(rule, SigmaCorrelationRule):
                correlations.append((where, rule))
                continue
            try:
                compiled = compile_rule(rule, where, placeholders)
            except UnsupportedRule as exc:
                result.refused.append(Refusal(where, str(exc), rid, rule.title))
                continue
            except (SigmaError, ValueError, TypeError) as exc:
                result.refused.append(Refusal(where, f"cannot compile ({_first_line(exc)})", rid, rule.title))
                continue
            result.rules.append(compiled)
            by_ref[compiled.id] = compiled
            if compiled.name:
                by_ref[compiled.name] = compiled
            if not covered(compiled.logsource, pipelines):
                result.unmapped.append(compiled)
    for where, corr in correlations:
        try:
            result.correlations.append(compile_correlation(corr, by_ref, where))
        except UnsupportedRule as exc:
            result.refused.append(Refusal(where, str(exc), str(corr.id or ""), corr.title))
    return result
