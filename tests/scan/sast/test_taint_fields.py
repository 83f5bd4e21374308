"""Object fields, literal dict keys, typed receivers and the purpose of weak hashes."""

from __future__ import annotations

import ast
import textwrap

from bastion.scan.sast.taint import analyze
from bastion.scan.sast.taint.fields import constructor_fields, literal_dict_items

MODELS = """
from dataclasses import dataclass


@dataclass
class Input:
    name: str
    role: str = "guest"


class Card:
    kind = "plain"

    def __init__(self, label, size=1):
        self.label = label
        self.size = size
        self.title = label.upper()


class Mutable:
    kind = "plain"

    def __init__(self, label):
        self.label = label

    def change(self, value):
        self.kind = value
"""

VIEWS = """
import hashlib
import os

from flask import request
from ldap3 import Connection, Server

from models import Card, Input, Mutable


def dict_other_key():
    ctx = {"name": request.args["q"], "kind": "static"}
    os.system("ls " + ctx["kind"])


def dict_same_key():
    ctx = {"name": request.args["q"], "kind": "static"}
    os.system("ls " + ctx["name"])


def dataclass_other_field():
    req = Input(name=request.args["q"])
    os.system("ls " + req.role)


def dataclass_field():
    req = Input(request.args["q"], "admin")
    os.system("ls " + req.name)


def init_other_field():
    card = Card(request.args["q"])
    os.system("ls " + card.kind)


def init_field():
    card = Card(label=request.args["q"])
    os.system("ls " + card.label)


def init_derived_field():
    card = Card(request.args["q"])
    os.system("ls " + card.title)


def reassigned_class_constant():
    item = Mutable(request.args["q"])
    os.system("ls " + item.kind)


def typed_receiver():
    link = Connection(Server("127.0.0.1"), auto_bind=True)
    link.search("dc=corp", "(cn=" + request.args["q"] + ")")


def etag_digest():
    etag = hashlib.md5(request.data).hexdigest()
    return etag


def generate_etag(data):
    return hashlib.sha1(data).hexdigest()


def password_digest():
    password_hash = hashlib.md5(request.form["password"].encode()).hexdigest()
    return password_hash
"""


def _hits() -> dict[str, set[int]]:
    result = analyze([("models.py", textwrap.dedent(MODELS)), ("views.py", textwrap.dedent(VIEWS))])
    tree = ast.parse(textwrap.dedent(VIEWS))
    spans = {
        f.name: (f.lineno, f.end_lineno or f.lineno) for f in tree.body if isinstance(f, ast.FunctionDef)
    }
    out: dict[str, set[int]] = {name: set() for name in spans}
    for hit in result.hits:
        for name, (start, end) in spans.items():
            if hit.sink.path == "views.py" and start <= hit.sink.line <= end:
                out[name].add(hit.rule.cwe)
    return out


def test_fields_and_keys_keep_their_own_taint() -> None:
    hits = _hits()
    assert hits["dict_other_key"] == set()
    assert hits["dict_same_key"] == {78}
    assert hits["dataclass_other_field"] == set()
    assert hits["dataclass_field"] == {78}
    assert hits["init_other_field"] == set()
    assert hits["init_field"] == {78}
    # computed from the argument (not stored unchanged): the whole object's taint applies
    assert hits["init_derived_field"] == {78}
    # a method may overwrite the class constant: not known to be clean
    assert hits["reassigned_class_constant"] == {78}


def test_receiver_built_by_a_library_constructor_is_a_sink_whatever_its_name() -> None:
    assert _hits()["typed_receiver"] == {90}


def test_weak_hash_for_an_integrity_digest_is_no_finding() -> None:
    hits = _hits()
    assert 328 not in hits["etag_digest"]
    assert 328 not in hits["generate_etag"]
    assert 328 in hits["password_digest"]


def test_constructor_binding_edge_cases() -> None:
    cls = ast.parse("class C:\n    def __init__(self, a):\n        self.a = a\n").body[0]
    assert isinstance(cls, ast.ClassDef)
    starred = ast.parse("C(*xs)").body[0]
    too_many = ast.parse("C(1, 2)").body[0]
    unknown_kw = ast.parse("C(b=1)").body[0]
    for stmt in (starred, too_many, unknown_kw):
        assert isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
        assert constructor_fields(cls, stmt.value) is None
    plain = ast.parse("class P:\n    x = 1\n").body[0]
    call = ast.parse("P()").body[0]
    assert isinstance(plain, ast.ClassDef) and isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
    assert constructor_fields(plain, call.value) == {"x": None}


def test_literal_dict_items_need_literal_keys() -> None:
    def items(text: str) -> list[tuple[str | int, ast.expr]] | None:
        node = ast.parse(text, mode="eval").body
        assert isinstance(node, ast.Dict)
        return literal_dict_items(node)

    assert [k for k, _ in items('{"a": 1, 2: x}') or []] == ["a", 2]
    assert items("{k: 1}") is None
    assert items('{**base, "a": 1}') is None
    assert items("{True: 1}") is None
