"""Field mappings (processing pipelines) as data: how a raw event becomes Sigma fields and log sources.

Each YAML file under ``pipelines/`` is one :class:`PipelineSpec`: which events it claims (JSON
paths that must exist, or a line format), which subtrees are flattened into Sigma field names,
aliases for fields a rule names differently from the log, where the time and host are, and which
``logsource`` (product/category/service) an event belongs to given its field values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bastion.detect.sigma.event import Event, LogSource, make_event
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


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if key in ("#attributes", "#text"):
                yield from _walk(sub, path)
                continue
            yield from _walk(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        for item in value:
            attrs = item.get("#attributes")
            if isinstance(attrs, Mapping) and "Name" in attrs and len(item) <= 2:
                name = str(attrs["Name"])
                yield (f"{path}.{name}" if path else name), item.get("#text")
            else:
                yield from _walk(item, path)
    else:
        yield path, value


def flatten(value: Any) -> dict[str, Any]:
    """Dotted paths of every leaf (``#attributes``/``#text`` skipped; EVTX ``Data Name=`` lists named)."""
    out: dict[str, Any] = {}
    for path, leaf in _walk(value, ""):
        if path in out:
            prev = out[path]
            out[path] = (prev if isinstance(prev, list) else [prev]) + (
                leaf if isinstance(leaf, list) else [leaf]
            )
        else:
            out[path] = leaf
    return out


def _get(flat: Mapping[str, Any], paths: Sequence[str]) -> Any:
    for p in paths:
        if p in flat and flat[p] not in (None, ""):
            return flat[p]
    return None


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
        self._keys = sorted({k for _, conds in self._when for k, _ in conds})

    def claims(self, obj: Mapping[str, Any]) -> bool:
        """True when every ``detect`` path exists in the JSON object."""
        for path in self.spec.detect:
            cur: Any = obj
            for part in path.split("."):
                if not isinstance(cur, Mapping) or part not in cur:
                    return False
                cur = cur[part]
        return True

    def fields(self, obj: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Sigma fields of ``obj`` (subtree paths, then leaf names, then aliases) and its full flat form."""
        flat = flatten(obj)
        out: dict[str, Any] = {}
        for root in self.spec.flatten:
            prefix = f"{root}." if root else ""
            for path, value in flat.items():
                if root and not path.startswith(prefix):
                    continue
                rel = path[len(prefix) :]
                out.setdefault(rel, value)
        for path, value in flat.items():
            out.setdefault(path.rsplit(".", 1)[-1], value)
        if self.spec.despace:
            for name in [n for n in out if " " in n]:
                out.setdefault(name.replace(" ", ""), out[name])
        for alias, path in self.spec.aliases.items():
            if path in flat:
                out[alias] = flat[path]
        for alias, path in self.spec.fallbacks.items():
            if alias not in out and path in out:
                out[alias] = out[path]
        return out, flat

    def tags(self, fields: Mapping[str, Any]) -> tuple[LogSource, ...]:
        """The log sources an event with these fields belongs to."""
        lowered = {k.lower(): v for k, v in fields.items() if k.lower() in self._keys}
        key = tuple(str(lowered.get(k, "")).lower() for k in self._keys)
        cached = self._tag_cache.get(key)
        if cached is not None:
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
        fields, flat = self.fields(obj)
        return self.event_from_fields(fields, flat, source, obj if original is None else original)

    def event_from_fields(
        self,
        fields: dict[str, Any],
        flat: Mapping[str, Any],
        source: str,
        original: Mapping[str, Any] | str,
        timestamp: datetime | None = None,
    ) -> Event:
        """The :class:`Event` for Sigma fields and the flat record they came from."""
        if timestamp is None and self.spec.timestamp:
            timestamp = parse_time(_get(flat, self.spec.timestamp))
        host = _get(flat, self.spec.host) if self.spec.host else None
        return make_event(fields, self.tags(fields), timestamp, str(host or ""), source, original)

    def line_event(
        self, flat: dict[str, Any], source: str, original: str, timestamp: datetime | None = None
    ) -> Event:
        """The :class:`Event` for one parsed text line (its named values in ``flat``)."""
        fields = dict(flat)
        for alias, path in self.spec.aliases.items():
            if path in flat:
                fields[alias] = flat[path]
        for alias, path in self.spec.fallbacks.items():
            if alias not in fields and path in fields:
                fields[alias] = fields[path]
        return self.event_from_fields(fields, flat, source, original, timestamp)


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
