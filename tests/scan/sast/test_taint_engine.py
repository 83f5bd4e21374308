"""The taint engine on small programs: each sink flagged when input reaches it, and the near
misses (sanitised, constant, dead branch, overwritten, guarded, safe API) left alone."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bastion.scan.sast.taint import analyze
from bastion.scan.sast.taint.spec import rule_book

FLASK = "from flask import Flask, request\napp = Flask(__name__)\n"
ROUTE = '@app.route("/x")\ndef handler():\n'


def _handler(body: str, imports: str = "") -> str:
    return imports + "\n" + FLASK + ROUTE + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def _hits(code: str) -> set[tuple[str, int]]:
    result = analyze([("app.py", code)])
    assert result.problems == []
    return {(hit.rule.id, hit.rule.cwe) for hit in result.hits}


# (case id, imports, handler body, expected sink rule ids)
CASES = [
    ("os-system", "import os", 'cmd = "ls " + request.args["d"]\nos.system(cmd)', {"os-command"}),
    (
        "subprocess-shell",
        "import subprocess",
        "subprocess.call(f\"ping {request.args['h']}\", shell=True)",
        {"subprocess"},
    ),
    ("subprocess-program", "import subprocess", "subprocess.run(request.args['prog'])", {"subprocess"}),
    ("subprocess-list-arg-safe", "import subprocess", 'subprocess.run(["ping", request.args["h"]])', set()),
    (
        "subprocess-list-var-safe",
        "import subprocess",
        'argv = ["ping", "-c", "1"]\nargv.append(request.args["h"])\nsubprocess.run(argv)',
        set(),
    ),
    ("shlex-quote", "import os, shlex", 'os.system("ls " + shlex.quote(request.args["d"]))', set()),
    (
        "wrong-sanitizer",
        "import os, html",
        'os.system("ls " + html.escape(request.args["d"]))',
        {"os-command"},
    ),
    ("eval", "", 'eval(request.args["e"])\nreturn "ok"', {"code-eval"}),
    ("literal-eval-safe", "import ast", 'ast.literal_eval(request.args["e"])\nreturn "ok"', set()),
    (
        "ssti",
        "from flask import render_template_string",
        'return render_template_string("<p>%s</p>" % request.args["n"])',
        {"template-injection", "xss-template"},
    ),
    (
        "sql-format",
        "import sqlite3",
        'db = sqlite3.connect("a.db")\n'
        'db.execute("SELECT * FROM t WHERE n = \'{}\'".format(request.args["n"]))',
        {"sql"},
    ),
    (
        "sql-param-safe",
        "import sqlite3",
        'db = sqlite3.connect("a.db")\ndb.execute("SELECT * FROM t WHERE n = ?", (request.args["n"],))',
        set(),
    ),
    (
        "sql-int-safe",
        "import sqlite3",
        'n = int(request.args["n"])\ndb = sqlite3.connect("a.db")\n'
        'db.execute("SELECT * FROM t WHERE id = %d" % n)',
        set(),
    ),
    (
        "sqlalchemy-text",
        "from sqlalchemy import text",
        'session.execute(text("SELECT " + request.args["c"]))',
        {"sql"},
    ),
    (
        "ldap",
        "import ldap",
        'c = ldap.initialize("ldap://x")\n'
        'c.search_s("dc=x", ldap.SCOPE_SUBTREE, "(uid=" + request.args["u"] + ")")',
        {"ldap"},
    ),
    (
        "ldap-escaped",
        "import ldap\nfrom ldap.filter import escape_filter_chars",
        'c = ldap.initialize("ldap://x")\n'
        'c.search_s("dc=x", ldap.SCOPE_SUBTREE, "(uid=" + escape_filter_chars(request.args["u"]) + ")")',
        set(),
    ),
    (
        "ldap3",
        "from ldap3 import Connection",
        'conn = Connection("x")\nconn.search("dc=x", f"(cn={request.args[\'u\']})")',
        {"ldap3"},
    ),
    (
        "xpath",
        "from lxml import etree",
        'tree = etree.parse("u.xml")\ntree.xpath("//u[@n=\'" + request.args["n"] + "\']")',
        {"xpath"},
    ),
    (
        "xpath-variable-safe",
        "from lxml import etree",
        'tree = etree.parse("u.xml")\ntree.xpath("//u[@n=$n]", n=request.args["n"])',
        set(),
    ),
    (
        "xpath-select",
        "import elementpath",
        "tree = etree.parse(\"u.xml\")\nelementpath.select(tree, f\"//u[@n='{request.args['n']}']\")",
        {"xpath-select"},
    ),
    (
        "xpath-select-root-only",
        "import elementpath",
        'elementpath.select(request.args["n"], "//u")',
        set(),
    ),
    (
        "xpath-find",
        "import xml.etree.ElementTree as ET",
        'root = ET.parse("u.xml").getroot()\nroot.findall(".//u[@n=\'%s\']" % request.args["n"])',
        {"xpath-find"},
    ),
    ("xss-return", "", 'return "<p>" + request.args["n"] + "</p>"', {"xss-return"}),
    (
        "xss-escaped",
        "from markupsafe import escape",
        'return "<p>" + escape(request.args["n"]) + "</p>"',
        set(),
    ),
    ("xss-json-safe", "from flask import jsonify", 'return jsonify(name=request.args["n"])', set()),
    (
        "xss-make-response",
        "from flask import make_response",
        'return make_response(request.args["n"])',
        {"xss-response"},
    ),
    (
        "xss-write",
        "",
        'response = get_response()\nresponse.write(request.args["n"])\nreturn "ok"',
        {"xss-write"},
    ),
    (
        "path-open",
        "",
        'with open("/srv/" + request.args["f"]) as fh:\n    data = fh.read()\nreturn "ok"',
        {"path-traversal"},
    ),
    (
        "path-basename",
        "import os",
        'with open("/srv/" + os.path.basename(request.args["f"])) as fh:\n    return {"d": fh.read()}',
        set(),
    ),
    (
        "path-pathlib",
        "from pathlib import Path",
        'return {"d": Path(request.args["f"]).read_text()}',
        {"path-traversal-receiver"},
    ),
    (
        "path-startswith-guard",
        "import os",
        'p = os.path.realpath(os.path.join("/srv", request.args["f"]))\n'
        'if not p.startswith("/srv/"):\n    return "no"\nos.remove(p)\nreturn "ok"',
        set(),
    ),
    ("redirect", "from flask import redirect", 'return redirect(request.args["next"])', {"open-redirect"}),
    (
        "redirect-local-path-safe",
        "from flask import redirect",
        'return redirect("/home?n=" + request.args["n"])',
        set(),
    ),
    (
        "redirect-guard",
        "from flask import redirect\nfrom django.utils.http import url_has_allowed_host_and_scheme",
        'target = request.args["next"]\n'
        'if url_has_allowed_host_and_scheme(target, allowed_hosts={"a.com"}):\n'
        '    return redirect(target)\nreturn "no"',
        set(),
    ),
    (
        "redirect-header",
        "from flask import Response",
        'return Response(status=302, headers={"Location": request.args["u"]})',
        {"redirect-header"},
    ),
    ("pickle", "import pickle", 'return {"o": pickle.loads(request.get_data())}', {"deserialization"}),
    (
        "yaml-unsafe",
        "import yaml",
        'return {"o": yaml.load(request.data, Loader=yaml.Loader)}',
        {"yaml-load"},
    ),
    (
        "yaml-safe-loader",
        "import yaml",
        'return {"o": yaml.load(request.data, Loader=yaml.SafeLoader)}',
        set(),
    ),
    ("xxe", "from lxml import etree", 'doc = etree.fromstring(request.data)\nreturn {"t": doc.tag}', {"xxe"}),
    (
        "xxe-safe-parser",
        "from lxml import etree",
        "parser = etree.XMLParser(resolve_entities=False)\n"
        'doc = etree.fromstring(request.data, parser)\nreturn {"t": doc.tag}',
        set(),
    ),
    (
        "xxe-defused",
        "import defusedxml.ElementTree as DET",
        'doc = DET.fromstring(request.data)\nreturn {"t": doc.tag}',
        set(),
    ),
    (
        "session",
        "from flask import session",
        'session["user"] = request.form["user"]\nreturn "ok"',
        {"trust-boundary"},
    ),
    ("session-constant", "from flask import session", 'session["visits"] = 1\nreturn "ok"', set()),
    ("constant", "import os", 'cmd = "ls /tmp"\nos.system(cmd)', set()),
    ("dead-branch", "import os", 'x = request.args["c"]\nif False:\n    os.system(x)\nreturn "ok"', set()),
    (
        "dead-constant-name",
        "import os\nDEBUG = False",
        'x = request.args["c"]\nif DEBUG and x:\n    os.system(x)\nreturn "ok"',
        set(),
    ),
    (
        "live-else-of-constant",
        "import os",
        'x = request.args["c"]\nif 1 > 2:\n    pass\nelse:\n    os.system(x)',
        {"os-command"},
    ),
    ("overwritten", "import os", 'x = request.args["c"]\nx = "uptime"\nos.system(x)', set()),
    (
        "allow-list",
        "import os\nALLOWED = ('uptime', 'date')",
        'x = request.args["c"]\nif x in ALLOWED:\n    os.system(x)\nreturn "ok"',
        set(),
    ),
    (
        "allow-list-abort",
        "import os\nfrom flask import abort",
        'x = request.args["c"]\ncmd = "run " + x\nif x not in ("a", "b"):\n    abort(400)\nos.system(cmd)',
        set(),
    ),
    (
        "isdigit-guard",
        "import os",
        'x = request.args["c"]\nif not x.isdigit():\n    return "no"\nos.system("kill " + x)',
        set(),
    ),
    (
        "dict-container",
        "import os",
        'd = {"safe": "ls", "bad": request.args["c"]}\nos.system(d["safe"])\nos.system(d["bad"])',
        {"os-command"},
    ),
    (
        "dict-container-safe-key",
        "import os",
        'd = {}\nd["safe"] = "ls"\nd["user"] = request.args["c"]\nos.system(d["safe"])',
        set(),
    ),
    (
        "loop-accumulate",
        "import os",
        'cmd = "echo"\nfor part in request.args.getlist("p"):\n    cmd += " " + part\nos.system(cmd)',
        {"os-command"},
    ),
    ("environment", "import os", 'os.system(os.environ["TOOL"] + " --version")', {"os-command"}),
    ("input", "import os", 'os.system("ls " + input())', {"os-command"}),
    (
        "weak-hash",
        "import hashlib",
        'return {"h": hashlib.md5(request.args["p"].encode()).hexdigest()}',
        {"weak-hash"},
    ),
    ("weak-hash-new", "import hashlib", 'return {"h": hashlib.new("SHA1").hexdigest()}', {"weak-hash"}),
    (
        "strong-hash",
        "import hashlib",
        'return {"h": hashlib.sha256(b"x").hexdigest(), "n": hashlib.new("sha512").name}',
        set(),
    ),
    (
        "md5-not-for-security",
        "import hashlib",
        'return {"h": hashlib.md5(b"x", usedforsecurity=False).hexdigest()}',
        set(),
    ),
    (
        "weak-random-cookie",
        "import random\nfrom flask import make_response",
        'resp = make_response("ok")\n'
        'resp.set_cookie("remember", str(random.getrandbits(64)), secure=True, httponly=True)\nreturn resp',
        {"weak-random-cookie"},
    ),
    (
        "weak-random-secret",
        "import random",
        'reset_token = "%06d" % random.randint(0, 999999)\nsave(reset_token)',
        {"weak-random-secret"},
    ),
    ("weak-random-not-secret", "import random", 'delay = random.random()\nwait(delay)\nreturn "ok"', set()),
    (
        "regex-dos",
        "import re",
        'if re.match(r"(a+)+$", request.args["s"]):\n    return "y"\nreturn "n"',
        {"regex-dos"},
    ),
    (
        "regex-dos-compiled",
        "import re",
        'rx = re.compile(r"^(\\w+ ?)*$")\nif rx.match(request.args["s"]):\n    return "y"\nreturn "n"',
        {"regex-dos-compiled"},
    ),
    (
        "regex-linear",
        "import re",
        'if re.match(r"(ab)+c*", request.args["s"]):\n    return "y"\nreturn "n"',
        set(),
    ),
    (
        "secrets-cookie",
        "import secrets\nfrom flask import make_response",
        'resp = make_response("ok")\n'
        'resp.set_cookie("remember", secrets.token_hex(16), secure=True, httponly=True)\nreturn resp',
        set(),
    ),
    (
        "insecure-cookie",
        "from flask import make_response",
        'resp = make_response("ok")\nresp.set_cookie("pref", "dark")\nreturn resp',
        {"insecure-cookie"},
    ),
    (
        "httponly-off",
        "from flask import make_response",
        'resp = make_response("ok")\n'
        'resp.set_cookie("pref", "dark", secure=True, httponly=False)\nreturn resp',
        {"insecure-cookie"},
    ),
    (
        "constant-arithmetic",
        "import os",
        'x = request.args["c"]\nnum = 86\nbar = "safe" if (7 * 42) - num > 200 else x\nos.system(bar)',
        set(),
    ),
    (
        "list-pop",
        "import os",
        'vals = ["safe", request.args["c"], "more"]\nvals.pop(0)\nos.system(vals[1])\nos.system(vals[0])',
        {"os-command"},
    ),
    (
        "config-get",
        "import os, configparser",
        'conf = configparser.ConfigParser()\nconf.set("s", "a", "ls")\n'
        'conf.set("s", "b", request.args["c"])\nos.system(conf.get("s", "a"))',
        set(),
    ),
    (
        "match-constant",
        "import os",
        'x = request.args["c"]\nmatch "ABC"[1]:\n    case "A":\n        y = x\n'
        '    case "B":\n        y = "ls"\n    case _:\n        y = x\nos.system(y)',
        set(),
    ),
    (
        "nested-function",
        "import os",
        'def build(v):\n    return "ls " + v\nos.system(build(request.args["c"]))',
        {"os-command"},
    ),
    (
        "sax-external-entities",
        "import io, xml.sax, xml.sax.handler",
        "p = xml.sax.make_parser()\n"
        "p.setFeature(xml.sax.handler.feature_external_ges, True)\n"
        "p.parse(io.StringIO(request.data.decode()))\n"
        'return "ok"',
        {"xxe"},
    ),
    (
        "stdlib-xml-safe",
        "import xml.etree.ElementTree as ET",
        'root = ET.fromstring(request.data)\nreturn {"t": root.tag}',
        set(),
    ),
    (
        "session-key",
        "from flask import session",
        'session[request.args["k"]] = 1\nreturn "ok"',
        {"trust-boundary"},
    ),
    ("typed-get", "import os", 'os.system("kill " + str(request.args.get("pid", type=int)))', set()),
    (
        "re-sub-word-characters",
        "import os, re",
        'os.system("echo " + re.sub(r"[^A-Za-z0-9_]", "", request.args["n"]))',
        set(),
    ),
    (
        "re-sub-keeps-dots",
        "import os, re",
        'os.system("cat " + re.sub(r"[^A-Za-z0-9_./]", "", request.args["n"]))',
        {"os-command"},
    ),
    # request.path of a constant route ("/x") is that path (test_taint_owasp_classes.py); the
    # full path carries the client's query string
    ("request-full-path", "import os", 'os.system("echo " + request.full_path)', {"os-command"}),
    (
        "environment-path-is-config",
        "import os",
        'open(os.environ["DATA_DIR"] + "/a.txt")\nreturn "ok"',
        set(),
    ),
    ("input-path", "", 'open("/srv/" + input())\nreturn "ok"', {"path-traversal"}),
    (
        "sqlalchemy-expression-language",
        "from sqlalchemy import select",
        'rows = session.execute(select(User).where(User.name == request.args["n"]))\nreturn {"n": len(rows)}',
        set(),
    ),
    (
        "django-manager-raw",
        "from shop.models import Entry",
        'rows = Entry.objects.raw("SELECT * FROM entry WHERE t = \'" + request.args["t"] + "\'")\n'
        'return "ok"',
        {"sql-django-raw"},
    ),
    (
        "raw-on-other-object",
        "import ahocorasick",
        'index = ahocorasick.Automaton()\nhits = list(index.raw(request.args["t"]))\nreturn "ok"',
        set(),
    ),
    (
        "django-queryset-extra",
        "from shop.models import Entry",
        "qs = Entry.objects.filter(active=True)\n"
        'rows = qs.extra(where=["t = \'" + request.args["t"] + "\'"])\nreturn "ok"',
        {"sql-django-extra"},
    ),
    (
        "django-extra-params-apart",
        "from shop.models import Entry",
        'rows = Entry.objects.extra(where=["t = %s"], params=[request.args["t"]])\nreturn "ok"',
        set(),
    ),
    (
        "yaml-positional-safe-loader",
        "import yaml",
        'return {"o": yaml.load(request.data, yaml.SafeLoader)}',
        set(),
    ),
    (
        "yaml-positional-loader",
        "import yaml",
        'return {"o": yaml.load(request.data, yaml.FullLoader)}',
        {"yaml-load"},
    ),
]


@pytest.mark.parametrize(("imports", "body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sinks_and_near_misses(imports: str, body: str, expected: set[str]) -> None:
    assert {rule for rule, _ in _hits(_handler(body, imports))} == expected


def test_every_sink_rule_has_a_positive_case() -> None:
    covered = set().union(*(c[3] for c in CASES))
    shipped = {sink.id for sink in rule_book().rules.sinks}
    assert shipped <= covered | {"deserialization"}, sorted(shipped - covered)


def test_django_view_and_fastapi_handler() -> None:
    django = textwrap.dedent(
        """
        from django.http import HttpResponse
        from django.shortcuts import redirect

        def profile(request, user_id):
            name = request.GET.get("name", "")
            if request.POST.get("go"):
                return redirect(request.POST["next"])
            return HttpResponse("<h1>" + name + "</h1>")
        """
    )
    fastapi = textwrap.dedent(
        """
        import subprocess
        from fastapi import Depends, FastAPI
        app = FastAPI()

        @app.get("/ping")
        def ping(host: str, count: int = 1, db=Depends(get_db)):
            subprocess.run(f"ping -c {count} {host}", shell=True)
            subprocess.run(f"ping -c {count} localhost", shell=True)
            db.execute("SELECT 1")
        """
    )
    result = analyze([("views.py", django), ("api.py", fastapi)])
    found = {(h.sink.path, h.sink.line, h.rule.cwe) for h in result.hits}
    assert found == {("views.py", 8, 601), ("views.py", 9, 79), ("api.py", 8, 78)}


def test_flows_cross_functions_modules_and_classes() -> None:
    root = Path(__file__).resolve().parents[2] / "fixtures" / "sast" / "taint"
    result = analyze((p.name, p.read_text(encoding="utf-8")) for p in sorted(root.glob("*.py")))
    found = {(h.sink.path, h.sink.line, h.rule.cwe): h for h in result.hits}
    assert set(found) == {("helpers.py", 8, 78), ("store.py", 12, 89)}
    trace = [(s.path, s.line) for s in found[("helpers.py", 8, 78)].flow.steps]
    assert trace[0] == ("views.py", 15) and ("views.py", 16) in trace and ("helpers.py", 7) in trace
    assert found[("store.py", 12, 89)].flow.origin.label == "Flask request data"


def test_recursion_and_mutual_calls_terminate() -> None:
    code = _handler('return walk(request.args["p"], 3)', "import os") + textwrap.dedent(
        """
        def walk(path, depth):
            if depth:
                return other(path, depth - 1)
            os.system("ls " + path)
            return path

        def other(path, depth):
            return walk(path, depth)
        """
    )
    assert ("os-command", 78) in _hits(code)


def test_tornado_handler_arguments_are_sources() -> None:
    code = textwrap.dedent(
        """
        import subprocess
        import tornado.web

        class Ping(tornado.web.RequestHandler):
            def get(self):
                host = self.get_argument("host")
                subprocess.call("ping -c 1 " + host, shell=True)
                subprocess.call("ping -c 1 localhost", shell=True)
        """
    )
    assert {(h.sink.line, h.rule.cwe) for h in analyze([("t.py", code)]).hits} == {(8, 78)}


def test_trace_and_summary_across_a_method_call() -> None:
    code = textwrap.dedent(
        """
        import sqlite3
        from flask import request

        class Users:
            def __init__(self):
                self.db = sqlite3.connect("u.db")

            def find(self, name):
                return self.db.execute(self.query(name)).fetchall()

            def query(self, name):
                return f"SELECT * FROM users WHERE name = '{name}'"

        def view():
            return {"rows": Users().find(request.args["name"])}
        """
    )
    hits = analyze([("u.py", code)]).hits
    assert [(h.sink.line, h.rule.cwe) for h in hits] == [(10, 89)]
    lines = [s.line for s in hits[0].flow.steps]
    assert lines[0] == 16 and 13 in lines


def test_http_verb_decorators_need_a_web_app() -> None:
    routes = textwrap.dedent(
        """
        import os
        from .api import router

        @router.get("/run")
        def run(cmd: str):
            os.system(cmd)
        """
    )
    cached = textwrap.dedent(
        """
        import os
        from .store import cache

        @cache.get("key")
        def load(cmd):
            os.system(cmd)
        """
    )
    result = analyze([("routes.py", routes), ("cached.py", cached)])
    assert [(h.sink.path, h.sink.line) for h in result.hits] == [("routes.py", 7)]
