"""The schema of ``js/rules.yml``: sources, sinks and sanitizers for JavaScript/TypeScript.

The entries use the Python rules' models (:class:`~bastion.scan.sast.taint.spec.SourceRule`,
:class:`~bastion.scan.sast.taint.spec.SanitizerRule`) and extend the sink model with what
JavaScript calls need: an options object that makes a call dangerous (``{shell: true}``,
``{noent: true}``) or safe (``{schema: JSON_SCHEMA}``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError

from bastion.scan.sast.taint.spec import ApiChecks, SanitizerRule, SinkRule, SourceRule, _Strict

__all__ = ["JsRuleBook", "JsRules", "JsSinkRule", "js_rule_book", "load_js_rules"]

_DATA_FILE = "rules.yml"


class JsSinkRule(SinkRule):
    """A dangerous JavaScript call; ``args`` index positional arguments (-1 is the last)."""

    when_option: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)
    """The call is a sink only when its options object sets one of these literal values."""
    safe_option: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)
    """An options object setting one of these values makes the call safe."""
    option_fields: tuple[str, ...] = ()
    """When the argument is an options object, only these fields of it are dangerous
    (``client.search(base, {filter, attributes})``: ``filter``)."""
    string_only: bool = False
    """Only a string (not a function) argument is dangerous (``setTimeout``)."""


class JsRules(_Strict):
    """The whole ``js/rules.yml`` document."""

    version: Literal[1]
    sources: tuple[SourceRule, ...]
    request_names: tuple[str, ...]
    """Parameter names that hold an Express request wherever they appear."""
    route_methods: tuple[str, ...]
    """``app.get(path, handler)``: the first parameter of ``handler`` is the request."""
    sinks: tuple[JsSinkRule, ...]
    sanitizers: tuple[SanitizerRule, ...]
    guards: tuple[SanitizerRule, ...] = ()
    clean_results: tuple[str, ...] = ()
    """Calls and methods whose result carries no taint (``Number.isInteger``, ``.length``)."""
    element_callbacks: tuple[str, ...] = ()
    """``p.then(cb)``, ``list.map(cb)``: ``cb``'s first parameter holds the receiver's data."""
    container_writes: tuple[str, ...] = ()
    """``list.push(v)``, ``map.set(k, v)``: the receiver now holds the arguments' data."""
    strip_methods: tuple[str, ...] = ()
    """``s.replace(/[^a-z0-9]/g, "")``: these methods with a global regex whose negated class
    keeps only letters, digits, ``-``, ``_`` and ``.``, and an empty replacement, clear taint."""
    api_checks: ApiChecks = Field(default_factory=ApiChecks)
    """Weak hashes (328), predictable random numbers (330) and cookie flags (614)."""


def _clears(rule: SanitizerRule) -> frozenset[int]:
    return frozenset({-1}) if rule.clears == "all" else frozenset(rule.clears)


@dataclass(frozen=True)
class JsRuleBook:
    """``js/rules.yml`` indexed for lookup."""

    rules: JsRules
    sources: Mapping[str, SourceRule]
    """Access path (``req.query``, ``process.argv``) -> rule."""
    request_names: frozenset[str]
    route_methods: frozenset[str]
    sink_calls: Mapping[str, tuple[JsSinkRule, ...]]
    sink_methods: Mapping[str, tuple[JsSinkRule, ...]]
    sanitizer_calls: Mapping[str, frozenset[int]]
    sanitizer_methods: Mapping[str, frozenset[int]]
    guard_calls: Mapping[str, frozenset[int]]
    guard_methods: Mapping[str, frozenset[int]]
    clean_results: frozenset[str]
    strip_methods: frozenset[str]
    element_callbacks: frozenset[str]
    container_writes: frozenset[str]
    store_sinks: Mapping[str, tuple[JsSinkRule, ...]]
    """``req.session`` -> rules: writing a field of these objects is the sink."""
    api_rules: Mapping[int, JsSinkRule]
    """CWE -> the rule an API check (``api_check: true``) reports under."""


def _index(rules: tuple[SanitizerRule, ...], calls: bool) -> dict[str, frozenset[int]]:
    out: dict[str, frozenset[int]] = {}
    for rule in rules:
        for name in rule.calls if calls else rule.methods:
            out[name] = out.get(name, frozenset()) | _clears(rule)
    return out


def compile_js_rules(rules: JsRules) -> JsRuleBook:
    """Index validated rules for lookup."""
    sink_calls: dict[str, tuple[JsSinkRule, ...]] = {}
    sink_methods: dict[str, tuple[JsSinkRule, ...]] = {}
    store_sinks: dict[str, tuple[JsSinkRule, ...]] = {}
    for sink in rules.sinks:
        for name in sink.calls:
            sink_calls[name] = (*sink_calls.get(name, ()), sink)
        for name in sink.methods:
            sink_methods[name] = (*sink_methods.get(name, ()), sink)
        for name in sink.stores:
            store_sinks[name] = (*store_sinks.get(name, ()), sink)
    return JsRuleBook(
        rules=rules,
        sources={name: src for src in rules.sources for name in src.names},
        request_names=frozenset(rules.request_names),
        route_methods=frozenset(rules.route_methods),
        sink_calls=sink_calls,
        sink_methods=sink_methods,
        sanitizer_calls=_index(rules.sanitizers, True),
        sanitizer_methods=_index(rules.sanitizers, False),
        guard_calls=_index(rules.guards, True),
        guard_methods=_index(rules.guards, False),
        clean_results=frozenset(rules.clean_results),
        strip_methods=frozenset(rules.strip_methods),
        element_callbacks=frozenset(rules.element_callbacks),
        container_writes=frozenset(rules.container_writes),
        store_sinks=store_sinks,
        api_rules={sink.cwe: sink for sink in rules.sinks if sink.api_check},
    )


def load_js_rules(text: str, origin: str = "js/rules.yml") -> JsRules:
    """Parse and validate a JS rules document; ``ValueError`` with one line naming the key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{origin}: not valid YAML: {' '.join(str(exc).split())}") from None
    try:
        return JsRules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(document)"
        raise ValueError(f"{origin}: {where}: {' '.join(str(first['msg']).split())}") from None


@functools.cache
def js_rule_book(path: Path | None = None) -> JsRuleBook:
    """The shipped JS rules (or those at ``path``), validated and compiled once per process."""
    if path is None:
        text = resources.files(__package__).joinpath(_DATA_FILE).read_text(encoding="utf-8")
        return compile_js_rules(load_js_rules(text))
    return compile_js_rules(load_js_rules(path.read_text(encoding="utf-8"), str(path)))
