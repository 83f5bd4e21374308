"""Three false-positive classes found on Bastion's own server, each with its real variants:
``.raw()`` on objects that are no Django manager, values bound by SQLAlchemy's statement
builders, and redirects whose constant start keeps them on the site (also through a helper's
returned dict)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from sast_helpers import run_sast

from bastion.cli.main import main
from bastion.scan.sast.taint import analyze
from bastion.scan.sast.taint.shapes import fixed_url_prefix
from bastion.scan.sast.taint.spec import rule_book

RAW = """
import ahocorasick
from django.db import models
from flask import request


class Entry(models.Model):
    title = models.CharField(max_length=80)


class Frame:
    def raw(self, text):
        return text.encode()


def _keywords():
    return ahocorasick.Automaton()


def automaton():
    return [end for end, _ in _keywords().raw(request.args["q"].lower())]


def project_object():
    return Frame().raw(request.args["q"])


def params_apart():
    return Entry.objects.raw("SELECT id FROM entry WHERE title = %s", [request.args["q"]])


def manager():
    return list(Entry.objects.raw(request.args["q"]))  # real


def manager_chain():
    return Entry.objects.using("replica").raw(request.args["q"])  # real


def queryset_variable():
    live = Entry.objects.filter(title__isnull=False)
    return live.extra(where=[request.args["q"]])  # real


def manager_variable():
    manager = Entry._default_manager
    return manager.raw(request.args["q"])  # real


def extra_select():
    return Entry.objects.all().extra(select={"n": request.args["q"]})  # real
"""

SQLALCHEMY = """
import sqlalchemy as sa
from flask import request
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, literal_column, select, text, update

engine = sa.create_engine("sqlite://")
users = Table("users", MetaData(), Column("id", Integer), Column("name", String))


def bulk(session, ids):
    values = {"name": request.form["name"], "fixed_at": None}
    session.execute(update(users).where(users.c.id.in_(ids)).values(**values))


def inserted(conn):
    conn.execute(insert(users).values(name=request.form["name"]))


def table_method(conn):
    conn.execute(users.update().where(users.c.id == 1).values(name=request.form["name"]))


def stepwise(conn):
    stmt = sa.insert(users)
    stmt = stmt.values(name=request.form["name"])
    conn.execute(stmt)


def bound_text(conn):
    conn.execute(text("SELECT id FROM users WHERE name = :n").bindparams(n=request.form["name"]))


def selected(conn):
    conn.execute(select(users).where(users.c.name == request.form["name"]))


def text_inside(conn):
    conn.execute(select(users).where(text("name = '" + request.form["name"] + "'")))  # real


def literal(conn):
    conn.execute(select(users).order_by(literal_column(request.form["name"])))  # real


def driver(conn):
    conn.exec_driver_sql("SELECT id FROM users WHERE name = '%s'" % request.form["name"])  # real


def not_a_builder(cursor):
    parts = {"name": request.form["name"]}
    cursor.execute("SELECT " + " ".join(parts.values()))  # real
"""

REDIRECT = """
from urllib.parse import urlencode

from flask import redirect, request


def page_url(query):
    return f"/findings?{urlencode(query)}"


def saved(query):
    return {"page": page_url(query), "name": query["name"], "api": "/api/v1/filters"}


def built(query):
    data = {"name": query["name"]}
    data["href"] = "/done#" + query["name"]
    return data


def same_site():
    return redirect(f"/alerts/{request.args['a']}")


def helper_dict():
    return redirect(saved(request.args)["page"])


def helper_dict_get():
    return redirect(saved(request.args).get("page"))


def kept_dict():
    info = saved(request.args)
    return redirect(info["page"])


def built_dict():
    return redirect(built(request.args)["href"])


def fixed_host():
    return redirect("https://example.com/next/" + request.args["a"])


def format_path():
    return redirect("/items/{}/edit".format(request.args["a"]))


def percent_path():
    return redirect("/p/%s" % request.args["a"])


def slash_only():
    return redirect(f"/{request.args['a']}")  # real


def protocol_relative():
    return redirect("//" + request.args["a"])  # real


def open_host():
    return redirect("https://example.com" + request.args["a"])  # real


def format_slash():
    return redirect("/{}".format(request.args["a"]))  # real


def percent_slash():
    return redirect("/%s" % request.args["a"])  # real


def other_key():
    return redirect(saved(request.args)["name"])  # real


def tainted_start():
    return redirect(f"{request.args['a']}/home")  # real
"""


def _real_lines(code: str) -> set[int]:
    return {n for n, line in enumerate(code.splitlines(), 1) if line.endswith("# real")}


@pytest.mark.parametrize(("code", "cwe"), [(RAW, 89), (SQLALCHEMY, 89), (REDIRECT, 601)])
def test_only_the_real_variants_are_reported(code: str, cwe: int) -> None:
    result = analyze([("app.py", textwrap.dedent(code))])
    assert result.problems == []
    assert {h.sink.line for h in result.hits if h.rule.cwe == cwe} == _real_lines(code)
    assert {h.rule.cwe for h in result.hits} <= {cwe}


def test_a_helper_in_another_module_keeps_its_dict_keys_apart() -> None:
    helpers = 'def links(x):\n    return {"page": f"/alerts/{x}", "label": x}\n'
    views = (
        "from flask import redirect, request\n\nfrom helpers import links\n\n\n"
        'def ok():\n    return redirect(links(request.args["a"])["page"])\n\n\n'
        'def bad():\n    return redirect(links(request.args["a"])["label"])\n'
    )
    result = analyze([("helpers.py", helpers), ("views.py", views)])
    assert [(h.sink.path, h.sink.line, h.rule.cwe) for h in result.hits] == [("views.py", 11, 601)]


def test_a_dict_written_under_an_unknown_key_is_read_whole() -> None:
    code = (
        "from flask import redirect, request\n\n\n"
        'def built(key, value):\n    data = {"page": "/home"}\n    data[key] = value\n    return data\n\n\n'
        'def view():\n    return redirect(built("page", request.args["a"])["page"])\n'
    )
    assert [h.sink.line for h in analyze([("app.py", code)]).hits] == [11]


@pytest.mark.parametrize(
    ("prefix", "fixed"),
    [
        ("/alerts/", True),
        ("/a", True),
        ("  /a", True),
        ("?q=", True),
        ("#top", True),
        ("https://example.com/", True),
        ("HTTPS://example.com?x=", True),
        ("", False),
        ("/", False),
        ("//", False),
        ("/\\", False),
        ("/\t", False),
        ("https://example.com", False),
        ("https://", False),
        ("https://user@example.com/", False),
        ("javascript:", False),
        ("next/", False),
        (None, False),
    ],
)
def test_fixed_url_prefix(prefix: str | None, fixed: bool) -> None:
    assert fixed_url_prefix(prefix) is fixed


def test_rules_name_the_manager_receivers_and_the_builders() -> None:
    book = rule_book()
    raw = list(book.sink_methods["raw"])
    assert [rule.id for rule in raw] == ["sql-django-raw"]
    assert "objects" in raw[0].receiver_attributes and "objects" in book.receiver_attributes
    assert book.builders["sqlalchemy.update"] == frozenset({89})
    assert book.builders["sqlalchemy.Table"] == frozenset({89})
    assert "literal_column" in {name.rsplit(".", 1)[-1] for name in book.sink_calls}


_CLI_CWE = {"raw": 89, "sql": 89, "redirect": 601, "site": 601, "yaml": 502, "depends": 78}


def _cli_findings(root: Path, capsys: pytest.CaptureFixture[str]) -> set[tuple[str, int, int]]:
    code = main(["scan", str(root), "--scanners", "sast", "--format", "json", "--fail-on", "none"])
    out, _ = capsys.readouterr()
    assert code == 0
    document = json.loads(out)
    return {
        (f["location"]["path"], f["location"]["start_line"], cwe)
        for f in document["findings"]
        for cwe in f["cwe"]
        if cwe in (78, 89, 502, 601)
    }


def test_cli_reports_the_real_variants_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {
        "raw_views.py": RAW,
        "sql_views.py": SQLALCHEMY,
        "redirect_views.py": REDIRECT,
        "site_views.py": SITE_URLS,
        "yaml_views.py": YAML_LOADERS,
        "depends_views.py": DEPENDENCIES,
    }
    for name, code in files.items():
        (tmp_path / name).write_text(textwrap.dedent(code), encoding="utf-8")
    expected = {
        (name, line, _CLI_CWE[name.split("_")[0]])
        for name, code in files.items()
        for line in _real_lines(code)
    }
    assert _cli_findings(tmp_path, capsys) == expected


SELF_SCAN = {
    # the three shapes Bastion's own server had suppressed, across modules as there
    "store/sanitize.py": (
        "import ahocorasick\n\n\ndef _keywords():\n    return ahocorasick.Automaton()\n\n\n"
        "def spans(text):\n    return [end for end, _ in _keywords().raw(text.lower())]\n"
    ),
    "store/bulk.py": (
        "from sqlalchemy import update\n\nfrom store.models import FindingRecord\n\n\n"
        "def bulk(session, ids, status, reason):\n"
        '    values = {"status": status, "accepted_reason": reason, "fixed_at": None}\n'
        "    session.execute(update(FindingRecord).where(FindingRecord.id.in_(ids)).values(**values))\n"
    ),
    "server/filters.py": (
        "from urllib.parse import urlencode\n\n\n"
        "def page_url(project, query):\n    params = dict(query)\n    if project:\n"
        '        params["project"] = project\n    return f"/findings?{urlencode(params, doseq=True)}"\n\n\n'
        "def saved_json(row):\n"
        '    return {"id": row.id, "name": row.name, "page": page_url(row.project, row.query)}\n'
    ),
    "server/pages.py": (
        "from fastapi import FastAPI, Form\nfrom fastapi.responses import RedirectResponse\n\n"
        "from server.filters import saved_json\nfrom store.bulk import bulk\n"
        "from store.sanitize import spans\n\n"
        "app = FastAPI()\n\n\n"
        '@app.post("/comment")\ndef comment(text: str = Form(...)):\n    return {"spans": spans(text)}\n\n\n'
        '@app.post("/bulk")\ndef triage(session, status: str = Form(...), reason: str = Form("")):\n'
        '    bulk(session, [1, 2], status, reason)\n    return {"ok": True}\n\n\n'
        '@app.post("/filters")\ndef save(row, name: str = Form(...)):\n    row.name = name\n'
        '    return RedirectResponse(saved_json(row)["page"], status_code=303)\n\n\n'
        '@app.post("/next")\ndef follow(name: str = Form(...)):\n'
        '    return RedirectResponse(f"/{name}", status_code=303)\n'
    ),
}


def test_scanner_drops_the_self_scan_shapes_and_keeps_the_real_one(tmp_path: Path) -> None:
    for name, code in SELF_SCAN.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(code, encoding="utf-8")
    findings, context = run_sast(tmp_path, {"tools": ["taint"]})
    assert context.notices == []
    located = {(f.rule_id, f.location.path, f.location.start_line) for f in findings}
    real = (
        SELF_SCAN["server/pages.py"]
        .splitlines()
        .index('    return RedirectResponse(f"/{name}", status_code=303)')
    )
    assert located == {("sast.taint.open-redirect", "server/pages.py", real + 1)}


SITE_URLS = """
from django.urls import reverse
from flask import redirect, request, url_for


def next_login():
    return redirect(url_for("login") + "?next=" + request.path)


def search_page():
    return redirect(f"{url_for('search')}?q={request.args['q']}")


def fragment():
    return redirect(reverse("home") + "#" + request.args["q"])


def formatted():
    return redirect("{}?next={}".format(url_for("auth.login"), request.args["q"]))


def percent():
    return redirect("%s?page=%s" % (url_for("ops.list"), request.args["q"]))


def numbered_fields():
    return redirect("{1}?q={0}".format(request.args["q"], url_for("ops.list")))


def root_then_value():
    return redirect(url_for("index") + request.args["q"])  # real


def root_then_value_fstring():
    return redirect(f"{url_for('index')}{request.args['q']}")  # real


def value_first():
    return redirect(request.args["q"] + url_for("index"))  # real


def format_root():
    return redirect("{}{}".format(url_for("ops.list"), request.args["q"]))  # real


def named_field():
    return redirect("/{name}".format(name=request.args["q"]))  # real


def mapping_key():
    return redirect("/%(u)s" % {"u": request.args["q"]})  # real


def numbered_first():
    return redirect("/{0}".format(request.args["q"]))  # real
"""


def test_a_server_built_url_counts_as_its_least_path() -> None:
    result = analyze([("app.py", SITE_URLS)])
    assert result.problems == []
    assert {h.sink.line for h in result.hits} == _real_lines(SITE_URLS)
    assert {h.rule.cwe for h in result.hits} == {601}


YAML_LOADERS = """
import yaml
from flask import request

FAST_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CHOSEN = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
FAST_ANY = getattr(yaml, "CLoader", yaml.Loader)
HALF = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.UnsafeLoader
ALIAS = FAST_SAFE


def named():
    return list(yaml.load_all(request.data, Loader=yaml.SafeLoader))


def getattr_default():
    return yaml.load(request.data, Loader=FAST_SAFE)


def conditional():
    return list(yaml.load_all(request.data, CHOSEN))


def alias():
    return yaml.load(request.data, Loader=ALIAS)


def unsafe_all():
    return list(yaml.load_all(request.data, Loader=yaml.FullLoader))  # real


def unsafe_getattr():
    return yaml.load(request.data, Loader=FAST_ANY)  # real


def one_unsafe_branch():
    return list(yaml.load_all(request.data, Loader=HALF))  # real


def no_loader():
    return list(yaml.load_all(request.data))  # real
"""


def test_a_loader_chosen_at_import_is_safe_only_when_every_choice_is() -> None:
    result = analyze([("app.py", YAML_LOADERS)])
    assert result.problems == []
    assert {h.sink.line for h in result.hits} == _real_lines(YAML_LOADERS)
    assert {h.rule.cwe for h in result.hits} == {502}


def test_module_names_bound_to_each_other_in_a_cycle_end() -> None:
    code = (
        "import yaml\nfrom flask import request\n\nA = B\nB = A\n\n\n"
        "def view():\n    return yaml.load(request.data, Loader=A)\n"
    )
    assert [h.sink.line for h in analyze([("app.py", code)]).hits] == [9]


DEPENDENCIES = """
import os
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Security

app = FastAPI()


def get_db():
    yield "sqlite://"


def current_user():
    return "admin"


DB = Depends(get_db)
Principal = Security(current_user)
CurrentUser = Annotated[str, Depends(current_user)]


@app.get("/a")
def alias_default(term: str = Query(""), db: str = DB):
    os.system("ls " + db)
    os.system("ls " + term)  # real


@app.get("/b")
def alias_annotation(who: CurrentUser, item: Annotated[str, Query()]):
    os.system("id " + who)
    os.system("id " + item)  # real


@app.get("/c")
def inline(who: str = Depends(current_user), other: str = Principal, name: str = ""):
    os.system("id " + who + other)
    os.system("id " + name)  # real
"""


def test_module_level_dependencies_are_server_values() -> None:
    result = analyze([("app.py", DEPENDENCIES)])
    assert result.problems == []
    assert {h.sink.line for h in result.hits} == _real_lines(DEPENDENCIES)


def test_a_dependency_declared_in_another_module_is_a_server_value() -> None:
    deps = "from fastapi import Depends\n\n\ndef db():\n    yield 'sqlite://'\n\n\nDB = Depends(db)\n"
    views = (
        "import os\n\nfrom fastapi import FastAPI\n\nfrom app.deps import DB\n\napp = FastAPI()\n\n\n"
        '@app.get("/r/{campaign_id}")\ndef report(campaign_id: str, session: str = DB):\n'
        '    os.system("ls " + session)\n    os.system("ls " + campaign_id)\n'
    )
    result = analyze([("app/deps.py", deps), ("app/views.py", views)])
    assert [(h.sink.path, h.sink.line) for h in result.hits] == [("app/views.py", 13)]


def test_a_dependency_that_reads_the_request_passes_its_taint_on() -> None:
    code = (
        "import os\n\nfrom fastapi import Depends, FastAPI, Query\n\napp = FastAPI()\n\n\n"
        'def term_param(term: str = Query("")):\n    return term.strip()\n\n\n'
        'def fixed():\n    return "static"\n\n\nTERM = Depends(term_param)\n\n\n'
        '@app.get("/a")\ndef inline(raw: str = Depends(term_param), ok: str = Depends(fixed)):\n'
        '    os.system("ls " + ok)\n    os.system("ls " + raw)\n\n\n'
        '@app.get("/b")\ndef alias(raw: str = TERM):\n    os.system("ls " + raw)\n'
    )
    result = analyze([("app.py", code)])
    assert [h.sink.line for h in result.hits] == [22, 27]
    assert result.hits[0].flow.steps[0].note == "route parameter term"
