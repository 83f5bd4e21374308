"""Field mappings (processing pipelines) as data: how a raw event becomes Sigma fields and log sources.

Each YAML file under ``pipelines/`` is one :class:`PipelineSpec`: which events it claims (JSON
paths that must exist, or a line format), which subtrees are flattened into Sigma field names,
aliases for fields a rule names differently from the log, where the time and host are, and which
``logsource`` (product/category/service) an event belongs to given its field values.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache, reduce
from importlib import resources
from operator import getitem
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bastion.detect.sigma.event import Event, LogSource, event_from_raw
from bastion.detect.sigma.shapes import ShapePlans
from bastion.errors import InputError

__all__ = [
    "LogSourceSpec",
    "Pipeline",
    "PipelineSpec",
    "default_pipelines",
    "flatten",
    "load_pipeline",
    "parse_time",
    "resolve",
]


class LogSourceSpec(BaseModel):
    """One log source an event belongs to when every ``when`` field has one of the listed values."""

    model_config = ConfigDict(extra="forbid")
    product: str | None = None
    category: str | None = None
    service: str | None = None
    when: dict[str, list[str | int]] = Field(default_factory=dict)


class PipelineSpec(BaseModel):
    """Schema of a pipeline data file."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str
    kind: Literal["json", "line"] = "json"
    detect: list[str] = Field(default_factory=list)
    """json: dotted paths that must all exist (``Event.System``); line: format names (syslog, auditd...)."""
    flatten: list[str] = Field(default_factory=lambda: [""])
    """Subtrees whose fields become Sigma fields by their path below the subtree and by leaf name."""
    aliases: dict[str, str] = Field(default_factory=dict)
    """Sigma field name -> dotted path in the event (``#attributes`` levels are skipped)."""
    fallbacks: dict[str, str] = Field(default_factory=dict)
    """Like ``aliases``, but only where the event lacks that field (4688 ``NewProcessName`` -> ``Image``)."""
    despace: bool = False
    """Also name each field without its spaces (Defender's ``Source Name`` is Sigma's ``SourceName``)."""
    timestamp: list[str] = Field(default_factory=list)
    host: list[str] = Field(default_factory=list)
    logsources: list[LogSourceSpec] = Field(default_factory=list)
    logsources_from: str | None = None
    """Use the log sources of the pipeline with this name (a flat form of the same logs)."""


def flatten(value: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted paths of every leaf (``#attributes``/``#text`` skipped; EVTX ``Data Name=`` lists named)."""
    out: dict[str, Any] = {}
    _flat_into(value, "", out, {})
    return out


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 text or epoch seconds/milliseconds as an aware datetime; None when neither."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and len(value) >= 10:
        text = value.strip().replace(" ", "T", 1)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        head, dot, frac = text.partition(".")
        if dot:  # fromisoformat wants at most 6 fractional digits
            digits = len(frac) - len(frac.lstrip("0123456789"))
            frac = frac[: min(digits, 6)] + frac[digits:]
            text = f"{head}.{frac}"
        try:
            t = datetime.fromisoformat(text)
        except ValueError:
            return None
        return t if t.tzinfo else t.replace(tzinfo=UTC)
    return None


class Pipeline:
    """A loaded :class:`PipelineSpec` that turns objects into :class:`Event` values."""

    def __init__(self, spec: PipelineSpec, logsources: Sequence[LogSourceSpec] | None = None) -> None:
        """Wrap ``spec``; ``logsources`` replace its own (``logsources_from``)."""
        self.spec = spec
        self.name = spec.name
        self._when = [
            (
                (ls.product, ls.category, ls.service),
                [(k.lower(), {str(v).lower() for v in vals}) for k, vals in ls.when.items()],
            )
            for ls in (spec.logsources if logsources is None else logsources)
        ]
        self._tag_cache: dict[tuple[str, ...], tuple[LogSource, ...]] = {}
        self._seen_tags: dict[tuple[Any, ...], tuple[LogSource, ...]] = {}
        self._keys = sorted({k for _, conds in self._when for k, _ in conds})
        self._detect = [tuple(p.split(".")) for p in spec.detect] if spec.kind == "json" else []
        self._roots = [tuple(r.split(".")) if r else () for r in spec.flatten]
        self._aliases = [(alias.lower(), tuple(path.split("."))) for alias, path in spec.aliases.items()]
        self._fallbacks = [(alias.lower(), path.lower()) for alias, path in spec.fallbacks.items()]
        self._time = [tuple(p.split(".")) for p in spec.timestamp]
        self._host = [tuple(p.split(".")) for p in spec.host]
        self._shapes = ShapePlans(self.fields_generic)

    def claims(self, obj: Mapping[str, Any]) -> bool:
        """True when every ``detect`` path exists in the JSON object."""
        return all(_at(obj, parts) is not _MISSING for parts in self._detect)

    def fields(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Sigma fields of ``obj`` under lowercase names, as :meth:`fields_generic` gives them
        (planned once per object shape: :mod:`bastion.detect.sigma.shapes`)."""
        return self._shapes.fields(obj)  # type: ignore[arg-type]

    def fields_generic(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Sigma fields of ``obj`` under lowercase names: paths below each ``flatten`` subtree
        (the first subtree to name a field wins), then leaf names, then aliases and fallbacks.
        What it does depends only on the object's keys and value types, never on the values."""
        out: dict[str, Any] = {}
        leaves: dict[str, Any] = {}
        for parts in self._roots:
            sub = _at(obj, parts) if parts else obj
            if sub.__class__ is dict and not out and not _NESTED.intersection(map(type, sub.values())):
                out = {k.lower(): v for k, v in sub.items()}  # a flat subtree (EventData): one pass
                if "#attributes" in out or "#text" in out:
                    out = {}
                    _flat_into(sub, "", out, leaves)
                continue
            if sub.__class__ is dict or isinstance(sub, Mapping):
                if out:
                    part: dict[str, Any] = {}
                    _flat_into(sub, "", part, leaves)
                    for name, value in part.items():
                        out.setdefault(name, value)
                else:
                    _flat_into(sub, "", out, leaves)
        for name, value in leaves.items():
            out.setdefault(name, value)
        if self.spec.despace:
            for name in [n for n in out if " " in n]:
                out.setdefault(name.replace(" ", ""), out[name])
        for alias, parts in self._aliases:
            value = _at(obj, parts)
            if value is not _MISSING:
                out[alias] = value
        for alias, path in self._fallbacks:
            if alias not in out and path in out:
                out[alias] = out[path]
        return out

    def tags(self, fields: Mapping[str, Any]) -> tuple[LogSource, ...]:
        """The log sources an event with these (lowercase-named) fields belongs to."""
        seen = tuple(map(fields.get, self._keys))  # the values as read: no text made on a hit
        try:
            cached = self._seen_tags.get(seen)
        except TypeError:  # a list value
            cached = None
        if cached is not None:
            return cached
        key = tuple(str(fields.get(k, "")).lower() for k in self._keys)
        cached = self._tag_cache.get(key)
        if cached is not None:
            if len(self._seen_tags) < 10_000:
                with contextlib.suppress(TypeError):
                    self._seen_tags[seen] = cached
            return cached
        values = dict(zip(self._keys, key, strict=True))
        tags = tuple(
            ls for ls, conds in self._when if all(values.get(k, "") in allowed for k, allowed in conds)
        )
        if len(self._tag_cache) < 10_000:
            self._tag_cache[key] = tags
        return tags

    def event(
        self, obj: Mapping[str, Any], source: str = "", original: Mapping[str, Any] | str | None = None
    ) -> Event:
        """The :class:`Event` for one JSON object."""
        return self.event_from_fields(self.fields(obj), obj, source, obj if original is None else original)

    def event_from_fields(
        self,
        fields: dict[str, Any],
        record: Mapping[str, Any],
        source: str,
        original: Mapping[str, Any] | str,
        timestamp: datetime | None = None,
    ) -> Event:
        """The :class:`Event` for lowercase-named Sigma fields and the record they came from."""
        host = _first(record, self._host) if self._host else None
        event = event_from_raw(fields, self.tags(fields), timestamp, str(host or ""), source, original)
        if timestamp is None and self._time:
            paths = self._time
            event.timestamp_from(lambda: parse_time(_first(record, paths)))
        return event

    def line_event(
        self, flat: dict[str, Any], source: str, original: str, timestamp: datetime | None = None
    ) -> Event:
        """The :class:`Event` for one parsed text line (its named values in ``flat``)."""
        fields: dict[str, Any] = {}
        for name, value in flat.items():
            fields.setdefault(name.lower(), value)
        for alias, path in self.spec.aliases.items():
            if path in flat:
                fields[alias.lower()] = flat[path]
        for alias, path in self._fallbacks:
            if alias not in fields and path in fields:
                fields[alias] = fields[path]
        return self.event_from_fields(fields, flat, source, original, timestamp)


_MISSING: Any = object()


_NESTED = frozenset({dict, list})


def _at(obj: Any, parts: tuple[str, ...]) -> Any:
    """The value at a dotted path, looking through ``#attributes`` levels; ``_MISSING`` when absent."""
    if obj.__class__ is dict:
        try:  # the common case, every part a key of a dictionary, in one call
            found = reduce(getitem, parts, obj)  # a list or text on the way raises TypeError
        except (KeyError, TypeError):
            found = _MISSING
        if found is not _MISSING:
            return found
    cur = obj
    for part in parts:
        if cur.__class__ is not dict and not isinstance(cur, Mapping):
            return _MISSING
        if part in cur:
            cur = cur[part]
            continue
        attrs = cur.get("#attributes")
        if isinstance(attrs, Mapping) and part in attrs:
            cur = attrs[part]
            continue
        return _MISSING
    return cur


def _first(record: Mapping[str, Any], paths: Sequence[tuple[str, ...]]) -> Any:
    for parts in paths:
        value = _at(record, parts)
        if value is not _MISSING and value not in (None, ""):
            return value
    return None


def _flat_into(node: Mapping[str, Any], prefix: str, out: dict[str, Any], leaves: dict[str, Any]) -> None:
    """Flatten ``node`` into ``out`` by lowercase dotted path below it (``#attributes``/``#text``
    levels skipped, EVTX ``Data Name=`` lists named, repeated paths gathered in a list); leaf
    names of nested values go to ``leaves``."""
    for key, value in node.items():
        cls = value.__class__
        if cls is not dict and cls is not list and key[:1] != "#":  # the common case: a plain value
            name = prefix + key.lower()
            if name in out:
                _put(out, name, value)
            else:
                out[name] = value
            if prefix:
                leaves.setdefault(key.lower(), value)
            continue
        if key == "#attributes" or key == "#text":
            if cls is dict:
                _flat_into(value, prefix, out, leaves)
            elif prefix:
                _put(out, prefix[:-1], value)
            continue
        key = key.lower()
        if cls is dict:
            _flat_into(value, f"{prefix}{key}.", out, leaves)
        elif cls is list and value and all(v.__class__ is dict for v in value):
            for item in value:
                attrs = item.get("#attributes")
                if attrs.__class__ is dict and "Name" in attrs and len(item) <= 2:
                    _put(out, f"{prefix}{str(attrs['Name']).lower()}", item.get("#text"))
                else:
                    _flat_into(item, f"{prefix}{key}.", out, leaves)
        else:
            _put(out, f"{prefix}{key}", value)
            if prefix:
                leaves.setdefault(key, value)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    prev = out.get(key, _MISSING)
    if prev is _MISSING:
        out[key] = value
    else:
        out[key] = (prev if isinstance(prev, list) else [prev]) + (
            value if isinstance(value, list) else [value]
        )


def load_pipeline(path: Path) -> Pipeline:
    """Read and validate one pipeline file; :class:`InputError` names the file and what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Pipeline(PipelineSpec.model_validate(data))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: {where}: {first['msg']}") from None


@cache
def default_pipelines() -> tuple[Pipeline, ...]:
    """The pipelines shipped in ``bastion/detect/sigma/pipelines`` (JSON ones first, most specific first)."""
    folder = resources.files("bastion.detect.sigma") / "pipelines"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".yml"))
    return resolve([load_pipeline(Path(str(folder / name))) for name in names])


def resolve(loaded: Sequence[Pipeline]) -> tuple[Pipeline, ...]:
    """Apply ``logsources_from`` and order the pipelines: JSON first, most specific ``detect`` first."""
    by_name = {p.name: p for p in loaded}
    out = []
    for p in loaded:
        ref = p.spec.logsources_from
        if ref is not None:
            if ref not in by_name:
                raise InputError(f"pipeline {p.name}: logsources_from names unknown pipeline {ref!r}")
            p = Pipeline(p.spec, by_name[ref].spec.logsources)
        out.append(p)
    return tuple(sorted(out, key=lambda p: (p.spec.kind != "json", -len(p.spec.detect), p.name)))
