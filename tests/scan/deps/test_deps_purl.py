"""``make_purl``'s fast path gives exactly packageurl-python's purl, for every ecosystem and odd names."""

from __future__ import annotations

import random

import pytest
from deps_helpers import DEPS, parse
from packageurl import PackageURL

from bastion.scan.deps.model import PURL_TYPES, Package, make_purl
from bastion.scan.deps.parsers import parser_for

ALPHABET = "aZ09._-+~!@:%/ é中\t#?&=*"


def _reference(ecosystem: str, name: str, version: str | None) -> str:
    kind = PURL_TYPES.get(ecosystem, ecosystem.lower())
    namespace: str | None = None
    short = name
    if ecosystem == "Maven" and ":" in name:
        namespace, short = name.split(":", 1)
    elif ecosystem in {"npm", "Go", "Packagist"} and "/" in name:
        namespace, short = name.rsplit("/", 1)
    return PackageURL(type=kind, namespace=namespace, name=short, version=version).to_string()


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))


@pytest.mark.parametrize("ecosystem", [*PURL_TYPES, "Hex", "Pub"])
def test_fast_purl_matches_packageurl_on_random_names(ecosystem: str) -> None:
    rng = random.Random(f"purl-{ecosystem}")
    checked = 0
    for _ in range(3000):
        name = _random_text(rng)
        if rng.random() < 0.5:
            name = f"{_random_text(rng)}{'/' if ecosystem != 'Maven' else ':'}{name}"
        version = None if rng.random() < 0.2 else _random_text(rng)
        try:
            expected = _reference(ecosystem, name, version)
        except (ValueError, TypeError):  # packageurl refuses it: so must make_purl
            with pytest.raises((ValueError, TypeError)):
                make_purl(ecosystem, name, version)
            continue
        assert make_purl(ecosystem, name, version) == expected, (ecosystem, name, version)
        checked += 1
    assert checked > 2000


def test_fast_purl_matches_packageurl_on_every_fixture_package() -> None:
    packages = [
        package
        for path in sorted(DEPS.rglob("*"))
        if path.is_file() and parser_for(path.relative_to(DEPS).as_posix()) is not None
        for package in _parsed(path.relative_to(DEPS).as_posix())
    ]
    assert len(packages) > 80
    for package in packages:
        assert package.purl == _reference(package.ecosystem, package.name, package.version)
    assert make_purl("PyPI", "Foo_Bar", "1.0") == "pkg:pypi/foo-bar@1.0"
    assert (
        make_purl("Go", "github.com/a/b", "v1.0.0+incompatible")
        == "pkg:golang/github.com/a/b@v1.0.0%2Bincompatible"
    )


def _parsed(relpath: str) -> list[Package]:
    try:
        return list(parse(relpath)[0])
    except ValueError:
        return []  # fixtures of broken files
