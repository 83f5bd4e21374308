"""Classes found on the tuning half of OWASP Benchmark for Python, round 2 (bench/sast/owasp),
each a general rule tested on this file's own code: a redirect whose parsed host is checked
against a constant allow-list, XPath run through ``elementpath`` and lxml's ``XPath``, and text
assembled in an ``io.StringIO`` / ``io.BytesIO`` buffer."""

from __future__ import annotations

import textwrap

from bastion.scan.sast.taint import analyze


def flagged(code: str, cwe: int) -> list[int]:
    """Lines of ``code`` where the taint analysis reports ``cwe``."""
    result = analyze([("app.py", textwrap.dedent(code))])
    return sorted(h.sink.line for h in result.hits if h.rule.cwe == cwe)


def marked(code: str) -> list[int]:
    """Lines of ``code`` marked ``# real``."""
    return [n for n, line in enumerate(textwrap.dedent(code).splitlines(), 1) if line.endswith("# real")]


HOST_ALLOW_LIST = """
import flask
from urllib.parse import urlparse, urlsplit
from flask import Flask, request

app = Flask(__name__)
HOSTS = ("shop.example", "help.example")


@app.get("/go")
def parsed_then_checked():
    target = request.args.get("next", "")
    parts = urlparse(target)
    if parts.netloc not in ["shop.example"] or parts.scheme != "https":
        return "refused"
    return flask.redirect(target)


@app.get("/go2")
def checked_inline():
    target = request.args.get("next", "")
    if urlsplit(target).hostname in HOSTS:
        return flask.redirect(target)
    return flask.redirect(target)  # real


@app.get("/go3")
def checked_but_not_returned():
    target = request.args.get("next", "")
    parts = urlparse(target)
    if parts.netloc not in HOSTS:
        print("unknown host")
    return flask.redirect(target)  # real


@app.get("/go4")
def reparsed_after_the_check():
    target = request.args.get("next", "")
    parts = urlparse(target)
    other = request.args.get("other", "")
    parts = urlparse(other)
    if parts.netloc not in HOSTS:
        return "refused"
    return flask.redirect(target)  # real


@app.get("/go5")
def host_compared_with_user_list():
    target = request.args.get("next", "")
    allowed = request.args.getlist("hosts")
    if urlparse(target).netloc in allowed:
        return flask.redirect(target)  # real
    return "refused"
"""


def test_parsed_host_in_a_constant_allow_list_clears_the_redirect() -> None:
    assert flagged(HOST_ALLOW_LIST, 601) == marked(HOST_ALLOW_LIST)


def test_a_host_check_clears_only_the_redirect() -> None:
    code = """
    import os
    from urllib.parse import urlparse
    from flask import Flask, request

    app = Flask(__name__)


    @app.get("/run")
    def run():
        target = request.args.get("next", "")
        if urlparse(target).netloc in ("a.example",):
            os.system("curl " + target)  # real
        return "ok"
    """
    assert flagged(code, 78) == marked(code)


XPATH = """
import elementpath
import lxml.etree
from elementpath import iter_select, select
from flask import Flask, request

app = Flask(__name__)


@app.post("/people")
def people():
    who = request.form.get("who", "")
    tree = lxml.etree.parse("people.xml")
    query = f"/people/person[@id='{who}']"
    found = elementpath.select(tree, query)  # real
    more = list(iter_select(tree, query))  # real
    again = select(tree, path=query)  # real
    compiled = lxml.etree.XPath(query)  # real
    direct = tree.xpath(query)  # real
    fixed = elementpath.select(tree, "/people/person[@id='1']")
    escaped = elementpath.select(tree, "/people/person[@id=$who]", variables={"who": who})
    return str([found, more, again, compiled, direct, fixed, escaped])
"""


def test_elementpath_and_lxml_xpath_are_xpath_sinks() -> None:
    assert flagged(XPATH, 643) == marked(XPATH)


BUFFERS = """
import io
import lxml.etree
import subprocess
from flask import Flask, request

app = Flask(__name__)


@app.post("/find")
def find():
    who = request.form.get("who", "")
    tree = lxml.etree.parse("people.xml")
    buf = io.StringIO()
    buf.write("/people/person[@id='")
    buf.write(who)
    buf.write("']")
    return str(tree.xpath(buf.getvalue()))  # real


@app.post("/find2")
def find_from_initial():
    who = request.form.get("who", "")
    tree = lxml.etree.parse("people.xml")
    buf = io.StringIO(who)
    return str(tree.xpath(buf.read()))  # real


@app.post("/run")
def run():
    name = request.form.get("name", "")
    data = io.BytesIO()
    data.write(name.encode())
    return subprocess.run(data.getvalue(), shell=True).stdout  # real


@app.post("/constant")
def constant():
    request.form.get("who", "")
    tree = lxml.etree.parse("people.xml")
    buf = io.StringIO()
    buf.write("/people/person[@id='1']")
    return str(tree.xpath(buf.getvalue()))
"""


def test_string_buffers_carry_what_is_written_into_them() -> None:
    assert flagged(BUFFERS, 643) + flagged(BUFFERS, 78) == sorted(marked(BUFFERS))
