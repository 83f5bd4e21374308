"""Entry-point discovery, selection, and loud failures on bad registrations."""

from __future__ import annotations

import pytest

from bastion.errors import UsageError
from bastion.scan.base import Scanner
from bastion.scan.registry import (
    PluginScanner,
    Registration,
    Registry,
    RegistryError,
    load_scanner,
    rule_catalog,
)


def test_own_and_third_party_scanners_register_through_entry_points() -> None:
    registry = Registry.from_entry_points()
    assert "sast" in registry.names  # Bastion's own, declared in pyproject.toml
    assert "marker" in registry.names  # the test plug-in's dist-info under tests/plugins
    assert load_scanner(registry.get("marker").reference).name == "marker"


def test_unknown_scanner_names_the_choices() -> None:
    registry = Registry([Registration("a", "x:A"), Registration("b", "x:B")])
    with pytest.raises(UsageError, match=r"unknown scanner 'c' \(available: a, b\)"):
        registry.select(["a", "c"])


def test_select_keeps_order_and_drops_repeats() -> None:
    registry = Registry([Registration("a", "x:A"), Registration("b", "x:B")])
    assert [r.name for r in registry.select(["b", "a", "b"])] == ["b", "a"]
    assert [r.name for r in registry.select(None)] == ["a", "b"]


def test_duplicate_registration_is_an_error() -> None:
    with pytest.raises(RegistryError, match="registered twice"):
        Registry([Registration("a", "x:A"), Registration("a", "y:A")])
    # The same reference seen twice (a package on sys.path twice) is harmless.
    assert Registry([Registration("a", "x:A"), Registration("a", "x:A")]).names == ["a"]


def test_bad_names_and_references_are_errors() -> None:
    with pytest.raises(RegistryError, match="must match"):
        Registry([Registration("Bad Name", "x:A")])
    with pytest.raises(RegistryError, match="does not load"):
        load_scanner("no_such_module_anywhere:Thing")
    with pytest.raises(RegistryError, match="is not a scanner"):
        load_scanner("bastion.findings:Location")


def test_a_minimal_plugin_is_adapted_to_the_typed_seam() -> None:
    marker = load_scanner("marker_scanner:MarkerScanner")
    assert isinstance(marker, PluginScanner) and isinstance(marker, Scanner)
    assert marker.shardable is True  # declared by the plug-in
    assert marker.reads_history is False and marker.rules() == ()  # the defaults
    marker.check_options({"anything": 1})  # no check_options of its own: every table is accepted


def test_own_scanners_declare_every_capability_as_typed_members() -> None:
    for name in ("secrets", "deps", "sast", "iac"):
        scanner = load_scanner(Registry.from_entry_points().get(name).reference)
        assert not isinstance(scanner, PluginScanner), name
        rules = scanner.rules()
        assert rules and all(rule.id.startswith(f"{name}.") and rule.scanner == name for rule in rules)
        assert len({rule.id for rule in rules}) == len(rules), f"{name}: duplicate rule ids"


def test_rule_catalog_reads_every_source_once_and_finds_families() -> None:
    registry = Registry([*(Registry.from_entry_points().get(n) for n in ("deps", "marker"))])
    catalog = rule_catalog(registry)
    assert set(catalog.by_source) == {"deps", "marker", "dast"}  # dast: the URL scanner
    assert catalog.by_source["marker"] == () and catalog.skipped == {}
    found = catalog.find("deps.CVE-2024-1")
    assert found is not None and found.id == "deps.CVE-*"  # the most specific family, not deps.*
    other = catalog.find("deps.PYSEC-2024-1")
    assert other is not None and other.id == "deps.*"
    assert catalog.find("dast.csp-missing") is not None and catalog.find("nothing.here") is None


def test_a_source_that_does_not_load_is_skipped_with_the_reason() -> None:
    catalog = rule_catalog(Registry([Registration("gone", "no_such_module_anywhere:Thing")]), ["gone"])
    assert catalog.by_source == {} and "does not load" in catalog.skipped["gone"]
    with pytest.raises(UsageError, match=r"unknown scanner 'nope' \(available: dast, gone\)"):
        rule_catalog(Registry([Registration("gone", "x:Y")]), ["nope"])
