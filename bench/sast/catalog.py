"""The vocabulary of the generated suite: per weakness, how a value reaches a dangerous call,
the safe API that does the same job, and the sanitizer that makes the value harmless.

Every snippet uses ``{v}`` for the value under test. ``imports`` are the lines a snippet needs.
A sink with ``ret=True`` is a ``return`` statement (the response of a web handler).
"""

# ruff: noqa: E501 - tables of code snippets read better unwrapped

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "Category", "Snippet"]


@dataclass(frozen=True)
class Snippet:
    """One line of code (or a few, separated by ``\\n``) using ``{v}``."""

    code: str
    imports: tuple[str, ...] = ()
    ret: bool = False


@dataclass(frozen=True)
class Category:
    """One weakness: its CWE, string prefix used when building the value, sinks and safe forms."""

    name: str
    cwe: int
    prefix: str
    suffix: str
    sinks: tuple[Snippet, ...]
    safe_apis: tuple[Snippet, ...]
    sanitizers: tuple[Snippet, ...]
    """Expressions turning ``{v}`` into a value that is safe for this weakness."""
    wrong_sanitizers: tuple[Snippet, ...]
    """Sanitizers for another weakness: the case stays vulnerable."""
    style: str = "taint"
    """``taint`` (input reaches a sink), ``api`` (the call is the weakness, whatever the value) or
    ``random`` (the value under test comes from ``randoms``; safe cases use ``safe_randoms``)."""
    randoms: tuple[Snippet, ...] = ()
    safe_randoms: tuple[Snippet, ...] = ()


S = Snippet
_SUB = "import subprocess"
_OS = "import os"
_SQL = "import sqlite3"
_LXML = "from lxml import etree"

CATEGORIES: tuple[Category, ...] = (
    Category(
        "command-injection",
        78,
        "ping -c 1 ",
        "",
        sinks=(
            S("os.system({v})", (_OS,)),
            S("subprocess.call({v}, shell=True)", (_SUB,)),
            S("subprocess.Popen({v}, shell=True).wait()", (_SUB,)),
            S("out = subprocess.check_output({v}, shell=True)", (_SUB,)),
            S("os.popen({v}).read()", (_OS,)),
            S("subprocess.run({v}, shell=True, check=False)", (_SUB,)),
        ),
        safe_apis=(
            S('subprocess.run(["ping", "-c", "1", {v}], check=False)', (_SUB,)),
            S('subprocess.call(["ping", "-c", "1", {v}])', (_SUB,)),
            S('out = subprocess.check_output(["ping", "-c", "1", "--", {v}])', (_SUB,)),
        ),
        sanitizers=(S("shlex.quote({v})", ("import shlex",)),),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)), S("{v}.strip()")),
    ),
    Category(
        "sql-injection",
        89,
        "SELECT * FROM users WHERE name = '",
        "'",
        sinks=(
            S('conn = sqlite3.connect("app.db")\ncur = conn.cursor()\ncur.execute({v})', (_SQL,)),
            S('conn = sqlite3.connect("app.db")\nrows = conn.execute({v}).fetchall()', (_SQL,)),
            S('db = sqlite3.connect("app.db")\ndb.executescript({v})', (_SQL,)),
            S("rows = User.objects.raw({v})", ("from app.models import User",)),
            S(
                "result = session.execute(text({v}))",
                ("from sqlalchemy import text", "from app.db import session"),
            ),
        ),
        safe_apis=(
            S(
                'conn = sqlite3.connect("app.db")\ncur = conn.cursor()\n'
                'cur.execute("SELECT * FROM users WHERE name = ?", ({v},))',
                (_SQL,),
            ),
            S(
                'conn = sqlite3.connect("app.db")\n'
                'rows = conn.execute("SELECT * FROM users WHERE name = ?", [{v}])',
                (_SQL,),
            ),
            S("rows = User.objects.filter(name={v})", ("from app.models import User",)),
            S(
                'result = session.execute(text("SELECT * FROM users WHERE name = :n"), {{"n": {v}}})',
                ("from sqlalchemy import text", "from app.db import session"),
            ),
        ),
        sanitizers=(S("int({v})"),),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)), S("os.path.basename({v})", (_OS,))),
    ),
    Category(
        "code-injection",
        95,
        "",
        "",
        sinks=(
            S("result = eval({v})"),
            S("exec({v})"),
            S('code = compile({v}, "<input>", "exec")'),
            S("result = eval({v}, {{}}, {{}})"),
        ),
        safe_apis=(
            S("result = ast.literal_eval({v})", ("import ast",)),
            S("result = json.loads({v})", ("import json",)),
        ),
        sanitizers=(S("int({v})"), S("float({v})")),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)), S("{v}.replace(';', '')")),
    ),
    Category(
        "ldap-injection",
        90,
        "(uid=",
        ")",
        sinks=(
            S(
                'conn = ldap.initialize("ldap://localhost")\n'
                'res = conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, {v})',
                ("import ldap",),
            ),
            S(
                'conn = Connection(Server("localhost"))\nconn.search("dc=example,dc=com", {v})',
                ("from ldap3 import Connection, Server",),
            ),
            S(
                'ldap_conn = ldap.initialize("ldap://localhost")\n'
                'res = ldap_conn.search_st("dc=example,dc=com", ldap.SCOPE_SUBTREE, {v}, timeout=5)',
                ("import ldap",),
            ),
        ),
        safe_apis=(
            S(
                'conn = ldap.initialize("ldap://localhost")\n'
                'res = conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, "(objectClass=person)", [{v}])',
                ("import ldap",),
            ),
        ),
        sanitizers=(S("escape_filter_chars({v})", ("from ldap.filter import escape_filter_chars",)),),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)),),
    ),
    Category(
        "xpath-injection",
        643,
        "//user[@name='",
        "']",
        sinks=(
            S('tree = etree.parse("users.xml")\nnodes = tree.xpath({v})', (_LXML,)),
            S('root = etree.parse("users.xml").getroot()\nnodes = root.xpath({v})', (_LXML,)),
            S("find = etree.XPath({v})\nnodes = find(etree.parse('users.xml'))", (_LXML,)),
        ),
        safe_apis=(
            S(
                'tree = etree.parse("users.xml")\nnodes = tree.xpath("//user[@name=$name]", name={v})',
                (_LXML,),
            ),
        ),
        sanitizers=(S("int({v})"),),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)), S("shlex.quote({v})", ("import shlex",))),
    ),
    Category(
        "xss",
        79,
        "<p>Hello ",
        "</p>",
        sinks=(
            S("return make_response({v})", ("from flask import make_response",), ret=True),
            S("return Response({v}, mimetype='text/html')", ("from flask import Response",), ret=True),
            S("return {v}", ret=True),
            S("return Markup({v})", ("from markupsafe import Markup",), ret=True),
            S(
                "return render_template_string('<div>' + {v} + '</div>')",
                ("from flask import render_template_string",),
                ret=True,
            ),
        ),
        safe_apis=(
            S("return jsonify(message={v})", ("from flask import jsonify",), ret=True),
            S(
                'return render_template("page.html", message={v})',
                ("from flask import render_template",),
                ret=True,
            ),
            S('return {{"message": {v}}}', ret=True),
        ),
        sanitizers=(
            S("html.escape({v})", ("import html",)),
            S("escape({v})", ("from markupsafe import escape",)),
        ),
        wrong_sanitizers=(S("shlex.quote({v})", ("import shlex",)), S("{v}.strip()")),
    ),
    Category(
        "path-traversal",
        22,
        "/srv/files/",
        "",
        sinks=(
            S("with open({v}) as fh:\n    data = fh.read()"),
            S("data = open({v}, 'rb').read()"),
            S("return send_file({v})", ("from flask import send_file",), ret=True),
            S("os.remove({v})", (_OS,)),
            S("data = Path({v}).read_text()", ("from pathlib import Path",)),
            S("shutil.rmtree({v})", ("import shutil",)),
        ),
        safe_apis=(
            S(
                'return send_from_directory("/srv/files", {v})',
                ("from flask import send_from_directory",),
                ret=True,
            ),
            S('return safe_join("/srv/files", {v})', ("from werkzeug.utils import safe_join",), ret=True),
        ),
        sanitizers=(
            S("os.path.basename({v})", (_OS,)),
            S("secure_filename({v})", ("from werkzeug.utils import secure_filename",)),
        ),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)), S("shlex.quote({v})", ("import shlex",))),
    ),
    Category(
        "open-redirect",
        601,
        "",
        "",
        sinks=(
            S("return redirect({v})", ("from flask import redirect",), ret=True),
            S("return redirect({v}, code=302)", ("from flask import redirect",), ret=True),
            S(
                "return Response(status=302, headers={{'Location': {v}}})",
                ("from flask import Response",),
                ret=True,
            ),
        ),
        safe_apis=(
            S(
                'return redirect(url_for("profile", name={v}))',
                ("from flask import redirect, url_for",),
                ret=True,
            ),
            S(
                'return redirect("/home?next=" + quote({v}))',
                ("from flask import redirect", "from urllib.parse import quote"),
                ret=True,
            ),
        ),
        sanitizers=(),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)), S("{v}.strip()")),
    ),
    Category(
        "deserialization",
        502,
        "",
        "",
        sinks=(
            S("obj = pickle.loads({v})", ("import pickle",)),
            S("obj = yaml.load({v}, Loader=yaml.Loader)", ("import yaml",)),
            S("obj = yaml.unsafe_load({v})", ("import yaml",)),
            S("obj = marshal.loads({v})", ("import marshal",)),
            S("obj = jsonpickle.decode({v})", ("import jsonpickle",)),
        ),
        safe_apis=(
            S("obj = json.loads({v})", ("import json",)),
            S("obj = yaml.safe_load({v})", ("import yaml",)),
            S("obj = yaml.load({v}, Loader=yaml.SafeLoader)", ("import yaml",)),
        ),
        sanitizers=(),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)), S("{v}.strip()")),
    ),
    Category(
        "xxe",
        611,
        "",
        "",
        sinks=(
            S("doc = etree.fromstring({v})", (_LXML,)),
            S(
                "parser = etree.XMLParser(resolve_entities=True)\ndoc = etree.fromstring({v}, parser)",
                (_LXML,),
            ),
            S(
                "parser = xml.sax.make_parser()\nparser.setFeature(xml.sax.handler.feature_external_ges, True)\n"
                "parser.parse(io.StringIO({v}))",
                ("import io", "import xml.sax", "import xml.sax.handler"),
            ),
            S("doc = etree.XML({v})", (_LXML,)),
        ),
        safe_apis=(
            S("doc = defusedxml.ElementTree.fromstring({v})", ("import defusedxml.ElementTree",)),
            S(
                "parser = etree.XMLParser(resolve_entities=False)\ndoc = etree.fromstring({v}, parser)",
                (_LXML,),
            ),
            S(
                "doc = etree.fromstring({v}, "
                "parser=etree.XMLParser(resolve_entities=False, no_network=True))",
                (_LXML,),
            ),
        ),
        sanitizers=(),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)), S("{v}.strip()")),
    ),
    Category(
        "trust-boundary",
        501,
        "",
        "",
        sinks=(
            S('session["user"] = {v}', ("from flask import session",)),
            S('session["role"] = {v}', ("from flask import session",)),
        ),
        safe_apis=(
            S(
                'session["visits"] = session.get("visits", 0) + 1\nlog.info("visit by %s", {v})',
                ("from flask import session", "import logging", "log = logging.getLogger(__name__)"),
            ),
        ),
        sanitizers=(),
        wrong_sanitizers=(S("html.escape({v})", ("import html",)),),
    ),
    Category(
        "weak-hash",
        328,
        "",
        "",
        sinks=(
            S("digest = hashlib.md5({v}.encode()).hexdigest()", ("import hashlib",)),
            S("digest = hashlib.sha1({v}.encode()).hexdigest()", ("import hashlib",)),
            S(
                'hasher = hashlib.new("md5")\nhasher.update({v}.encode())\ndigest = hasher.hexdigest()',
                ("import hashlib",),
            ),
            S("digest = md5({v}.encode()).hexdigest()", ("from hashlib import md5",)),
        ),
        safe_apis=(
            S("digest = hashlib.sha256({v}.encode()).hexdigest()", ("import hashlib",)),
            S(
                'hasher = hashlib.new("sha512")\nhasher.update({v}.encode())\ndigest = hasher.hexdigest()',
                ("import hashlib",),
            ),
            S("digest = hashlib.md5({v}.encode(), usedforsecurity=False).hexdigest()", ("import hashlib",)),
            S("digest = hashlib.blake2b({v}.encode()).hexdigest()", ("import hashlib",)),
        ),
        sanitizers=(),
        wrong_sanitizers=(),
        style="api",
    ),
    Category(
        "weak-random",
        330,
        "",
        "",
        sinks=(
            S(
                'resp = make_response("ok")\nresp.set_cookie("rememberMe", {v}, secure=True, httponly=True)\nreturn resp',
                ("from flask import make_response",),
                ret=True,
            ),
            S('session["remember_token"] = {v}', ("from flask import session",)),
            S("reset_token = {v}\nstore_reset(reset_token)", ("from app.accounts import store_reset",)),
        ),
        safe_apis=(),
        sanitizers=(),
        wrong_sanitizers=(),
        style="random",
        randoms=(
            S("str(random.random())", ("import random",)),
            S("str(random.randint(0, 2**31))", ("import random",)),
            S("str(random.getrandbits(64))", ("import random",)),
            S('"".join(random.choice("abcdef0123456789") for _ in range(16))', ("import random",)),
        ),
        safe_randoms=(
            S("secrets.token_hex(16)", ("import secrets",)),
            S("str(random.SystemRandom().getrandbits(64))", ("import random",)),
            S("os.urandom(16).hex()", ("import os",)),
            S("secrets.token_urlsafe(32)", ("import secrets",)),
        ),
    ),
    Category(
        "insecure-cookie",
        614,
        "",
        "",
        sinks=(
            S(
                'resp = make_response("ok")\nresp.set_cookie("pref", {v})\nreturn resp',
                ("from flask import make_response",),
                ret=True,
            ),
            S(
                'resp = make_response("ok")\nresp.set_cookie("pref", {v}, secure=False, httponly=True)\nreturn resp',
                ("from flask import make_response",),
                ret=True,
            ),
            S(
                'resp = make_response("ok")\nresp.set_cookie("pref", value={v}, httponly=True)\nreturn resp',
                ("from flask import make_response",),
                ret=True,
            ),
        ),
        safe_apis=(
            S(
                'resp = make_response("ok")\nresp.set_cookie("pref", {v}, secure=True, httponly=True)\nreturn resp',
                ("from flask import make_response",),
                ret=True,
            ),
            S(
                'resp = make_response("ok")\nresp.set_cookie("pref", value={v}, secure=True, httponly=True, samesite="Lax")\n'
                "return resp",
                ("from flask import make_response",),
                ret=True,
            ),
        ),
        sanitizers=(),
        wrong_sanitizers=(),
        style="api",
    ),
)
