"""Families ``h`` (tuning) and ``i`` (held out): three false-positive classes found when Bastion
scanned its own server, each with real variants beside the false ones.

Written together, before the engine was changed for them; ``h`` is the tuning split, ``i`` is
scored once before and once after the fixes, its misses not looked at in between. The two
families share no sink spelling, receiver, wrapper or helper shape: each list below is tagged
with the family that uses it.

* ``django-raw`` (CWE-89): ``.raw(...)``/``.extra(...)`` are SQL only on a Django manager or
  queryset (``Model.objects.raw``, ``Model.objects.using(db).raw``, a queryset variable);
  false: ``.raw(...)`` on other objects (a matcher, a codec, a project class), parameters
  passed apart from the SQL.
* ``sqlalchemy`` (CWE-89): SQLAlchemy's statement builders (``select/insert/update/delete``,
  ``Table.update()``, ``.values``, ``.where``, ``text().bindparams``) bind values as parameters;
  real: tainted text inside ``text(...)``, ``literal_column(...)``, ``exec_driver_sql``.
* ``redirect-prefix`` (CWE-601): a URL whose constant start fixes scheme and host or a same-site
  path (``/alerts/...``) cannot leave the site, inline, in a variable, returned by a helper or
  kept under a key of a returned dict; real: ``""``, ``"/"`` alone, ``"//"``, a host without a
  path (``https://example.com`` + ``@evil``), a tainted start.

Usage: ``python bench/sast/gen_h.py [--out build/sast/cases] [--family h] [--family i]``
"""

# ruff: noqa: E501 - tables of code snippets read better unwrapped

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from itertools import product

from families import run_families


@dataclass(frozen=True)
class Wrap:
    """A web handler that reads the untrusted value into ``raw`` and runs ``{body}``."""

    name: str
    fam: str
    imports: tuple[str, ...]
    code: str
    redirect: str
    """The framework's redirect callable, imported by ``imports``."""
    redirect_kw: str
    """The name of its URL parameter."""


@dataclass(frozen=True)
class Shape:
    """One statement or URL shape with ``{x}`` standing for the value; ``real``: exploitable."""

    code: str
    real: bool
    fam: str
    imports: tuple[str, ...] = ()
    module: str = ""
    """Module-level code the shape needs (a model class, a table, a matcher)."""


WRAPS = (
    Wrap(
        "flask",
        "h",
        ("from flask import Flask, redirect, request",),
        'app = Flask(__name__)\n\n\n@app.route("/act", methods=["POST"])\ndef act():\n    raw = request.form.get("term", "")\n{body}\n    return "done"\n',
        "redirect",
        "location",
    ),
    Wrap(
        "django",
        "h",
        ("from django.http import HttpResponse", "from django.shortcuts import redirect"),
        'def act(request):\n    raw = request.GET.get("term", "")\n{body}\n    return HttpResponse("done")\n',
        "redirect",
        "to",
    ),
    Wrap(
        "fastapi",
        "h",
        ("from fastapi import FastAPI, Query", "from fastapi.responses import RedirectResponse"),
        'app = FastAPI()\n\n\n@app.get("/act")\ndef act(term: str = Query("")):\n    raw = term\n{body}\n    return {{"done": True}}\n',
        "RedirectResponse",
        "url",
    ),
    Wrap(
        "flask-bp",
        "i",
        ("import flask",),
        'bp = flask.Blueprint("ops", __name__)\n\n\n@bp.get("/ops")\ndef ops():\n    raw = flask.request.args["item"]\n{body}\n    return "done"\n',
        "flask.redirect",
        "location",
    ),
    Wrap(
        "django-cbv",
        "i",
        ("from django.http import HttpResponse, HttpResponseRedirect", "from django.views import View"),
        'class OpsView(View):\n    def post(self, request):\n        raw = request.POST["item"]\n{body8}\n        return HttpResponse("done")\n',
        "HttpResponseRedirect",
        "redirect_to",
    ),
    Wrap(
        "fastapi-form",
        "i",
        ("from fastapi import FastAPI, Form", "from starlette.responses import RedirectResponse"),
        'app = FastAPI()\n\n\n@app.post("/ops")\nasync def ops(item: str = Form(...)):\n    raw = item\n{body}\n    return {{"done": True}}\n',
        "RedirectResponse",
        "url",
    ),
)

_MODEL_H = "class Entry(models.Model):\n    title = models.CharField(max_length=80)"
_MODEL_I = "class Ticket(models.Model):\n    subject = models.CharField(max_length=120)"
_DJ = ("from django.db import models",)
_MATCHER_H = 'def _matcher():\n    index = ahocorasick.Automaton()\n    index.add_word("token", 5)\n    index.make_automaton()\n    return index'
_CODEC_I = "class Frame:\n    def __init__(self, payload):\n        self.payload = payload\n\n    def raw(self, text):\n        return self.payload + text.encode()"

DJANGO_RAW = (
    # real: a manager or queryset runs the SQL
    Shape("rows = list(Entry.objects.raw({x}))", True, "h", _DJ, _MODEL_H),
    Shape('rows = Entry.objects.using("replica").raw({x})', True, "h", _DJ, _MODEL_H),
    Shape(
        "live = Entry.objects.filter(title__isnull=False)\nrows = live.extra(where=[{x}])",
        True,
        "h",
        _DJ,
        _MODEL_H,
    ),
    Shape("manager = Entry.objects\nrows = manager.raw({x})", True, "h", _DJ, _MODEL_H),
    Shape("rows = Ticket._default_manager.raw({x})", True, "i", _DJ, _MODEL_I),
    Shape("rows = Ticket.objects.all().extra(select={{'n': {x}}})", True, "i", _DJ, _MODEL_I),
    Shape(
        "queryset = Ticket.objects.exclude(subject='')\nfound = queryset.extra(where=[{x}])",
        True,
        "i",
        _DJ,
        _MODEL_I,
    ),
    Shape("rows = [t.pk for t in Ticket.objects.db_manager('default').raw({x})]", True, "i", _DJ, _MODEL_I),
    # false: raw() of something else, or the value passed apart from the SQL
    Shape("hits = [end for end, _ in _matcher().raw({x})]", False, "h", ("import ahocorasick",), _MATCHER_H),
    Shape(
        'rows = Entry.objects.raw("SELECT id FROM entry WHERE title = %s", [{x}])', False, "h", _DJ, _MODEL_H
    ),
    Shape(
        "sample = wave_reader.raw({x})",
        False,
        "h",
        ("from audio import WaveReader",),
        'wave_reader = WaveReader("a.wav")',
    ),
    Shape(
        "packet = self_codec().raw({x})",
        False,
        "h",
        ("import codecs",),
        'def self_codec():\n    return codecs.getincrementalencoder("utf-8")()',
    ),
    Shape("blob = Frame(b'').raw({x})", False, "i", (), _CODEC_I),
    Shape("frame = Frame(b'hdr')\nblob = frame.raw({x})", False, "i", (), _CODEC_I),
    Shape(
        'rows = Ticket.objects.raw("SELECT id FROM ticket WHERE subject = %(s)s", {{"s": {x}}})',
        False,
        "i",
        _DJ,
        _MODEL_I,
    ),
    Shape(
        "html = renderer.raw({x})", False, "i", ("import mistune",), "renderer = mistune.create_markdown()"
    ),
)

_SA = ("from sqlalchemy import create_engine, delete, insert, literal_column, select, text, update",)
_TABLE = 'engine = create_engine("sqlite://")\nmeta = MetaData()\nusers = Table("users", meta, Column("id", Integer), Column("name", String))'
_TABLE_IMPORTS = ("from sqlalchemy import Column, Integer, MetaData, String, Table",)
_SA_I = ("import sqlalchemy as sa",)
_TABLE_I = 'engine = sa.create_engine("sqlite://")\nmeta = sa.MetaData()\nnotes = sa.Table("notes", meta, sa.Column("id", sa.Integer), sa.Column("body", sa.String))'

SQLALCHEMY = (
    # false: bound parameters
    Shape(
        "stmt = update(users).where(users.c.id == 1).values(name={x})",
        False,
        "h",
        _SA + _TABLE_IMPORTS,
        _TABLE,
    ),
    Shape("stmt = insert(users).values(name={x})", False, "h", _SA + _TABLE_IMPORTS, _TABLE),
    Shape(
        'fields = {{"name": {x}}}\nstmt = update(users).where(users.c.id.in_([1, 2])).values(**fields)',
        False,
        "h",
        _SA + _TABLE_IMPORTS,
        _TABLE,
    ),
    Shape("stmt = select(users).where(users.c.name == {x})", False, "h", _SA + _TABLE_IMPORTS, _TABLE),
    Shape(
        'stmt = text("SELECT id FROM users WHERE name = :n").bindparams(n={x})',
        False,
        "h",
        _SA + _TABLE_IMPORTS,
        _TABLE,
    ),
    Shape("stmt = delete(users).where(users.c.name == {x})", False, "h", _SA + _TABLE_IMPORTS, _TABLE),
    Shape("stmt = notes.update().where(notes.c.id == 7).values(body={x})", False, "i", _SA_I, _TABLE_I),
    Shape("stmt = notes.insert().values(body={x})", False, "i", _SA_I, _TABLE_I),
    Shape("stmt = sa.insert(notes)\nstmt = stmt.values(body={x})", False, "i", _SA_I, _TABLE_I),
    Shape("stmt = sa.select(notes.c.id).filter_by(body={x}).limit(5)", False, "i", _SA_I, _TABLE_I),
    Shape(
        'row = {{"body": {x}, "id": 3}}\nstmt = sa.update(notes).values(row).where(notes.c.id == row["id"])',
        False,
        "i",
        _SA_I,
        _TABLE_I,
    ),
    Shape(
        'stmt = sa.text("DELETE FROM notes WHERE body = :b").bindparams(sa.bindparam("b", {x}))',
        False,
        "i",
        _SA_I,
        _TABLE_I,
    ),
    # real: the value is SQL text
    Shape(
        "stmt = text(f\"SELECT id FROM users WHERE name = '{{{x}}}'\")",
        True,
        "h",
        _SA + _TABLE_IMPORTS,
        _TABLE,
    ),
    Shape(
        'stmt = select(users).where(text("name = \'" + {x} + "\'"))', True, "h", _SA + _TABLE_IMPORTS, _TABLE
    ),
    Shape("stmt = update(users).where(text({x})).values(name='x')", True, "h", _SA + _TABLE_IMPORTS, _TABLE),
    Shape("stmt = select(users).order_by(literal_column({x}))", True, "h", _SA + _TABLE_IMPORTS, _TABLE),
    Shape(
        "stmt = text(\"SELECT id FROM users WHERE name = '%s'\" % {x}).bindparams()",
        True,
        "h",
        _SA + _TABLE_IMPORTS,
        _TABLE,
    ),
    Shape(
        'stmt = sa.select(notes).where(sa.text("body LIKE \'%" + {x} + "%\'"))', True, "i", _SA_I, _TABLE_I
    ),
    Shape(
        "stmt = sa.update(notes).values(body='x').where(sa.text('id = ' + {x}))", True, "i", _SA_I, _TABLE_I
    ),
    Shape('stmt = sa.text("SELECT * FROM notes ORDER BY {{}}".format({x}))', True, "i", _SA_I, _TABLE_I),
    Shape("stmt = sa.select(sa.literal_column({x})).select_from(notes)", True, "i", _SA_I, _TABLE_I),
    Shape("stmt = notes.select().where(sa.text(f\"body = '{{{x}}}'\"))", True, "i", _SA_I, _TABLE_I),
)
# how a statement is run (each family its own)
RUNS = {
    "h": (
        "with engine.connect() as conn:\n    conn.execute(stmt)",
        "with engine.begin() as conn:\n    result = conn.execute(stmt)",
    ),
    "i": (
        "with sa.orm.Session(engine) as session:\n    session.execute(stmt)",
        "engine.connect().execute(stmt)",
    ),
}
# real SQL text run directly (the driver-level call)
DRIVER = (
    Shape(
        'with engine.connect() as conn:\n    conn.exec_driver_sql("SELECT id FROM users WHERE name = \'" + {x} + "\'")',
        True,
        "h",
        _SA + _TABLE_IMPORTS,
        _TABLE,
    ),
    Shape(
        "engine.connect().exec_driver_sql(f\"DELETE FROM notes WHERE body = '{{{x}}}'\")",
        True,
        "i",
        _SA_I,
        _TABLE_I,
    ),
)

URLS = (
    # false: the constant start fixes the site
    Shape('f"/alerts/{{{x}}}"', False, "h"),
    Shape('"/search?q=" + {x}', False, "h"),
    Shape('"/items/{{}}/edit".format({x})', False, "h"),
    Shape('"https://example.com/next/" + {x}', False, "h"),
    Shape('"/p/%s" % {x}', False, "h"),
    Shape("f\"/findings?{{urlencode({{'q': {x}}})}}\"", False, "i", ("from urllib.parse import urlencode",)),
    Shape('"/done#" + {x}', False, "i"),
    Shape('f"https://docs.example.org/{{{x}}}"', False, "i"),
    Shape('"/u/{{name}}".format(name={x})', False, "i"),
    Shape('"/archive/%s/%s" % (2024, {x})', False, "i"),
    # real: the value decides the site
    Shape('f"/{{{x}}}"', True, "h"),
    Shape('"//" + {x}', True, "h"),
    Shape('"https://example.com" + {x}', True, "h"),
    Shape('f"{{{x}}}/home"', True, "h"),
    Shape('"/{{}}".format({x})', True, "h"),
    Shape('"" + {x}', True, "i"),
    Shape('"/%s" % {x}', True, "i"),
    Shape('"https://" + {x} + "/login"', True, "i"),
    Shape('f"//{{{x}}}/x"', True, "i"),
    Shape('"{{}}/next".format({x})', True, "i"),
)
# how a URL reaches the redirect: (name, helper code with {url} for the shape over x, call)
URL_FLOWS = {
    "h": (
        ("inline", "", "{redirect}({url_raw})"),
        ("variable", "", "target = {url_raw}\n{redirect}(target)"),
        ("helper", "def page_url(x):\n    return {url}", "{redirect}(page_url(raw))"),
        (
            "helper-dict",
            'def links(x):\n    return {{"page": {url}, "label": x}}',
            '{redirect}(links(raw)["page"])',
        ),
    ),
    "i": (
        ("keyword", "", "{redirect}({kw}={url_raw})"),
        (
            "method",
            "class Pages:\n    def next_url(self, x):\n        return {url}",
            "{redirect}(Pages().next_url(raw))",
        ),
        ("other-module", "", "{redirect}(helpers.target(raw))"),
        (
            "dict-var",
            'def summary(x):\n    data = {{"name": x}}\n    data["href"] = {url}\n    return data',
            '{redirect}(summary(raw)["href"])',
        ),
    ),
}
# real by the flow alone: the dict's other key is the raw value
URL_FLOW_REAL = {
    "h": (
        "helper-dict-other",
        'def links(x):\n    return {{"page": "/home", "label": x}}',
        '{redirect}(links(raw)["label"])',
    ),
    "i": (
        "dict-var-other",
        'def summary(x):\n    data = {{"name": x}}\n    data["href"] = "/"\n    return data',
        '{redirect}(summary(raw)["name"])',
    ),
}


def indent(text: str, n: int) -> str:
    """``text`` indented by ``n`` spaces."""
    return textwrap.indent(text, " " * n)


def _file(wrap: Wrap, imports: tuple[str, ...], module: str, body: str) -> str:
    depth = 8 if "{body8}" in wrap.code else 4
    handler = wrap.code.replace("{body8}", "{body}").format(body=indent(body, depth))
    head = "\n".join(dict.fromkeys((*imports, *wrap.imports)))
    return "\n\n\n".join(p for p in (head, module, handler) if p).rstrip() + "\n"


def sql_cases(fam: str) -> list[tuple[str, bool, str, dict[str, str]]]:
    """(category, real, variant, files) of the two CWE-89 classes."""
    out: list[tuple[str, bool, str, dict[str, str]]] = []
    wraps = [w for w in WRAPS if w.fam == fam]
    for n, (shape, wrap) in enumerate(product([s for s in DJANGO_RAW if s.fam == fam], wraps)):
        flow = n % 2
        body = (
            shape.code.format(x="raw")
            if flow == 0
            else "clause = raw.strip()\n" + shape.code.format(x="clause")
        )
        out.append(
            (
                "django-raw",
                shape.real,
                f"{wrap.name}-{flow}",
                {"app.py": _file(wrap, shape.imports, shape.module, body)},
            )
        )
    runs = RUNS[fam]
    for n, (shape, wrap) in enumerate(product([s for s in (*SQLALCHEMY, *DRIVER) if s.fam == fam], wraps)):
        if shape in DRIVER:
            body = shape.code.format(x="raw")
        elif n % 3 == 2:
            helper = "def build(value):\n" + indent(shape.code.format(x="value"), 4) + "\n    return stmt"
            body = "stmt = build(raw)\n" + runs[n % 2]
            out.append(
                (
                    "sqlalchemy",
                    shape.real,
                    f"{wrap.name}-helper",
                    {"app.py": _file(wrap, shape.imports, shape.module + "\n\n\n" + helper, body)},
                )
            )
            continue
        else:
            body = shape.code.format(x="raw") + "\n" + runs[n % 2]
        out.append(
            (
                "sqlalchemy",
                shape.real,
                f"{wrap.name}-inline",
                {"app.py": _file(wrap, shape.imports, shape.module, body)},
            )
        )
    return out


def url_cases(fam: str) -> list[tuple[str, bool, str, dict[str, str]]]:
    """(category, real, variant, files) of the open-redirect class."""
    out: list[tuple[str, bool, str, dict[str, str]]] = []
    wraps = [w for w in WRAPS if w.fam == fam]
    shapes = [s for s in URLS if s.fam == fam]
    flows = URL_FLOWS[fam]
    for n, (shape, wrap) in enumerate(product(shapes, wraps)):
        name, helper, call = flows[n % len(flows)]
        files = _url_files(wrap, shape, name, helper, call)
        out.append(("redirect-prefix", shape.real, f"{wrap.name}-{name}", files))
    name, helper, call = URL_FLOW_REAL[fam]
    out.extend(
        ("redirect-prefix", True, f"{wrap.name}-{name}", _url_files(wrap, shapes[0], name, helper, call))
        for wrap in wraps
    )
    return out


def _url_files(wrap: Wrap, shape: Shape, name: str, helper: str, call: str) -> dict[str, str]:
    body = "return " + call.format(
        redirect=wrap.redirect, kw=wrap.redirect_kw, url_raw=shape.code.format(x="raw")
    )
    if "\n" in body:
        first, rest = call.split("\n", 1)
        body = (
            first.format(url_raw=shape.code.format(x="raw"))
            + "\nreturn "
            + rest.format(redirect=wrap.redirect)
        )
    files: dict[str, str] = {}
    imports = shape.imports
    module = helper.format(url=shape.code.format(x="x")) if helper else ""
    if name == "other-module":
        files["helpers.py"] = (
            "\n".join(shape.imports)
            + ("\n\n\n" if shape.imports else "")
            + "def target(x):\n    return "
            + shape.code.format(x="x")
            + "\n"
        )
        imports = ("import helpers",)
        module = ""
    files["app.py"] = _file(wrap, imports, module, body)
    return dict(sorted(files.items()))


def generate(fam: str) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, object]]]:
    """Cases and labels of one family (every combination once, no randomness)."""
    cases: dict[str, dict[str, str]] = {}
    labels: dict[str, dict[str, object]] = {}
    cwe = {"django-raw": 89, "sqlalchemy": 89, "redirect-prefix": 601}
    counters: dict[str, int] = {}
    for category, real, variant, files in (*sql_cases(fam), *url_cases(fam)):
        n = counters.get(category, 0)
        counters[category] = n + 1
        case_id = f"{cwe[category]}-{category}-{n:03d}-{'real' if real else 'false'}"
        cases[case_id] = files
        labels[case_id] = {
            "category": category,
            "cwe": cwe[category],
            "real": real,
            "kind": "tainted" if real else "safe-api",
            "propagation": variant,
            "framework": variant.split("-")[0],
            "sink": files["app.py"].strip().splitlines()[-2].strip()[:60],
        }
    return cases, labels


def main() -> None:
    """Command line."""
    run_families(generate, ["h", "i"])


if __name__ == "__main__":
    main()
