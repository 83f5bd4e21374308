"""Tuple elements keep their own taint: unpacking a bound tuple or a function's returned tuple."""

from __future__ import annotations

import textwrap

from bastion.scan.sast.taint import analyze

CODE = """
import os
from flask import request


def literal():
    x, y = request.args["q"], "ls"
    os.system(y)


def indexed():
    t = (request.args["q"], "ls")
    os.system(t[1])


def unpack_bound():
    t = (request.args["q"], "ls")
    x, y = t
    os.system(y)
    os.system(x)


def pair():
    return request.args["q"], "ls"


def unpack_returned():
    x, y = pair()
    os.system(y)
    os.system(x)


def either(flag):
    if flag:
        return "ls", request.args["q"]
    return "df", "du"


def joined_returns():
    a, b = either(True)
    os.system(a)
    os.system(b)


def mixed(flag):
    if flag:
        return request.args["q"]
    return "ls", "df"


def mixed_returns():
    a, b = mixed(False)
    os.system(b)


def passthrough(v):
    return "ls", v


def through_parameter():
    a, b = passthrough(request.args["q"])
    os.system(a)
    os.system(b)
"""


def test_tuple_elements_have_their_own_taint() -> None:
    code = textwrap.dedent(CODE)
    result = analyze([("app.py", code)])
    assert result.problems == []
    lines = code.splitlines()
    found = {(h.sink.line, lines[h.sink.line - 1].split("def ")[-1].strip()) for h in result.hits}
    # x of the bound tuple and of pair(); b of either(); b of mixed() (not a tuple on every
    # path: the whole value); b through a parameter. Never the constant elements.
    assert found == {
        (20, "os.system(x)"),
        (30, "os.system(x)"),
        (42, "os.system(b)"),
        (53, "os.system(b)"),
        (63, "os.system(b)"),
    }
