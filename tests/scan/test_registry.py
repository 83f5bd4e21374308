"""Entry-point discovery, selection, and loud failures on bad registrations."""

from __future__ import annotations

import pytest

from bastion.errors import UsageError
from bastion.scan.registry import Registration, Registry, RegistryError, load_scanner


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
