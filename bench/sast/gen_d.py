"""Families ``d`` (tuning) and ``e`` (held out): a fourth and fifth independently written style.

Written after families a, b and c, sharing no code with them (neither ``catalog.py`` nor the
snippets of ``gen_c.py``): each family has its own handler wrappers, its own data-flow shapes and
its own sink spellings. ``d`` is the tuning split; ``e`` is scored once when written and once at
the end, and its misses are not looked at in between (RESULTS.md says which number is which).

* ``d``: FastAPI query/path/body (pydantic) parameters, Flask ``MethodView`` classes, Django
  class-based views; flows through service classes, dataclasses, ``**kwargs``, lambdas, dict and
  list comprehensions, ``str.format``/``%``; false: sanitised, overwritten, dead branch, other
  dataclass/dict field, helper returning a constant, allow-list guard, ``try: int()``.
* ``e``: Flask blueprints with aliased request dicts (``request.args.to_dict()``), FastAPI
  ``Request`` bodies and ``Header``/``Cookie`` parameters, Django REST ``request.data``, console
  scripts; flows through list appends, ``+=``, objects rendering their own fields, a second
  module, tuple unpacking, closures, ``dict.update``, loops; false: other tuple element, class
  sanitiser, regex early return, constant conditional expression, loop-overwritten, helper in
  another module that ignores its argument.

Usage: ``python bench/sast/gen_d.py [--out build/sast/cases] [--seed 11] [--per-kind 4]``
"""

# ruff: noqa: E501 - tables of code snippets read better unwrapped

from __future__ import annotations

import argparse
import random
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from families import write_family


@dataclass(frozen=True)
class Sink:
    """Dangerous or safe code using ``{v}`` (the value under test); ``fw``: frameworks it fits."""

    code: str
    imports: tuple[str, ...] = ()
    fw: tuple[str, ...] = ("flask", "django", "fastapi", "script")
    family: str = "deg"


@dataclass(frozen=True)
class Cat:
    """One weakness: CWE, how the value is built, its sinks, safe APIs and sanitisers."""

    name: str
    cwe: int
    prefix: str
    suffix: str
    sinks: tuple[Sink, ...]
    safe: tuple[Sink, ...]
    sanitizers: tuple[Sink, ...] = ()
    api: bool = False
    """The call is the weakness (328, 330, 614): real and false cases differ by the sink alone."""
    extra: dict[str, str] = field(default_factory=dict)


K = Sink
_SUB = ("import subprocess",)
_OS = ("import os",)
_LX = ("from lxml import etree",)
_FLASK_RESP = ("from flask import make_response",)
_DJ_RESP = ("from django.http import HttpResponse",)
_FA_RESP = ("from fastapi.responses import HTMLResponse",)

CATS: tuple[Cat, ...] = (
    Cat(
        "cmd",
        78,
        "nslookup ",
        "",
        sinks=(
            K("os.system({v})", _OS, family="d"),
            K("subprocess.check_call({v}, shell=True)", _SUB, family="d"),
            K("listing = subprocess.getoutput({v})", _SUB, family="e"),
            K('proc = subprocess.Popen(["sh", "-c", {v}])\nproc.wait()', _SUB, family="e"),
            K("pipe = os.popen({v})\npipe.close()", _OS),
        ),
        safe=(
            K('subprocess.run(["nslookup", {v}], check=False)', _SUB),
            K('subprocess.check_call(["nslookup", "--", {v}])', _SUB),
        ),
        sanitizers=(K("shlex.quote({v})", ("import shlex",)),),
    ),
    Cat(
        "sqli",
        89,
        "SELECT id FROM accounts WHERE owner = '",
        "'",
        sinks=(
            K('db = sqlite3.connect("shop.db")\ndb.execute({v})', ("import sqlite3",), family="d"),
            K(
                'cur = sqlite3.connect("shop.db").cursor()\ncur.execute({v})\nrows = cur.fetchall()',
                ("import sqlite3",),
            ),
            K(
                "with engine.connect() as conn:\n    conn.execute(text({v}))",
                ("from sqlalchemy import create_engine, text", 'engine = create_engine("sqlite://")'),
                family="e",
            ),
            K(
                'conn = psycopg2.connect("dbname=shop")\nconn.cursor().execute({v})',
                ("import psycopg2",),
                family="e",
            ),
        ),
        safe=(
            K(
                'db = sqlite3.connect("shop.db")\ndb.execute("SELECT id FROM accounts WHERE owner = ?", ({v},))',
                ("import sqlite3",),
            ),
            K(
                'conn = psycopg2.connect("dbname=shop")\nconn.cursor().execute("SELECT id FROM accounts WHERE owner = %s", ({v},))',
                ("import psycopg2",),
            ),
        ),
        sanitizers=(K("int({v})"),),
    ),
    Cat(
        "code",
        95,
        "",
        "",
        sinks=(
            K("result = eval({v})", family="d"),
            K("exec({v}, {{}})"),
            K('fn = compile({v}, "<expr>", "eval")\nresult = eval(fn)', family="e"),
        ),
        safe=(
            K("result = ast.literal_eval({v})", ("import ast",)),
            K("result = json.loads({v})", ("import json",)),
        ),
        sanitizers=(K("int({v})"), K("float({v})")),
    ),
    Cat(
        "ldap",
        90,
        "(&(objectClass=person)(cn=",
        "))",
        sinks=(
            K(
                'con = ldap.initialize("ldap://127.0.0.1")\nhits = con.search_s("ou=people,dc=corp", ldap.SCOPE_SUBTREE, {v})',
                ("import ldap",),
                family="d",
            ),
            K(
                'link = Connection(Server("127.0.0.1"), auto_bind=True)\nlink.search("ou=people,dc=corp", {v})',
                ("from ldap3 import Connection, Server",),
            ),
            K(
                'con = ldap.initialize("ldap://127.0.0.1")\nmsgid = con.search("ou=people,dc=corp", ldap.SCOPE_SUBTREE, {v})',
                ("import ldap",),
                family="e",
            ),
        ),
        safe=(
            K(
                'link = Connection(Server("127.0.0.1"), auto_bind=True)\nlink.search("ou=people,dc=corp", "(objectClass=person)", attributes=[{v}])',
                ("from ldap3 import Connection, Server",),
            ),
        ),
        sanitizers=(K("escape_filter_chars({v})", ("from ldap3.utils.conv import escape_filter_chars",)),),
    ),
    Cat(
        "xpath",
        643,
        "/catalog/item[@sku='",
        "']",
        sinks=(
            K('doc = etree.parse("catalog.xml")\nfound = doc.xpath({v})', _LX, family="d"),
            K('query = etree.XPath({v})\nfound = query(etree.parse("catalog.xml"))', _LX, family="e"),
            K('root = etree.parse("catalog.xml").getroot()\nfound = root.xpath({v})', _LX),
        ),
        safe=(
            K(
                'doc = etree.parse("catalog.xml")\nfound = doc.xpath("/catalog/item[@sku=$sku]", sku={v})',
                _LX,
            ),
        ),
        sanitizers=(K("int({v})"),),
    ),
    Cat(
        "xss",
        79,
        "<h1>Welcome ",
        "</h1>",
        sinks=(
            K("return {v}", fw=("flask",), family="d"),
            K("return make_response({v})", _FLASK_RESP, fw=("flask",), family="e"),
            K("return HttpResponse({v})", _DJ_RESP, fw=("django",)),
            K("return HTMLResponse(content={v})", _FA_RESP, fw=("fastapi",)),
            K("return Markup({v})", ("from markupsafe import Markup",), fw=("flask",)),
        ),
        safe=(
            K(
                'return render_template("welcome.html", name={v})',
                ("from flask import render_template",),
                fw=("flask",),
            ),
            K(
                'return JsonResponse({{"name": {v}}})',
                ("from django.http import JsonResponse",),
                fw=("django",),
            ),
            K('return {{"name": {v}}}', fw=("fastapi",)),
        ),
        sanitizers=(
            K("html.escape({v})", ("import html",)),
            K("escape({v})", ("from markupsafe import escape",)),
        ),
    ),
    Cat(
        "path",
        22,
        "uploads/",
        "",
        sinks=(
            K("with open({v}) as fh:\n    body = fh.read()", family="d"),
            K("body = pathlib.Path({v}).read_bytes()", ("import pathlib",), family="e"),
            K("os.remove({v})", _OS),
            K('shutil.copy({v}, "archive")', ("import shutil",), family="e"),
        ),
        safe=(
            K(
                'return send_from_directory("uploads", {v})',
                ("from flask import send_from_directory",),
                fw=("flask",),
            ),
            K("size = len({v})"),
        ),
        sanitizers=(
            K("os.path.basename({v})", _OS),
            K("secure_filename({v})", ("from werkzeug.utils import secure_filename",)),
        ),
    ),
    Cat(
        "redirect",
        601,
        "",
        "",
        sinks=(
            K("return redirect({v})", ("from flask import redirect",), fw=("flask",)),
            K(
                "return HttpResponseRedirect({v})",
                ("from django.http import HttpResponseRedirect",),
                fw=("django",),
                family="d",
            ),
            K("return redirect({v})", ("from django.shortcuts import redirect",), fw=("django",), family="e"),
            K(
                "return RedirectResponse(url={v})",
                ("from fastapi.responses import RedirectResponse",),
                fw=("fastapi",),
            ),
        ),
        safe=(
            K(
                'return redirect(url_for("home", ref={v}))',
                ("from flask import redirect, url_for",),
                fw=("flask",),
            ),
            K(
                'return redirect("/home?ref=" + quote({v}))',
                ("from django.shortcuts import redirect", "from urllib.parse import quote"),
                fw=("django",),
            ),
            K(
                'return RedirectResponse(url="/home?ref=" + quote({v}))',
                ("from fastapi.responses import RedirectResponse", "from urllib.parse import quote"),
                fw=("fastapi",),
            ),
        ),
    ),
    Cat(
        "deser",
        502,
        "",
        "",
        sinks=(
            K("obj = pickle.loads(base64.b64decode({v}))", ("import pickle", "import base64"), family="d"),
            K("obj = yaml.load({v}, Loader=yaml.Loader)", ("import yaml",)),
            K("obj = jsonpickle.decode({v})", ("import jsonpickle",), family="e"),
            K("obj = yaml.unsafe_load({v})", ("import yaml",), family="e"),
        ),
        safe=(
            K("obj = yaml.safe_load({v})", ("import yaml",)),
            K("obj = json.loads({v})", ("import json",)),
        ),
    ),
    Cat(
        "xxe",
        611,
        "",
        "",
        sinks=(
            K(
                "parser = etree.XMLParser(resolve_entities=True)\ntree = etree.fromstring({v}, parser)",
                _LX,
                family="d",
            ),
            K(
                "parser = etree.XMLParser(resolve_entities=True, no_network=False)\ntree = etree.fromstring({v}.encode(), parser=parser)",
                _LX,
                family="e",
            ),
            K(
                "parser = xml.sax.make_parser()\nparser.setFeature(feature_external_ges, True)\nparser.feed({v})",
                ("import xml.sax", "from xml.sax.handler import feature_external_ges"),
            ),
        ),
        safe=(
            K("parser = etree.XMLParser(resolve_entities=False)\ntree = etree.fromstring({v}, parser)", _LX),
            K("tree = defusedxml.ElementTree.fromstring({v})", ("import defusedxml.ElementTree",)),
            K("tree = ElementTree.fromstring({v})", ("from xml.etree import ElementTree",)),
        ),
    ),
    Cat(
        "trust",
        501,
        "",
        "",
        sinks=(
            K('session["display_name"] = {v}', ("from flask import session",), fw=("flask",)),
            K('request.session["display_name"] = {v}', fw=("django",)),
            K("session.update(display_name={v})", ("from flask import session",), fw=("flask",), family="e"),
        ),
        safe=(
            K(
                'session["visits"] = session.get("visits", 0) + 1\nlength = len({v})',
                ("from flask import session",),
                fw=("flask",),
            ),
            K('request.session["seen"] = True\nlength = len({v})', fw=("django",)),
        ),
        sanitizers=(K("int({v})"),),
    ),
    Cat(
        "hash",
        328,
        "",
        "",
        api=True,
        sinks=(
            K("password_hash = hashlib.md5({v}.encode()).hexdigest()", ("import hashlib",), family="d"),
            K('stored_password = hashlib.sha1({v}.encode("utf-8")).hexdigest()', ("import hashlib",)),
            K(
                'hasher = hashlib.new("md5")\nhasher.update({v}.encode())\napi_token = hasher.hexdigest()',
                ("import hashlib",),
                family="e",
            ),
        ),
        safe=(
            K("password_hash = hashlib.sha256({v}.encode()).hexdigest()", ("import hashlib",)),
            K("etag = hashlib.md5({v}.encode()).hexdigest()", ("import hashlib",)),
            K(
                'salt = os.urandom(16)\npassword_hash = hashlib.pbkdf2_hmac("sha256", {v}.encode(), salt, 100_000)',
                ("import hashlib", "import os"),
            ),
            K(
                "checksum = hashlib.sha1({v}.encode(), usedforsecurity=False).hexdigest()",
                ("import hashlib",),
            ),
        ),
    ),
    Cat(
        "random",
        330,
        "",
        "",
        api=True,
        sinks=(
            K(
                'reset_token = "".join(random.choice(string.ascii_letters) for _ in range(24))',
                ("import random", "import string"),
                family="d",
            ),
            K("otp = str(random.randint(100000, 999999))", ("import random",)),
            K("session_id = hex(random.getrandbits(64))", ("import random",), family="e"),
        ),
        safe=(
            K("reset_token = secrets.token_urlsafe(24)", ("import secrets",)),
            K('banner = random.choice(["sale", "new", "hot"])', ("import random",)),
            K("otp = str(secrets.randbelow(900000) + 100000)", ("import secrets",)),
        ),
    ),
    Cat(
        "cookie",
        614,
        "",
        "",
        api=True,
        sinks=(
            K(
                'resp = make_response("ok")\nresp.set_cookie("sid", {v})\nreturn resp',
                _FLASK_RESP,
                fw=("flask",),
            ),
            K(
                'resp = make_response("ok")\nresp.set_cookie("sid", {v}, httponly=True)\nreturn resp',
                _FLASK_RESP,
                fw=("flask",),
                family="e",
            ),
            K(
                'resp = HttpResponse("ok")\nresp.set_cookie("sid", {v}, secure=False)\nreturn resp',
                _DJ_RESP,
                fw=("django",),
            ),
            K(
                'resp = HTMLResponse("ok")\nresp.set_cookie("sid", {v})\nreturn resp',
                _FA_RESP,
                fw=("fastapi",),
            ),
        ),
        safe=(
            K(
                'resp = make_response("ok")\nresp.set_cookie("sid", {v}, secure=True, httponly=True)\nreturn resp',
                _FLASK_RESP,
                fw=("flask",),
            ),
            K(
                'resp = HttpResponse("ok")\nresp.set_cookie("sid", {v}, secure=True, httponly=True, samesite="Lax")\nreturn resp',
                _DJ_RESP,
                fw=("django",),
            ),
            K(
                'resp = HTMLResponse("ok")\nresp.set_cookie("sid", {v}, secure=True, httponly=True)\nreturn resp',
                _FA_RESP,
                fw=("fastapi",),
            ),
        ),
    ),
)

# Handler wrappers: (framework, code with {body} indented by 8 or 4, where `raw` is set).
WRAP_D = (
    (
        "fastapi",
        'from fastapi import FastAPI, Query\n\napp = FastAPI()\n\n\n@app.get("/lookup")\nasync def lookup(term: str = Query(...)):\n    raw = term\n{body}\n    return {{"done": True}}\n',
    ),
    (
        "fastapi",
        'from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get("/items/{{item_name}}")\ndef read_item(item_name: str):\n    raw = item_name\n{body}\n    return {{"done": True}}\n',
    ),
    (
        "fastapi",
        'from fastapi import FastAPI\nfrom pydantic import BaseModel\n\napp = FastAPI()\n\n\nclass Order(BaseModel):\n    customer: str\n    quantity: int = 1\n\n\n@app.post("/orders")\ndef create_order(order: Order):\n    raw = order.customer\n{body}\n    return {{"done": True}}\n',
    ),
    (
        "flask",
        'from flask import Flask, request\nfrom flask.views import MethodView\n\napp = Flask(__name__)\n\n\nclass SearchView(MethodView):\n    def post(self):\n        raw = request.form["term"]\n{body8}\n        return "done"\n\n\napp.add_url_rule("/search", view_func=SearchView.as_view("search"))\n',
    ),
    (
        "flask",
        'from flask import Flask, request\n\napp = Flask(__name__)\n\n\n@app.route("/api/run", methods=["POST"])\ndef run():\n    payload = request.get_json(force=True)\n    raw = payload["term"]\n{body}\n    return "done"\n',
    ),
    (
        "django",
        'from django.http import HttpResponse\nfrom django.views import View\n\n\nclass SearchView(View):\n    def get(self, request):\n        raw = request.GET["term"]\n{body8}\n        return HttpResponse("done")\n',
    ),
    (
        "django",
        'from django.http import HttpResponse\nfrom django.views.decorators.http import require_POST\n\n\n@require_POST\ndef search(request):\n    raw = request.POST.get("term", "")\n{body}\n    return HttpResponse("done")\n',
    ),
)
WRAP_E = (
    (
        "flask",
        'from flask import Blueprint, request\n\nbp = Blueprint("tools", __name__)\n\n\n@bp.route("/tools", methods=["GET"])\ndef tools():\n    args = request.args.to_dict()\n    raw = args.get("term", "")\n{body}\n    return "done"\n',
    ),
    (
        "flask",
        'import flask\n\nblueprint = flask.Blueprint("admin", __name__)\n\n\n@blueprint.post("/admin/act")\ndef act():\n    form = flask.request.form\n    raw = form["term"]\n{body}\n    return "done"\n',
    ),
    (
        "fastapi",
        'from fastapi import FastAPI, Request\n\napp = FastAPI()\n\n\n@app.post("/hook")\nasync def hook(request: Request):\n    body = await request.json()\n    raw = body["term"]\n{body}\n    return {{"done": True}}\n',
    ),
    (
        "fastapi",
        'from fastapi import FastAPI, Header\n\napp = FastAPI()\n\n\n@app.get("/whoami")\ndef whoami(x_term: str = Header(default="")):\n    raw = x_term\n{body}\n    return {{"done": True}}\n',
    ),
    (
        "fastapi",
        'from fastapi import Cookie, FastAPI\n\napp = FastAPI()\n\n\n@app.get("/prefs")\ndef prefs(term: str = Cookie(default="")):\n    raw = term\n{body}\n    return {{"done": True}}\n',
    ),
    (
        "django",
        'from django.http import HttpResponse\n\n\ndef search(request):\n    params = request.GET.dict()\n    raw = params.get("term", "")\n{body}\n    return HttpResponse("done")\n',
    ),
    (
        "django",
        'from rest_framework.decorators import api_view\nfrom rest_framework.response import Response\n\n\n@api_view(["POST"])\ndef submit(request):\n    raw = request.data["term"]\n{body}\n    return Response({{"done": True}})\n',
    ),
    (
        "script",
        'import sys\n\n\ndef main():\n    raw = sys.stdin.readline().strip()\n{body}\n\n\nif __name__ == "__main__":\n    main()\n',
    ),
)

# Flows: (name, code setting `val` from `raw` with {P}/{X}, module-level code, second module, keeps taint)
FLOW_D = (
    ("concat", 'val = "{P}" + raw + "{X}"', "", "", True),
    (
        "service",
        "svc = Builder()\nval = svc.build(raw)",
        'class Builder:\n    def build(self, part):\n        return f"{P}{{part}}{X}"',
        "",
        True,
    ),
    (
        "dataclass",
        'req = Input(name=raw, role="guest")\nval = "{P}" + req.name + "{X}"',
        "@dataclass\nclass Input:\n    name: str\n    role: str",
        "",
        True,
    ),
    ("kwargs", "val = build(name=raw)", 'def build(**kw):\n    return "{P}" + kw["name"] + "{X}"', "", True),
    ("lambda", 'wrap = lambda s: "{P}" + s + "{X}"\nval = wrap(raw)', "", "", True),
    ("format", 'val = "{P}{{}}{X}".format(raw)', "", "", True),
    ("percent", 'val = "{P}%s{X}" % (raw,)', "", "", True),
    ("listcomp", 'val = "".join(["{P}"] + [p for p in [raw]] + ["{X}"])', "", "", True),
    (
        "dictcomp",
        'parts = {{k: v for k, v in [("name", raw)]}}\nval = "{P}" + parts["name"] + "{X}"',
        "",
        "",
        True,
    ),
    (
        "other-field",
        'req = Input(name=raw, role="guest")\nval = "{P}" + req.role + "{X}"',
        "@dataclass\nclass Input:\n    name: str\n    role: str",
        "",
        False,
    ),
    (
        "other-key",
        'ctx = {{"name": raw, "kind": "static"}}\nval = "{P}" + ctx["kind"] + "{X}"',
        "",
        "",
        False,
    ),
    (
        "const-helper",
        "svc = Builder()\nval = svc.build(raw)",
        'class Builder:\n    def build(self, part):\n        return "{P}guest{X}"',
        "",
        False,
    ),
    ("overwritten", 'raw = DEFAULT_TERM\nval = "{P}" + raw + "{X}"', 'DEFAULT_TERM = "guest"', "", False),
    (
        "allow-list",
        'if raw not in ALLOWED:\n    raise ValueError("bad term")\nval = "{P}" + raw + "{X}"',
        'ALLOWED = ("alpha", "beta")',
        "",
        False,
    ),
    (
        "try-int",
        'try:\n    num = int(raw)\nexcept ValueError:\n    num = 0\nval = "{P}" + str(num) + "{X}"',
        "",
        "",
        False,
    ),
)
DEAD_D = "if 2 + 2 == 5:\n{sink}"
FLOW_E = (
    (
        "append",
        'pieces = []\npieces.append("{P}")\npieces.append(raw)\npieces.append("{X}")\nval = "".join(pieces)',
        "",
        "",
        True,
    ),
    ("augassign", 'val = "{P}"\nval += raw\nval += "{X}"', "", "", True),
    (
        "object",
        "val = Card(raw).render()",
        'class Card:\n    def __init__(self, label):\n        self.label = label\n\n    def render(self):\n        return "{P}" + self.label + "{X}"',
        "",
        True,
    ),
    (
        "module",
        'val = helpers.compose("{P}", raw, "{X}")',
        "",
        "def compose(head, item, tail):\n    return head + item + tail\n",
        True,
    ),
    ("tuple", 'first, second = raw, "fixed"\nval = "{P}" + first + "{X}"', "", "", True),
    ("closure", 'def inner():\n    return "{P}" + raw + "{X}"\n\nval = inner()', "", "", True),
    ("update", 'ctx = {{}}\nctx.update(name=raw)\nval = "{P}" + ctx["name"] + "{X}"', "", "", True),
    ("loop", 'val = ""\nfor item in [raw]:\n    val = "{P}" + item.strip() + "{X}"', "", "", True),
    ("other-element", 'first, second = raw, "fixed"\nval = "{P}" + second + "{X}"', "", "", False),
    (
        "const-ternary",
        'picked = raw if len("ab") > 5 else "guest"\nval = "{P}" + picked + "{X}"',
        "",
        "",
        False,
    ),
    (
        "regex-return",
        'if not re.fullmatch(r"[a-z0-9]{{1,16}}", raw):\n    return None\nval = "{P}" + raw + "{X}"',
        "",
        "",
        False,
    ),
    ("loop-overwrite", 'for raw in ("alpha", "beta"):\n    pass\nval = "{P}" + raw + "{X}"', "", "", False),
    (
        "module-const",
        'val = helpers.compose("{P}", raw, "{X}")',
        "",
        'def compose(head, item, tail):\n    return head + "guest" + tail\n',
        False,
    ),
    (
        "other-attr",
        'card = Card(raw)\nval = "{P}" + card.kind + "{X}"',
        'class Card:\n    kind = "plain"\n\n    def __init__(self, label):\n        self.label = label',
        "",
        False,
    ),
)
DEAD_E = "if DEBUG:\n{sink}"
DEAD_E_MODULE = "DEBUG = False"


# Family g (held out, written after d and e were tuned): a Flask app factory with nested views,
# Django views copying QueryDicts and reading headers, FastAPI Form/Depends/query_params, flask.g;
# flows through string.Template, generators, functools.partial, static methods, walrus, dict.get
# defaults, slices; false: derived constants, len(), lookups in constant maps, isalnum guards,
# allow-list ternaries, uuid casts, reassignment.
WRAP_G = (
    (
        "flask",
        'from flask import Flask, request\n\n\ndef create_app():\n    app = Flask(__name__)\n\n    @app.route("/report", methods=["POST"])\n    def report():\n        raw = request.values["term"]\n{body8}\n        return "done"\n\n    return app\n',
    ),
    (
        "flask",
        'from flask import Flask, g, request\n\napp = Flask(__name__)\n\n\n@app.get("/item")\ndef item():\n    g.term = request.args.get("term", "")\n    raw = g.term\n{body}\n    return "done"\n',
    ),
    (
        "django",
        'from django.http import HttpResponse\nfrom django.views.generic import View\n\n\nclass ReportView(View):\n    def post(self, request, *args, **kwargs):\n        data = request.POST.copy()\n        raw = data.get("term", "")\n{body8}\n        return HttpResponse("done")\n',
    ),
    (
        "django",
        'from django.http import HttpResponse\n\n\ndef header_view(request):\n    raw = request.headers.get("X-Term", "")\n{body}\n    return HttpResponse("done")\n',
    ),
    (
        "fastapi",
        'from fastapi import FastAPI, Form\n\napp = FastAPI()\n\n\n@app.post("/submit")\nasync def submit(term: str = Form(...)):\n    raw = term\n{body}\n    return {{"done": True}}\n',
    ),
    (
        "fastapi",
        'from fastapi import Depends, FastAPI, Query\n\napp = FastAPI()\n\n\ndef term_param(term: str = Query("")):\n    return term.strip()\n\n\n@app.get("/dep")\ndef dep(raw: str = Depends(term_param)):\n{body}\n    return {{"done": True}}\n',
    ),
    (
        "fastapi",
        'from fastapi import FastAPI, Request\n\napp = FastAPI()\n\n\n@app.get("/qp")\nasync def qp(request: Request):\n    raw = request.query_params["term"]\n{body}\n    return {{"done": True}}\n',
    ),
)
FLOW_G = (
    ("join", 'val = str.join("", ["{P}", raw, "{X}"])', "", "", True),
    ("template", 'val = string.Template("{P}$term{X}").substitute(term=raw)', "", "", True),
    ("generator", "val = next(pieces(raw))", 'def pieces(term):\n    yield "{P}" + term + "{X}"', "", True),
    (
        "partial",
        'build = functools.partial(glue, "{P}")\nval = build(raw)',
        'def glue(head, item):\n    return head + item + "{X}"',
        "",
        True,
    ),
    (
        "staticmethod",
        "val = Query.make(raw)",
        'class Query:\n    @staticmethod\n    def make(term):\n        return "{P}" + term + "{X}"',
        "",
        True,
    ),
    ("walrus", 'val = ""\nif (term := raw):\n    val = "{P}" + term + "{X}"', "", "", True),
    ("dict-get", 'opts = {{"term": raw}}\nval = "{P}" + opts.get("term", "") + "{X}"', "", "", True),
    ("slice", 'items = [raw, "x"]\nval = "{P}" + items[:1][0] + "{X}"', "", "", True),
    ("replace", 'val = "{P}" + raw.replace("\\n", "") + "{X}"', "", "", True),
    ("derived", 'val = "{P}" + ("yes" if raw else "no") + "{X}"', "", "", False),
    ("length", 'val = "{P}" + str(len(raw)) + "{X}"', "", "", False),
    (
        "const-map",
        'val = "{P}" + NAMES.get(raw, "alpha") + "{X}"',
        'NAMES = {{"a": "alpha", "b": "beta"}}',
        "",
        False,
    ),
    (
        "isalnum-guard",
        'if raw.isalnum():\n    val = "{P}" + raw + "{X}"\nelse:\n    val = "{P}none{X}"',
        "",
        "",
        False,
    ),
    (
        "allow-ternary",
        'term = raw if raw in ("alpha", "beta") else "alpha"\nval = "{P}" + term + "{X}"',
        "",
        "",
        False,
    ),
    ("uuid", 'val = "{P}" + str(uuid.UUID(raw)) + "{X}"', "", "", False),
    ("reassigned", 'val = "{P}" + raw + "{X}"\nval = "{P}guest{X}"', "", "", False),
    (
        "static-const",
        "val = Query.make(raw)",
        'class Query:\n    @staticmethod\n    def make(term):\n        return "{P}guest{X}"',
        "",
        False,
    ),
)
DEAD_G = "if False and raw:\n{sink}"
G_IMPORTS = (
    ("string.Template", "import string"),
    ("functools.partial", "import functools"),
    ("uuid.UUID", "import uuid"),
)
EXTRA_G: dict[int, tuple[Sink, ...]] = {
    78: (
        K(
            "result = subprocess.run({v}, shell=True, capture_output=True)",
            ("import subprocess",),
            family="g",
        ),
    ),
    89: (
        K(
            'cursor = sqlite3.connect("shop.db").cursor()\ncursor.executescript({v})',
            ("import sqlite3",),
            family="g",
        ),
    ),
    95: (K('namespace = {{}}\nexec(compile({v}, "<snippet>", "exec"), namespace)', family="g"),),
    22: (K('with open({v}, "rb") as fh:\n    body = fh.read()', family="g"),),
    502: (K("obj = pickle.loads({v}.encode())", ("import pickle",), family="g"),),
}
WRAPS = {"d": WRAP_D, "e": WRAP_E, "g": WRAP_G}
FLOWS = {"d": FLOW_D, "e": FLOW_E, "g": FLOW_G}
DEADS = {"d": (DEAD_D, ""), "e": (DEAD_E, DEAD_E_MODULE), "g": (DEAD_G, "")}


def indent(text: str, n: int) -> str:
    """``text`` indented by ``n`` spaces."""
    return textwrap.indent(text, " " * n)


def render(
    fam: str,
    cat: Cat,
    wrap: tuple[str, str],
    flow: tuple[str, str, str, str, bool],
    sink: Sink,
    mode: str,
    sanitizer: Sink | None,
) -> dict[str, str]:
    """The files of one case."""
    fw, template = wrap
    _name, code, module_code, helper, _keeps = flow
    code = code.replace("{P}", cat.prefix).replace("{X}", cat.suffix).replace("{{", "{").replace("}}", "}")
    module_code = (
        module_code.replace("{P}", cat.prefix)
        .replace("{X}", cat.suffix)
        .replace("{{", "{")
        .replace("}}", "}")
    )
    helper = helper.replace("{P}", cat.prefix).replace("{X}", cat.suffix)
    imports = list(sink.imports)
    if sanitizer is not None:
        imports += sanitizer.imports
        code = sanitizer.code.format(v="raw").join(["clean = ", ""]) + "\n" + code.replace("raw", "clean")
    for word, line in G_IMPORTS:
        if word in code or word in module_code:
            imports.append(line)
    if "re.fullmatch" in code:
        imports.append("import re")
    if "@dataclass" in module_code:
        imports.append("from dataclasses import dataclass")
    if helper:
        imports.append("import helpers")
    sink_code = sink.code.format(v="val")
    if mode == "dead":
        dead, dead_module = DEADS[fam]
        sink_code = dead.format(sink=indent(sink_code, 4))
        if dead_module:
            module_code = (module_code + "\n\n" + dead_module).strip()
    body = code + "\n" + sink_code
    if fw == "script" and "return " in body:
        body = body.replace("return None", "return")
    depth = 8 if "{body8}" in template else 4
    text = template.replace("{body8}", "{body}").format(body=indent(body, depth))
    head = "\n".join(dict.fromkeys(imports))
    parts = [head, module_code, text] if module_code else [head, text]
    files = {"app.py": "\n\n\n".join(p for p in parts if p).rstrip() + "\n"}
    if helper:
        files["helpers.py"] = helper
    return files


def generate(
    fam: str, rng: random.Random, per_kind: int
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, object]]]:
    """Cases and labels of one family."""
    wraps, flows = WRAPS[fam], FLOWS[fam]
    cases: dict[str, dict[str, str]] = {}
    labels: dict[str, dict[str, object]] = {}
    seen: set[str] = set()
    for cat in CATS:
        sinks = [s for s in (*cat.sinks, *EXTRA_G.get(cat.cwe, ())) if fam in s.family]
        safes = [s for s in cat.safe if fam in s.family]
        plain = next(f for f in flows if f[0] in ("concat", "append", "join"))
        kinds: list[tuple[str, bool]] = []
        if cat.api:
            kinds = [("weak-api", True)] * 3 + [("strong-api", False)] * 2 + [("dead", False)]
        else:
            kinds = [("tainted", True)] * 3 + [("flow-clean", False), ("safe-api", False), ("dead", False)]
            if cat.sanitizers:
                kinds.append(("sanitized", False))
        counter = 0
        tries = 0
        while counter < per_kind * len(kinds) and tries < 5000:
            tries += 1
            kind, real = kinds[counter % len(kinds)]
            if kind == "tainted":
                flow = rng.choice([f for f in flows if f[4]])
            elif kind == "flow-clean":
                flow = rng.choice([f for f in flows if not f[4]])
            elif cat.api:
                flow = plain
            else:
                flow = rng.choice([f for f in flows if f[4]])
            pool = safes if kind in ("safe-api", "strong-api") else sinks
            sink = rng.choice(pool)
            options = [w for w in wraps if w[0] in sink.fw]
            if not options:
                continue
            wrap = rng.choice(options)
            if wrap[0] == "script" and "return" in sink.code:
                continue
            sanitizer = rng.choice(cat.sanitizers) if kind == "sanitized" else None
            mode = "dead" if kind == "dead" else "live"
            files = render(fam, cat, wrap, flow, sink, mode, sanitizer)
            key = "".join(files.values())
            if key in seen:
                continue
            seen.add(key)
            case_id = f"{cat.cwe}-{cat.name}-{counter:03d}-{'real' if real else 'false'}"
            cases[case_id] = files
            labels[case_id] = {
                "category": cat.name,
                "cwe": cat.cwe,
                "real": real,
                "kind": kind,
                "propagation": flow[0],
                "framework": wrap[0],
                "sink": sink.code.splitlines()[-1][:60],
            }
            counter += 1
    return cases, labels


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("build/sast/cases"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--per-kind", type=int, default=4)
    parser.add_argument("--family", action="append", default=[])
    args = parser.parse_args()
    for fam in args.family or ["d", "e", "g"]:
        rng = random.Random(
            f"{args.seed}-{fam}"
        )  # bastion: ignore[python.random-not-secure] reproducible test data, no secret
        cases, labels = generate(fam, rng, args.per_kind)
        write_family(args.out / fam, cases, labels)


if __name__ == "__main__":
    main()
