"""Closures, keyword writes, shells named in argv lists, typed receivers, literal loops."""

from __future__ import annotations

import ast
import textwrap

from bastion.scan.sast.taint import analyze

CODE = """
import os
import subprocess

import ldap
from flask import request, session


def closure_return():
    raw = request.args["q"]

    def inner():
        return "ls " + raw

    os.system(inner())


def closure_sink():
    raw = request.args["q"]

    def run(prefix):
        os.system(prefix + raw)

    run("ls ")


def closure_clean():
    raw = request.args["q"]
    safe = "ls"

    def inner():
        return safe

    os.system(inner())


def closure_param_only():
    raw = request.args["q"]

    def inner(value):
        return "ls " + value

    os.system(inner("fixed"))


def update_keywords():
    ctx = {}
    ctx.update(name=request.args["q"])
    os.system("ls " + ctx["name"])


def session_keywords():
    session.update(display_name=request.args["q"])


def shell_in_argv():
    subprocess.Popen(["sh", "-c", "ls " + request.args["q"]])


def program_argv():
    subprocess.Popen(["ls", "--", request.args["q"]])


def python_ldap_search():
    con = ldap.initialize("ldap://127.0.0.1")
    con.search("dc=corp", ldap.SCOPE_SUBTREE, "(uid=" + request.args["q"] + ")")


def loop_over_constants():
    raw = request.args["q"]
    for raw in ("alpha", "beta"):
        pass
    os.system("ls " + raw)


def loop_maybe_empty():
    raw = request.args["q"]
    for raw in request.args.getlist("names"):
        pass
    os.system("ls " + raw)


def loop_over_literal_with_input():
    val = ""
    for item in [request.args["q"]]:
        val = "ls " + item
    os.system(val)
"""


def _hits() -> dict[str, set[int]]:
    text = textwrap.dedent(CODE)
    result = analyze([("app.py", text)])
    tree = ast.parse(text)
    functions = [f for f in tree.body if isinstance(f, ast.FunctionDef)]
    spans = {f.name: (f.lineno, f.end_lineno or f.lineno) for f in functions}
    out: dict[str, set[int]] = {name: set() for name in spans}
    for hit in result.hits:
        for name, (start, end) in spans.items():
            if start <= hit.sink.line <= end:
                out[name].add(hit.rule.cwe)
    return out


def test_nested_functions_see_the_callers_variables() -> None:
    hits = _hits()
    assert hits["closure_return"] == {78}
    assert hits["closure_sink"] == {78}
    assert hits["closure_clean"] == set()
    assert hits["closure_param_only"] == set()


def test_keyword_writes_and_keyword_sinks() -> None:
    hits = _hits()
    assert hits["update_keywords"] == {78}
    assert hits["session_keywords"] == {501}


def test_a_shell_named_first_in_an_argv_list_runs_a_command() -> None:
    hits = _hits()
    assert hits["shell_in_argv"] == {78}
    assert hits["program_argv"] == set()


def test_python_ldap_search_on_the_object_it_built() -> None:
    assert _hits()["python_ldap_search"] == {90}


def test_a_loop_over_a_literal_runs_at_least_once() -> None:
    hits = _hits()
    assert hits["loop_over_constants"] == set()
    assert hits["loop_maybe_empty"] == {78}
    assert hits["loop_over_literal_with_input"] == {78}
