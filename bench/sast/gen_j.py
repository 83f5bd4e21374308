"""Families ``j`` (tuning) and ``k`` (held out): redirects whose start is a same-site URL the
server builds (``url_for(...)``, ``reverse(...)``) rather than a constant.

Written together, before the engine knew the class, with the wrappers and flows of
``gen_h.py`` (``j`` uses family h's, ``k`` family i's). A route's URL may be ``/`` itself, so
it fixes the site only when constant text that does so follows it (``?next=``, ``#``):
``url_for("login") + "?next=" + v`` is false, ``url_for("index") + v`` is real (``v`` may start
with ``/evil.com``).

Usage: ``python bench/sast/gen_j.py [--out build/sast/cases] [--family j] [--family k]``
"""

from __future__ import annotations

from itertools import product

from families import run_families
from gen_h import URL_FLOWS, WRAPS, Shape, _url_files

_FL = ("from flask import url_for",)
_DJ = ("from django.urls import reverse",)

SITE_URLS = (
    # false: a same-site URL, then constant text that keeps it there
    Shape('url_for("login") + "?next=" + {x}', False, "j", _FL),
    Shape("f\"{{url_for('search')}}?q={{{x}}}\"", False, "j", _FL),
    Shape('reverse("home") + "#" + {x}', False, "j", _DJ),
    Shape(
        'url_for("index") + "?" + urlencode({{"q": {x}}})',
        False,
        "j",
        (*_FL, "from urllib.parse import urlencode"),
    ),
    Shape('"{{}}?next={{}}".format(url_for("auth.login"), {x})', False, "k", _FL),
    Shape("f\"{{reverse('ops:detail', args=[3])}}?tab={{{x}}}\"", False, "k", _DJ),
    Shape('url_for("ops.list") + "#row-" + {x}', False, "k", _FL),
    Shape('"%s?page=%s" % (url_for("ops.list"), {x})', False, "k", _FL),
    # real: the value follows the route's URL directly, or comes first
    Shape('url_for("index") + {x}', True, "j", _FL),
    Shape("f\"{{url_for('index')}}{{{x}}}\"", True, "j", _FL),
    Shape('reverse("home") + {x}', True, "j", _DJ),
    Shape('{x} + url_for("index")', True, "j", _FL),
    Shape("f\"{{reverse('ops:home')}}{{{x}}}\"", True, "k", _DJ),
    Shape('url_for("ops.list") + {x}', True, "k", _FL),
    Shape('"{{}}{{}}".format(url_for("ops.list"), {x})', True, "k", _FL),
    Shape('{x} + reverse("ops:home")', True, "k", _DJ),
)
BASE = {"j": "h", "k": "i"}
"""The gen_h family whose wrappers and flows each family uses."""


def generate(fam: str) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, object]]]:
    """Cases and labels of one family (every combination once, no randomness)."""
    base = BASE[fam]
    wraps = [w for w in WRAPS if w.fam == base]
    flows = URL_FLOWS[base]
    cases: dict[str, dict[str, str]] = {}
    labels: dict[str, dict[str, object]] = {}
    for n, (shape, wrap) in enumerate(product([s for s in SITE_URLS if s.fam == fam], wraps)):
        name, helper, call = flows[n % len(flows)]
        case_id = f"601-site-url-{n:03d}-{'real' if shape.real else 'false'}"
        cases[case_id] = _url_files(wrap, shape, name, helper, call)
        labels[case_id] = {
            "category": "site-url",
            "cwe": 601,
            "real": shape.real,
            "kind": "tainted" if shape.real else "safe-api",
            "propagation": f"{wrap.name}-{name}",
            "framework": wrap.name,
            "sink": shape.code[:60],
        }
    return cases, labels


def main() -> None:
    """Command line."""
    run_families(generate, ["j", "k"])


if __name__ == "__main__":
    main()
