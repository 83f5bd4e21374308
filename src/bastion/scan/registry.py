"""Find scanners through the ``bastion.scanners`` entry-point group.

Bastion's own scanners register exactly as a third party's would (see pyproject.toml).
A name registered twice is an error, not a silent override.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from bastion.errors import BastionError, UsageError
from bastion.findings import Finding
from bastion.rules import RuleInfo, RuleSource, sort_rules
from bastion.scan.base import BasicScanner, ScanContext, Scanner, ScannerDefaults, ScanTarget

__all__ = [
    "ENTRY_POINT_GROUP",
    "URL_SCANNERS",
    "PluginScanner",
    "Registration",
    "Registry",
    "RegistryError",
    "RuleCatalog",
    "load_scanner",
    "rule_catalog",
]

ENTRY_POINT_GROUP = "bastion.scanners"
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class RegistryError(BastionError):
    """A scanner plug-in is registered twice, badly named, or does not load."""


@dataclass(frozen=True)
class Registration:
    """A scanner's name and the ``module:attr`` reference that loads it."""

    name: str
    reference: str


def load_scanner(reference: str) -> Scanner:
    """Import ``module:attr`` and return a scanner instance (classes are instantiated).

    A plug-in that defines only ``name``, ``description`` and ``scan`` is wrapped in a
    :class:`PluginScanner` that gives it every capability of the :class:`Scanner` seam.
    """
    scanner = _instance(reference)
    if isinstance(scanner, Scanner):
        return scanner
    if isinstance(scanner, BasicScanner):
        return PluginScanner(scanner)
    raise RegistryError(f"{reference!r} is not a scanner (needs name, description, scan)")


def _instance(reference: str) -> object:
    """Import ``module:attr``; a class is instantiated."""
    entry = EntryPoint(name="scanner", value=reference, group=ENTRY_POINT_GROUP)
    try:
        obj = entry.load()
    except (ImportError, AttributeError) as exc:
        raise RegistryError(f"scanner {reference!r} does not load: {exc}") from exc
    return obj() if isinstance(obj, type) else obj


class PluginScanner(ScannerDefaults):
    """A third-party scanner that declares only some capabilities, adapted to :class:`Scanner`.

    This is the one place that asks a plug-in which optional members it has; everything past
    the registry calls typed members.
    """

    def __init__(self, plugin: BasicScanner) -> None:
        self.plugin = plugin
        self.name = plugin.name
        self.description = plugin.description
        self.shardable = getattr(plugin, "shardable", False) is True
        self.reads_history = getattr(plugin, "reads_history", False) is True

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        """The plug-in's own scan."""
        return self.plugin.scan(target, context)

    def rules(self) -> Sequence[RuleInfo]:
        """The plug-in's ``rules()`` when it has one, else none."""
        listed = getattr(self.plugin, "rules", None)
        return tuple(listed()) if callable(listed) else ()

    def check_options(self, options: Mapping[str, Any]) -> None:
        """The plug-in's ``check_options`` when it has one, else every table is accepted."""
        check = getattr(self.plugin, "check_options", None)
        if callable(check):
            check(options)


class Registry:
    """The scanners available to a run, keyed by name."""

    def __init__(self, registrations: Iterable[Registration]) -> None:
        self._by_name: dict[str, Registration] = {}
        for reg in registrations:
            if not _NAME.match(reg.name):
                raise RegistryError(f"scanner name {reg.name!r} must match {_NAME.pattern}")
            if reg.name in self._by_name and self._by_name[reg.name].reference != reg.reference:
                raise RegistryError(
                    f"scanner {reg.name!r} is registered twice: "
                    f"{self._by_name[reg.name].reference} and {reg.reference}"
                )
            self._by_name[reg.name] = reg

    @classmethod
    def from_entry_points(cls) -> Registry:
        """Every scanner installed in this environment."""
        eps = entry_points(group=ENTRY_POINT_GROUP)
        return cls(Registration(ep.name, ep.value) for ep in eps)

    @property
    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._by_name)

    def get(self, name: str) -> Registration:
        """The registration for ``name``; :class:`UsageError` naming the choices if unknown."""
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self.names) or "none installed"
            raise UsageError(f"unknown scanner {name!r} (available: {known})") from None

    def select(self, names: Iterable[str] | None) -> list[Registration]:
        """The registrations for ``names`` in the order given, or all when None."""
        if names is None:
            return [self._by_name[n] for n in self.names]
        chosen: list[Registration] = []
        for name in names:
            reg = self.get(name)
            if reg not in chosen:
                chosen.append(reg)
        return chosen


URL_SCANNERS = (Registration("dast", "bastion.scan.dast.scanner:DastScanner"),)
"""Built-in scanners of a running application (``bastion dast URL``): ``bastion scan`` does not run
them, but their rules are listed with every other scanner's."""


@dataclass(frozen=True)
class RuleCatalog:
    """Every rule of every rule source, by source name, and the sources that could not be read."""

    by_source: Mapping[str, tuple[RuleInfo, ...]]
    skipped: Mapping[str, str]
    """Source name -> why its rules could not be listed (a plug-in that does not load)."""

    @property
    def rules(self) -> list[RuleInfo]:
        """Every rule, ordered by id."""
        return sort_rules(rule for rules in self.by_source.values() for rule in rules)

    def find(self, rule_id: str) -> RuleInfo | None:
        """The rule ``rule_id``, else the rule family whose glob id covers it (``deps.CVE-*``)."""
        rules = self.rules
        exact = next((rule for rule in rules if rule.id == rule_id), None)
        if exact is not None:
            return exact
        families = [rule for rule in rules if "*" in rule.id and fnmatch.fnmatchcase(rule_id, rule.id)]
        return max(families, key=lambda rule: len(rule.id), default=None)  # most specific first


def rule_catalog(registry: Registry, names: Iterable[str] | None = None) -> RuleCatalog:
    """The rules of the registered scanners and of the URL scanners, each source loaded once;
    ``names`` limits it to those sources (:class:`UsageError` naming the choices if unknown)."""
    sources = {reg.name: reg for reg in [*(registry.get(n) for n in registry.names), *URL_SCANNERS]}
    wanted = list(sources) if names is None else list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in sources]
    if unknown:
        raise UsageError(f"unknown scanner {unknown[0]!r} (available: {', '.join(sorted(sources))})")
    by_source: dict[str, tuple[RuleInfo, ...]] = {}
    skipped: dict[str, str] = {}
    for name in wanted:
        try:
            by_source[name] = tuple(_load_rule_source(sources[name].reference).rules())
        except RegistryError as exc:
            skipped[name] = str(exc)
    return RuleCatalog(by_source, skipped)


def _load_rule_source(reference: str) -> RuleSource:
    source = _instance(reference)
    if isinstance(source, Scanner | RuleSource):
        return source
    if isinstance(source, BasicScanner):
        return PluginScanner(source)
    raise RegistryError(f"{reference!r} lists no rules (needs name and rules())")
