"""Classes found on the tuning half of OWASP Benchmark for Python (bench/sast/owasp), each a
general rule, tested here on this file's own code: the request path of a constant route, a
SAX parser with external entities handed to a DOM builder, weak random numbers kept in a
session-like mapping, regular expressions that backtrack catastrophically (ReDoS), and the
request object handed whole to a helper the analysis cannot read."""

from __future__ import annotations

import textwrap

import pytest

from bastion.scan.sast.taint import analyze
from bastion.scan.sast.taint.regexes import catastrophic_regex


def flagged(code: str, cwe: int) -> list[int]:
    """Lines of ``code`` where the taint analysis reports ``cwe``."""
    result = analyze([("app.py", textwrap.dedent(code))])
    return sorted(h.sink.line for h in result.hits if h.rule.cwe == cwe)


def marked(code: str) -> list[int]:
    """Lines of ``code`` marked ``# real``."""
    return [n for n, line in enumerate(textwrap.dedent(code).splitlines(), 1) if line.endswith("# real")]


ROUTE_PATH = """
import flask
from flask import Flask, request

app = Flask(__name__)


@app.route("/files/report", methods=["POST"])
def constant_route():
    section = request.path.split("/")[1]
    return flask.redirect(section)


@app.get("/files/<name>")
def parameter_route(name):
    tail = request.path.split("/")[-1]
    return flask.redirect(tail)  # real


def not_a_route():
    return flask.redirect(request.path)  # real


@app.route("/files/again")
def full_path_is_not_the_path():
    return flask.redirect(request.full_path)  # real
"""


def test_request_path_of_a_constant_route_is_server_controlled() -> None:
    assert flagged(ROUTE_PATH, 601) == marked(ROUTE_PATH)


XXE = """
import xml.dom.minidom
import xml.sax
import xml.sax.handler
from flask import request


def external_entities_on():
    reader = xml.sax.make_parser()
    reader.setFeature(xml.sax.handler.feature_external_ges, True)
    return xml.dom.minidom.parseString(request.data, reader).toxml()  # real


def external_entities_keyword():
    reader = xml.sax.make_parser()
    reader.setFeature(xml.sax.handler.feature_external_pes, True)
    return xml.dom.minidom.parseString(request.data, parser=reader).toxml()  # real


def default_parser():
    reader = xml.sax.make_parser()
    return xml.dom.minidom.parseString(request.data, reader).toxml()


def feature_turned_off():
    reader = xml.sax.make_parser()
    reader.setFeature(xml.sax.handler.feature_external_ges, False)
    return xml.dom.minidom.parseString(request.data, reader).toxml()


def server_document():
    reader = xml.sax.make_parser()
    reader.setFeature(xml.sax.handler.feature_external_ges, True)
    return xml.dom.minidom.parseString("<a/>", reader).toxml()
"""


def test_dom_builder_given_a_parser_with_external_entities_is_xxe() -> None:
    assert flagged(XXE, 611) == marked(XXE)


RANDOM = """
import random
import secrets

from store import user_session, visits


def remember(key):
    user_session[key] = str(random.random())  # real


def remember_bits(key):
    bits = random.getrandbits(64)
    user_session[key] = bits  # real


def remember_securely(key):
    user_session[key] = secrets.token_urlsafe(16)


def remember_system_random(key):
    user_session[key] = str(random.SystemRandom().random())


def count(key):
    visits[key] = random.randint(1, 6)
"""


def test_weak_random_kept_in_a_session_mapping_is_a_session_secret() -> None:
    assert flagged(RANDOM, 330) == marked(RANDOM)


REDOS = r"""
import re

from flask import request

NESTED = re.compile(r"^(\w+\s?)*$")


def direct():
    return re.match(r"(x+)+y", request.args["q"]) is not None  # real


def through_a_variable():
    pattern = r"^(([a-z])+\.)+[a-z]{2,}$"
    return bool(re.search(pattern, request.args["q"]))  # real


def compiled():
    checker = re.compile(r"(\d{2,}-?)+$")
    return checker.fullmatch(request.args["q"]) is not None  # real


def linear_pattern():
    return re.match(r"(ab)*(cd)+", request.args["q"]) is not None


def linear_compiled():
    checker = re.compile(r"[a-z]+@[a-z]+\.com")
    return checker.match(request.args["q"]) is not None


def server_text():
    return re.match(r"(x+)+y", "xxxxy") is not None
"""


def test_untrusted_text_matched_by_a_backtracking_regex_is_redos() -> None:
    assert flagged(REDOS, 400) == marked(REDOS)


@pytest.mark.parametrize(
    ("pattern", "nested"),
    [
        (r"(x+)+", True),
        (r"(?:\s*,\s*\w+)*$", True),
        (r"(?P<part>[0-9]+\.)+", True),
        (r"(a{2,})+", True),
        (r"((ab)+c)*", True),
        (r"(ab)*(cd)+", False),
        (r"[(x+)+]", False),
        (r"\(x+\)+", False),
        (r"(ab){3}", False),
        (r"(x+)?", False),
        (r"x*y+z{2,}", False),
    ],
)
def test_catastrophic_regex_means_a_repeated_group_holding_a_repeat(pattern: str, nested: bool) -> None:
    assert catastrophic_regex(pattern) is nested


WRAPPER = """
import os

from flask import request
from webhelpers import RequestReader


def wrapped_field():
    reader = RequestReader(request)
    os.system("ls " + reader.field("dir"))  # real


def wrapped_safe_accessor():
    reader = RequestReader(request)
    os.system("ls " + reader.get_safe_field("dir"))


def wrapped_sanitized_accessor():
    reader = RequestReader(request)
    os.system("ls " + reader.sanitizedField("dir"))


def unsafe_is_not_safe():
    reader = RequestReader(request)
    os.system("ls " + reader.unsafe_field("dir"))  # real


def constant_argument():
    os.system("ls " + RequestReader("static").field("dir"))
"""


def test_request_object_handed_to_an_unread_helper_gives_request_data() -> None:
    assert flagged(WRAPPER, 78) == marked(WRAPPER)
