"""Generate the labelled taint suite: small web handlers, one potential vulnerability each.

Two template families share the vocabulary of ``catalog.py`` but write code differently:

* ``a`` (tuning): Flask view functions; string building inline or through a helper in the
  same module; false cases sanitise, use a constant, a dead ``if False`` branch, overwrite,
  call the safe API, or guard with an ``in`` check around the sink.
* ``b`` (held out for reporting): Django views, FastAPI handlers and Flask handlers using
  other sources; values travel through another module, a class attribute, a list join, a
  loop, a dict; false cases guard with an early ``abort``/``return``, use module constants,
  ``DEBUG = False`` branches, sanitisers inside helpers, and the safe API.

Usage: ``python bench/sast/gen.py [--out bench/sast/cases] [--per-kind 26]``. Writes
``<out>/<family>/<case>/app.py`` (and ``helpers.py``) plus ``<out>/<family>/labels.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import textwrap
from pathlib import Path

from catalog import CATEGORIES, Category, Snippet

SOURCES_A = (
    ('request.args.get("q", "")', "flask"),
    ('request.args["q"]', "flask"),
    ('request.form["q"]', "flask"),
    ('request.form.get("q", "")', "flask"),
    ('request.get_json()["q"]', "flask"),
    ('request.cookies.get("q")', "flask"),
    ('request.headers.get("X-Query")', "flask"),
    ('request.values.get("q")', "flask"),
    ("<route>", "flask"),
)
SOURCES_B = (
    ('request.GET.get("q", "")', "django"),
    ('request.POST["q"]', "django"),
    ('request.COOKIES.get("q")', "django"),
    ('request.META.get("HTTP_X_QUERY", "")', "django"),
    ("<fastapi-param>", "fastapi"),
    ('request.query_params.get("q")', "fastapi-request"),
    ("request.data.decode()", "flask"),
    ('request.json.get("q")', "flask"),
    ('input("query: ")', "script"),
    ('os.environ.get("QUERY", "")', "script"),
)
NAMES = ("value", "name", "term", "item", "target", "payload", "query", "entry", "user_input", "arg")

PROPS_A = (
    ("concat", 'data = "{P}" + {v} + "{X}"'),
    ("fstring", 'data = f"{P}{{{v}}}{X}"'),
    ("percent", 'data = "{P}%s{X}" % {v}'),
    ("format", 'data = "{P}{{}}{X}".format({v})'),
    ("join", 'data = "".join(["{P}", {v}, "{X}"])'),
    ("direct", "data = {v}"),
    ("helper", "data = build({v})"),
    ("dict", 'box = {{"k": {v}}}\ndata = "{P}" + box["k"] + "{X}"'),
)
PROPS_B = (
    ("list-join", 'parts = ["{P}"]\nparts.append({v})\nparts.append("{X}")\ndata = "".join(parts)'),
    ("other-module", "data = make_value({v})"),
    ("class-attr", "holder = Holder({v})\ndata = holder.value()"),
    ("loop", 'data = ""\nfor piece in ["{P}", {v}, "{X}"]:\n    data += piece'),
    ("ternary", 'data = ("{P}" + {v} + "{X}") if {v} else "{P}{X}"'),
    ("chain", 'first = {v}\nsecond = first.strip()\ndata = f"{P}{{second}}{X}"'),
    ("dict-get", 'opts = {{}}\nopts["q"] = {v}\ndata = "{P}" + opts.get("q", "") + "{X}"'),
    ("sink-in-module", "data = {v}"),
)
FALSE_A = ("sanitized", "int-cast", "constant", "dead-branch", "overwritten", "safe-api", "guard-in")
FALSE_B = ("sanitized", "int-cast", "constant", "dead-branch", "overwritten", "safe-api", "guard-abort")
REAL_EXTRA = ("wrong-sanitizer",)

DJANGO_RET = {
    79: (
        Snippet("return HttpResponse({v})", ("from django.http import HttpResponse",), ret=True),
        Snippet(
            "return HttpResponse(mark_safe({v}))",
            ("from django.http import HttpResponse", "from django.utils.safestring import mark_safe"),
            ret=True,
        ),
    ),
    601: (
        Snippet(
            "return HttpResponseRedirect({v})", ("from django.http import HttpResponseRedirect",), ret=True
        ),
        Snippet("return redirect({v})", ("from django.shortcuts import redirect",), ret=True),
    ),
}
FASTAPI_RET = {
    79: (
        Snippet("return HTMLResponse({v})", ("from fastapi.responses import HTMLResponse",), ret=True),
        Snippet(
            "return HTMLResponse(content={v})", ("from fastapi.responses import HTMLResponse",), ret=True
        ),
    ),
    601: (
        Snippet(
            "return RedirectResponse({v})", ("from fastapi.responses import RedirectResponse",), ret=True
        ),
        Snippet(
            "return RedirectResponse(url={v})", ("from fastapi.responses import RedirectResponse",), ret=True
        ),
    ),
}


def _ind(code: str, n: int) -> str:
    return textwrap.indent(code, " " * n)


class Builder:
    """Writes one case: a module (and maybe a helper module) from chosen parts."""

    def __init__(self, family: str, rng: random.Random) -> None:
        self.family = family
        self.rng = rng

    def sinks_for(self, cat: Category, framework: str) -> tuple[Snippet, ...]:
        if self.family == "b" and framework == "django" and cat.cwe in DJANGO_RET:
            return DJANGO_RET[cat.cwe]
        if self.family == "b" and framework.startswith("fastapi") and cat.cwe in FASTAPI_RET:
            return FASTAPI_RET[cat.cwe]
        if framework in ("django", "fastapi", "fastapi-request", "script"):
            plain = tuple(s for s in cat.sinks if not s.ret)
            if plain:
                return plain
        return cat.sinks

    def case(self, cat: Category, kind: str, real: bool) -> tuple[dict[str, str], dict[str, object]]:
        rng = self.rng
        sources = SOURCES_A if self.family == "a" else SOURCES_B
        props = PROPS_A if self.family == "a" else PROPS_B
        source, framework = rng.choice(sources)
        if cat.cwe == 22 and "os.environ" in source:
            # a path from the environment is configuration, not an attack (rules.yml)
            source, framework = ('input("query: ")', "script")
        if ((cat.cwe in (79, 601) or cat.style != "taint") and framework in ("script", "django")) or (
            cat.style != "taint" and framework.startswith("fastapi")
        ):
            source, framework = sources[0] if sources[0][1] == "flask" else ('request.json.get("q")', "flask")
        if cat.style == "random":
            pick = rng.choice(
                cat.randoms if real or kind in ("dead-branch", "overwritten") else cat.safe_randoms
            )
            source = pick.code
        elif cat.style == "api" and kind == "safe-api":
            pass
        prop_name, prop = rng.choice(props)
        var = rng.choice(NAMES)
        imports: set[str] = set()
        module_code: list[str] = []
        helpers: list[str] = []
        sink = rng.choice(self.sinks_for(cat, framework))
        if cat.style == "random":
            imports.update(pick.imports)
        if kind == "safe-api" and cat.style == "random":
            pass
        elif kind == "safe-api":
            candidates = [s for s in cat.safe_apis if s.ret == sink.ret] or list(cat.safe_apis)
            if framework != "flask" and self.family == "b":
                candidates = [s for s in candidates if not s.ret] or candidates
            sink = rng.choice(candidates)
            prop_name, prop = ("direct", "data = {v}")
        body: list[str] = []
        # the source line
        if kind == "constant":
            if self.family == "a":
                body.append(f'{var} = "{rng.choice(["alice", "report.txt", "42", "home"])}"')
            else:
                module_code.append(f'DEFAULT_{var.upper()} = "{rng.choice(["guest", "index", "7"])}"')
                body.append(f"{var} = DEFAULT_{var.upper()}")
        elif source == "<route>" or source == "<fastapi-param>":
            pass
        else:
            body.append(f"{var} = {source}")
        if "os.environ" in source or "input(" in source:
            imports.add("import os")
        san: Snippet | None = None
        if kind == "sanitized":
            options = cat.sanitizers or (Snippet("int({v})"),)
            san = rng.choice(options)
        elif kind == "int-cast":
            san = Snippet("int({v})")
        elif kind == "wrong-sanitizer":
            san = rng.choice(cat.wrong_sanitizers)
        if san is not None:
            imports.update(san.imports)
            if self.family == "b" and kind == "sanitized" and prop_name not in ("other-module", "class-attr"):
                body.append(f"clean = {san.code.format(v=var)}")
                var = "clean"
            else:
                body.append(f"{var} = {san.code.format(v=var)}")
        if kind == "overwritten" and self.family == "b":
            if cat.style == "random":
                imports.add("import secrets")
                body.append(f"{var} = secrets.token_hex(16)")
            else:
                body.append(f'{var} = "guest"')
        if kind == "guard-abort":
            module_code.append('ALLOWED = {"alpha", "beta", "gamma"}')
            if framework == "django":
                imports.add("from django.http import HttpResponseBadRequest")
                body.append(f"if {var} not in ALLOWED:\n    return HttpResponseBadRequest()")
            elif framework.startswith("fastapi"):
                imports.add("from fastapi import HTTPException")
                body.append(f"if {var} not in ALLOWED:\n    raise HTTPException(status_code=400)")
            elif framework == "script":
                body.append(f"if {var} not in ALLOWED:\n    raise SystemExit(2)")
            else:
                imports.add("from flask import abort")
                body.append(f"if {var} not in ALLOWED:\n    abort(400)")
        # propagation
        P, X = cat.prefix, cat.suffix
        body.append(prop.format(P=P, X=X, v=var))
        if prop_name == "helper":
            module_code.append(f'def build(part):\n    return "{P}" + part + "{X}"')
        elif prop_name == "other-module":
            imports.add("from helpers import make_value")
            helpers.append(f'def make_value(part):\n    text = "{P}%s{X}" % part\n    return text')
        elif prop_name == "class-attr":
            module_code.append(
                f"class Holder:\n    def __init__(self, raw):\n        self.raw = raw\n\n"
                f'    def value(self):\n        return "{P}" + self.raw + "{X}"'
            )
        if kind == "overwritten" and self.family == "a":
            if cat.style == "random":
                imports.add("import secrets")
                body.append("data = secrets.token_urlsafe(16)")
            else:
                body.append(f'data = "{P}fixed{X}"')
        # the sink
        imports.update(sink.imports)
        sink_code = sink.code.format(v="data")
        if prop_name == "sink-in-module" and not sink.ret and kind != "safe-api":
            imports.add("from helpers import process")
            helpers.append("def process(item):\n" + _ind(sink.code.format(v="item"), 4) + "\n    return None")
            for imp in sink.imports:
                helpers.insert(0, imp)
            sink_code = "process(data)"
        if kind == "dead-branch":
            if self.family == "a":
                sink_code = "if False:\n" + _ind(sink_code, 4)
            else:
                module_code.append("DEBUG = False")
                sink_code = "if DEBUG:\n" + _ind(sink_code, 4)
        elif kind == "guard-in":
            sink_code = f'if {var} in ("alpha", "beta"):\n' + _ind(sink_code, 4)
        body.append(sink_code)
        if not sink.ret or kind in ("dead-branch", "guard-in"):
            body.append('return "done"' if framework not in ("django",) else 'return HttpResponse("done")')
            if framework == "django":
                imports.add("from django.http import HttpResponse")
        files = {"app.py": self.module(framework, source, var, imports, module_code, body)}
        if helpers:
            files["helpers.py"] = "\n".join(helpers) + "\n"
        label = {
            "cwe": cat.cwe,
            "category": cat.name,
            "real": real,
            "kind": kind,
            "framework": framework,
            "propagation": prop_name,
            "source": source,
            "sink": sink.code.split("\n")[-1],
        }
        return files, label

    def module(
        self,
        framework: str,
        source: str,
        var: str,
        imports: set[str],
        module_code: list[str],
        body: list[str],
    ) -> str:
        head = sorted(i for i in imports if i.startswith("import "))
        head += sorted(i for i in imports if i.startswith("from "))
        lines: list[str] = []
        text = "\n".join(body)
        if framework == "django":
            head.append("from django.views.decorators.http import require_http_methods")
            sig = "@require_http_methods(['GET', 'POST'])\ndef view(request):"
        elif framework == "fastapi":
            head.append("from fastapi import FastAPI")
            lines.append("app = FastAPI()")
            sig = f'@app.get("/items")\ndef read_item({var}: str = ""):'
        elif framework == "fastapi-request":
            head.append("from fastapi import FastAPI, Request")
            lines.append("app = FastAPI()")
            sig = '@app.get("/items")\nasync def read_item(request: Request):'
        elif framework == "script":
            sig = "def main():"
        else:
            head.append("from flask import Flask, request")
            lines.append("app = Flask(__name__)")
            if source == "<route>":
                sig = f'@app.route("/page/<{var}>")\ndef page({var}):'
            else:
                sig = '@app.route("/page", methods=["GET", "POST"])\ndef page():'
        extra = [i for i in imports if not i.startswith(("import ", "from "))]
        parts = ["\n".join(head), *extra, *lines, *module_code, sig + "\n" + _ind(text, 4)]
        if framework == "script":
            parts.append('if __name__ == "__main__":\n    main()')
        return "\n\n\n".join(p for p in parts if p) + "\n"


def generate(family: str, seed: int, per_kind: int, out: Path) -> int:
    """Write one family's cases; the number written."""
    rng = random.Random(seed)
    builder = Builder(family, rng)
    target = out / family
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    labels: dict[str, object] = {}
    false_kinds = FALSE_A if family == "a" else FALSE_B
    seen: set[str] = set()
    count = 0
    for cat in CATEGORIES:
        plan = [("real", True)] * per_kind
        plan += [(false_kinds[i % len(false_kinds)], False) for i in range(per_kind)]
        if cat.style == "taint":
            for i in range(per_kind // 6):
                plan[i] = (REAL_EXTRA[0], True)
        else:
            kinds = (
                ("safe-api", "dead-branch", "overwritten")
                if cat.style == "random"
                else ("safe-api", "dead-branch")
            )
            plan = [("real", True)] * per_kind + [(kinds[i % len(kinds)], False) for i in range(per_kind)]
        for index, (kind, real) in enumerate(plan):
            for _attempt in range(40):
                files, label = builder.case(cat, kind, real)
                digest = "\x00".join(files.values())
                if digest not in seen:
                    break
            seen.add(digest)
            case_id = f"{cat.cwe}-{cat.name}-{index:03d}-{'real' if real else 'false'}"
            case_dir = target / case_id
            case_dir.mkdir()
            for name, text in files.items():
                (case_dir / name).write_text(text, encoding="utf-8")
            labels[case_id] = label
            count += 1
    (target / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return count


def main() -> None:
    """Command line: both families, fixed seeds (a: 1, b: 2)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "cases")
    parser.add_argument(
        "--per-kind", type=int, default=26, help="real and false cases per category and family"
    )
    args = parser.parse_args()
    total = 0
    for family, seed in (("a", 1), ("b", 2)):
        total += generate(family, seed, args.per_kind, args.out)
    print(f"wrote {total} cases under {args.out}")


if __name__ == "__main__":
    main()
