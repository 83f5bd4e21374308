"""Families ``l`` (tuning) and ``m`` (held out): YAML loading with the loader chosen at import
time (``getattr(yaml, "CSafeLoader", yaml.SafeLoader)``, a conditional expression) or passed
to ``yaml.load_all``; a safe loader on every branch is no deserialisation finding, an unsafe
one on any branch is.

Written together, before the engine knew the class, with the wrappers of ``gen_h.py`` (``l``
uses family h's, ``m`` family i's).

Usage: ``python bench/sast/gen_l.py [--out build/sast/cases] [--family l] [--family m]``
"""

from __future__ import annotations

from itertools import product

from families import run_families
from gen_h import WRAPS, Shape, _file

_Y = ("import yaml",)

LOADS = (
    # false: a safe loader whichever branch is taken
    Shape("docs = list(yaml.load_all({x}, Loader=yaml.SafeLoader))", False, "l", _Y),
    Shape(
        "data = yaml.load({x}, Loader=LOADER)",
        False,
        "l",
        _Y,
        'LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)',
    ),
    Shape("docs = list(yaml.load_all({x}, yaml.CSafeLoader))", False, "l", _Y),
    Shape(
        "docs = list(yaml.load_all({x}, Loader=_SAFE))",
        False,
        "l",
        _Y,
        '_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)',
    ),
    Shape(
        "docs = list(yaml.load_all({x}, SAFE))",
        False,
        "m",
        _Y,
        'SAFE = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader',
    ),
    Shape("docs = list(yaml.load_all({x}, Loader=yaml.BaseLoader))", False, "m", _Y),
    Shape(
        "data = yaml.load({x}, Loader=Fast)",
        False,
        "m",
        _Y,
        "Fast = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader",
    ),
    # real: an unsafe loader on some branch, or none named
    Shape("docs = list(yaml.load_all({x}, Loader=yaml.Loader))", True, "l", _Y),
    Shape(
        "data = yaml.load({x}, Loader=LOADER)",
        True,
        "l",
        _Y,
        'LOADER = getattr(yaml, "CLoader", yaml.Loader)',
    ),
    Shape(
        "docs = list(yaml.load_all({x}, Loader=_ANY))",
        True,
        "l",
        _Y,
        '_ANY = getattr(yaml, "CSafeLoader", yaml.UnsafeLoader)',
    ),
    Shape(
        "docs = list(yaml.load_all({x}, FAST))",
        True,
        "m",
        _Y,
        'FAST = yaml.CLoader if hasattr(yaml, "CLoader") else yaml.Loader',
    ),
    Shape("docs = list(yaml.load_all({x}, Loader=yaml.FullLoader))", True, "m", _Y),
    Shape(
        "data = yaml.load({x}, Loader=Mixed)",
        True,
        "m",
        _Y,
        "Mixed = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.UnsafeLoader",
    ),
)
BASE = {"l": "h", "m": "i"}
"""The gen_h family whose wrappers each family uses."""


def generate(fam: str) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, object]]]:
    """Cases and labels of one family (every combination once, no randomness)."""
    wraps = [w for w in WRAPS if w.fam == BASE[fam]]
    cases: dict[str, dict[str, str]] = {}
    labels: dict[str, dict[str, object]] = {}
    for n, (shape, wrap) in enumerate(product([s for s in LOADS if s.fam == fam], wraps)):
        body = (
            shape.code.format(x="raw") if n % 2 == 0 else "text = raw.strip()\n" + shape.code.format(x="text")
        )
        case_id = f"502-yaml-loader-{n:03d}-{'real' if shape.real else 'false'}"
        cases[case_id] = {"app.py": _file(wrap, shape.imports, shape.module, body)}
        labels[case_id] = {
            "category": "yaml-loader",
            "cwe": 502,
            "real": shape.real,
            "kind": "tainted" if shape.real else "safe-api",
            "propagation": f"{wrap.name}-{n % 2}",
            "framework": wrap.name,
            "sink": shape.code[:60],
        }
    return cases, labels


def main() -> None:
    """Command line."""
    run_families(generate, ["l", "m"])


if __name__ == "__main__":
    main()
