"""The schema of ``rules.yml`` (pydantic) and the lookup tables the analyzer reads.

Rules are data: a new source, sink or sanitizer is a line in ``rules.yml``, validated
here when the file is loaded (a malformed file is a :class:`ValueError` naming the key).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["RuleBook", "SinkRule", "TaintRules", "load_rules", "rule_book"]

_DATA_FILE = "rules.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRule(_Strict):
    """Names whose value (attribute read or call result) is untrusted."""

    id: str
    label: str
    names: tuple[str, ...] = Field(min_length=1)
    excludes: tuple[int, ...] = ()
    """Weaknesses this source does not count for (a path from the environment is configuration)."""


class RequestParams(_Strict):
    """Function parameters that hold a request object, and its user-data attributes."""

    names: tuple[str, ...]
    annotations: tuple[str, ...] = ()
    attributes: tuple[str, ...]


class SinkRule(_Strict):
    """A dangerous call (or store) and the arguments that must not be tainted."""

    id: str
    cwe: int = Field(gt=0)
    title: str
    calls: tuple[str, ...] = ()
    """Qualified function names."""
    methods: tuple[str, ...] = ()
    """Method names matched on any receiver (``cursor.execute``)."""
    receiver_names: tuple[str, ...] = ()
    """When set, ``methods`` only match receivers spelled like one of these."""
    receiver_attributes: tuple[str, ...] = ()
    """When set (alone or with ``receiver_names``), ``methods`` also match receivers whose
    expression goes through one of these attributes (``Entry.objects.filter(...).extra``), or
    variables assigned from such an expression; other receivers do not match."""
    receiver_methods: tuple[str, ...] = ()
    """Methods dangerous when the receiver itself is tainted (``Path(p).read_text()``)."""
    receiver_constructors: tuple[str, ...] = ()
    """Informational: constructors whose tainted result makes ``receiver_methods`` sinks."""
    stores: tuple[str, ...] = ()
    """Objects whose item assignment (``session[k] = v``) is the sink."""
    args: tuple[int, ...] = ()
    keywords: tuple[str, ...] = ()
    safe_keywords: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)
    """Keyword values that make the call safe (``Loader=yaml.SafeLoader``)."""
    safe_positions: Mapping[int, str] = Field(default_factory=dict)
    """Positional arguments that stand for a keyword of ``safe_keywords`` (``yaml.load(s, SafeLoader)``)."""
    program_only_without_shell: bool = False
    """subprocess: without ``shell=True`` only a string command or a list's first item counts."""
    shell_programs: tuple[str, ...] = ()
    """subprocess: a list whose first item names one of these runs its items as a shell command."""
    safe_parser_keyword: str = ""
    """XML: a ``parser=`` built with ``resolve_entities=False`` makes the call safe."""
    header_name: str = ""
    """Headers: only this entry of a dict literal passed as ``keywords`` is dangerous (``Location``)."""
    unsafe_parser_methods: tuple[str, ...] = ()
    """XML: methods of a SAX parser with external entities switched on (``setFeature``)."""
    unsafe_parser_calls: tuple[str, ...] = ()
    """XML: calls that take a SAX parser (second argument or ``parser=``) and are sinks when that
    parser has external entities switched on (``xml.dom.minidom.parseString(s, parser)``)."""
    regex_dos: bool = False
    """Only when the regular expression backtracks catastrophically (a repeated group holding a
    repeat: ``(a+)+``): the call's constant pattern, or the ``re.compile`` that made its receiver."""
    api_check: bool = False
    """Not a dataflow rule: the call itself is the weakness (weak hash, insecure cookie)."""
    handler_return: bool = False
    """The value a Flask/Django web handler returns (rendered as HTML) is the sink."""
    severity: Literal["low", "medium", "high", "critical"] = "high"


class SanitizerRule(_Strict):
    """Calls (or guard tests) that clear taint for some weaknesses."""

    calls: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    clears: Literal["all"] | tuple[int, ...]
    chained: bool = False
    """Builders: any method called on what ``calls`` return (directly, down a chain of calls,
    or through a variable or module global assigned from one) clears too
    (``update(t).where(...).values(name=v)``)."""


class ApiChecks(_Strict):
    """Checks on API use rather than dataflow: weak hashes, weak random numbers, cookie flags."""

    weak_random: tuple[str, ...] = ()
    """Calls returning predictable numbers (a CWE-330 source)."""
    weak_hashes: tuple[str, ...] = ()
    """Hash constructors broken for security use (CWE-328)."""
    weak_hash_names: tuple[str, ...] = ()
    """Algorithm names that make ``hashlib.new(name)`` weak."""
    hash_factories: tuple[str, ...] = ()
    """Calls taking the algorithm name as first argument (``hashlib.new``)."""
    secret_names: str = ""
    """Regular expression: a weak random number stored in a variable so named is a finding."""
    cookie_methods: tuple[str, ...] = ()
    """Methods setting a cookie; ``secure=True`` is required (CWE-614)."""
    session_names: str = ""
    """Regular expression: a weak random number stored as an item of a mapping so named
    (``my_session[key] = value``) is a session secret (CWE-330)."""
    integrity_names: str = ""
    """Regular expression: a weak hash whose result is stored only under names so spelled (an
    ``etag``, a ``checksum``, a cache key), or computed in a function so named
    (``generate_etag``), is not used for security and is no finding."""


class TaintRules(_Strict):
    """The whole ``rules.yml`` document."""

    safe_calls: Mapping[int, tuple[str, ...]] = Field(default_factory=dict)
    """Calls known to be safe for a CWE whatever their arguments (the standard library's XML
    parsers for 611): pattern findings on them are dropped once the line is analysed."""

    version: Literal[1]
    sources: tuple[SourceRule, ...]
    request_params: RequestParams
    route_decorators: tuple[str, ...]
    html_return_frameworks: tuple[str, ...] = ()
    sinks: tuple[SinkRule, ...]
    sanitizers: tuple[SanitizerRule, ...]
    guards: tuple[SanitizerRule, ...] = ()
    clean_results: tuple[str, ...] = ()
    clean_methods: tuple[str, ...] = ()
    api_checks: ApiChecks = ApiChecks()
    request_objects: tuple[str, ...] = ()
    """The request object itself: passed whole to a helper the analysis cannot read (a wrapper),
    that helper's result is request data."""
    unresolved_clean_words: tuple[str, ...] = ()
    """A call to a helper the analysis cannot read whose name has one of these words
    (``get_safe_value``) returns a clean value."""
    route_path_sources: tuple[str, ...] = ()
    """Sources holding the request's path: server-controlled in a handler whose every route is a
    constant path without parameters (``@app.route("/a/b")``: ``request.path`` is ``/a/b``)."""
    site_urls: tuple[str, ...] = ()
    """Calls returning a URL on this site (``url_for``, ``reverse``); a redirect built from one
    is read as starting with ``/``, the least a route may be (``url_for(...) + v`` is still open)."""


ALL = frozenset({-1})


def _clears(rule: SanitizerRule) -> frozenset[int]:
    return ALL if rule.clears == "all" else frozenset(rule.clears)


@dataclass(frozen=True)
class RuleBook:
    """``rules.yml`` compiled into dictionaries keyed the way the analyzer asks."""

    rules: TaintRules
    source_names: Mapping[str, str]
    """Qualified name -> source label."""
    source_excludes: Mapping[str, frozenset[int]]
    """Source label -> CWEs it does not count for."""
    sink_calls: Mapping[str, tuple[SinkRule, ...]]
    sink_methods: Mapping[str, tuple[SinkRule, ...]]
    receiver_sinks: Mapping[str, tuple[SinkRule, ...]]
    store_sinks: Mapping[str, tuple[SinkRule, ...]]
    sanitizer_calls: Mapping[str, frozenset[int]]
    sanitizer_methods: Mapping[str, frozenset[int]]
    guard_calls: Mapping[str, frozenset[int]]
    guard_methods: Mapping[str, frozenset[int]]
    clean_calls: frozenset[str]
    clean_methods: frozenset[str]
    request_attrs: frozenset[str]
    request_names: frozenset[str]
    request_annotations: frozenset[str]
    route_decorators: frozenset[str]
    api_rules: Mapping[int, SinkRule]
    """API-use rules (``api_check``) by CWE."""
    safe_calls: Mapping[str, tuple[int, ...]]
    """Qualified name -> CWEs the call cannot cause."""
    builders: Mapping[str, frozenset[int]] = field(default_factory=dict)
    """Qualified name -> what every method chained on its result clears (``chained`` sanitizers)."""
    receiver_attributes: frozenset[str] = frozenset()
    """Every sink rule's ``receiver_attributes`` (assignments remember them on the variable)."""
    unsafe_parser_calls: Mapping[str, tuple[SinkRule, ...]] = field(default_factory=dict)
    """Qualified name -> rules whose ``unsafe_parser_calls`` list it."""

    def source_label(self, name: str) -> str | None:
        """The label of the source ``name`` falls under (itself or a parent), or None."""
        while name:
            label = self.source_names.get(name)
            if label is not None:
                return label
            dot = name.rfind(".")
            if dot < 0:
                return None
            name = name[:dot]
        return None


def _multi(pairs: list[tuple[str, SinkRule]]) -> dict[str, tuple[SinkRule, ...]]:
    out: dict[str, tuple[SinkRule, ...]] = {}
    for key, rule in pairs:
        out[key] = (*out.get(key, ()), rule)
    return out


def _by_call(safe: Mapping[int, tuple[str, ...]]) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for cwe, calls in safe.items():
        for call in calls:
            out[call] = (*out.get(call, ()), cwe)
    return out


def compile_rules(rules: TaintRules) -> RuleBook:
    """Index validated rules for lookup."""
    flow_rules = [s for s in rules.sinks if not s.api_check]
    sources = {name: src.label for src in rules.sources for name in src.names}
    sanitizer_calls: dict[str, frozenset[int]] = {}
    sanitizer_methods: dict[str, frozenset[int]] = {}
    for san in rules.sanitizers:
        for name in san.calls:
            sanitizer_calls[name] = sanitizer_calls.get(name, frozenset()) | _clears(san)
        for name in san.methods:
            sanitizer_methods[name] = sanitizer_methods.get(name, frozenset()) | _clears(san)
    builders: dict[str, frozenset[int]] = {}
    for san in rules.sanitizers:
        for name in san.calls if san.chained else ():
            builders[name] = builders.get(name, frozenset()) | _clears(san)
    guard_calls: dict[str, frozenset[int]] = {}
    guard_methods: dict[str, frozenset[int]] = {}
    for guard in rules.guards:
        for name in guard.calls:
            guard_calls[name] = guard_calls.get(name, frozenset()) | _clears(guard)
        for name in guard.methods:
            guard_methods[name] = guard_methods.get(name, frozenset()) | _clears(guard)
    return RuleBook(
        rules=rules,
        source_names=sources,
        source_excludes={src.label: frozenset(src.excludes) for src in rules.sources if src.excludes},
        sink_calls=_multi([(c, s) for s in flow_rules for c in s.calls]),
        sink_methods=_multi([(m, s) for s in flow_rules for m in s.methods]),
        receiver_sinks=_multi([(m, s) for s in flow_rules for m in s.receiver_methods]),
        store_sinks=_multi([(name, s) for s in flow_rules for name in s.stores]),
        api_rules={s.cwe: s for s in rules.sinks if s.api_check},
        safe_calls=_by_call(rules.safe_calls),
        sanitizer_calls=sanitizer_calls,
        sanitizer_methods=sanitizer_methods,
        guard_calls=guard_calls,
        guard_methods=guard_methods,
        clean_calls=frozenset(rules.clean_results),
        clean_methods=frozenset(rules.clean_methods),
        request_attrs=frozenset(rules.request_params.attributes),
        request_names=frozenset(rules.request_params.names),
        request_annotations=frozenset(rules.request_params.annotations),
        route_decorators=frozenset(rules.route_decorators),
        builders=builders,
        receiver_attributes=frozenset(a for s in flow_rules for a in s.receiver_attributes),
        unsafe_parser_calls=_multi([(c, s) for s in flow_rules for c in s.unsafe_parser_calls]),
    )


def load_rules(text: str, origin: str = _DATA_FILE) -> TaintRules:
    """Parse and validate a rules document; ``ValueError`` with one line naming the key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise ValueError(f"{origin}: not valid YAML: {detail}") from None
    try:
        return TaintRules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(document)"
        raise ValueError(f"{origin}: {where}: {' '.join(str(first['msg']).split())}") from None


@functools.cache
def rule_book(path: Path | None = None) -> RuleBook:
    """The shipped rules (or those at ``path``), validated and compiled once per process."""
    if path is None:
        text = resources.files(__package__).joinpath(_DATA_FILE).read_text(encoding="utf-8")
        return compile_rules(load_rules(text))
    return compile_rules(load_rules(path.read_text(encoding="utf-8"), str(path)))
