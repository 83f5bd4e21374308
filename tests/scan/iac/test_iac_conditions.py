"""The condition language, operator by operator, with unknown values."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.scan.iac.conditions import Context, evaluate, get_values
from bastion.scan.iac.model import Outcome, Ref, Resource, Unresolved
from bastion.scan.iac.pychecks import PYTHON_CHECKS


def _verdict(cond: dict[str, Any], attrs: dict[str, Any], others: list[Resource] | None = None) -> Outcome:
    resource = Resource("t", "t.r", "f", 1, 1, attrs, ids=frozenset({"t.r", "r"}))
    ctx = Context([resource, *(others or [])], PYTHON_CHECKS)
    return evaluate(cond, attrs, resource, ctx).outcome


P, F, U = Outcome.PASS, Outcome.FAIL, Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("cond", "attrs", "expected"),
    [
        ({"attr": "a", "equals": "X", "ignore_case": True}, {"a": "x"}, P),
        ({"attr": "a", "equals": True}, {"a": "true"}, P),
        ({"attr": "a", "equals": 3}, {"a": "3"}, P),
        ({"attr": "a", "equals": 3}, {"a": "three"}, F),
        ({"attr": "a", "in": ["22", "*"]}, {"a": 22}, P),
        ({"attr": "a", "lt": 5}, {"a": 4.5}, P),
        ({"attr": "a", "lte": 5}, {"a": 6}, F),
        ({"attr": "a", "gt": 5}, {"a": "x"}, F),
        ({"attr": "a", "contains": "bc"}, {"a": "abcd"}, P),
        ({"attr": "a", "not_contains": "x"}, {"a": {"x": 1}}, F),
        ({"attr": "a", "contains": 1}, {"a": 1}, P),
        ({"attr": "a", "regex": "^T"}, {"a": True}, F),
        ({"attr": "a", "regex": "^t", "ignore_case": True}, {"a": "T"}, P),
        ({"attr": "a", "regex": "^4"}, {"a": 42}, P),
        ({"attr": "a", "exists": False}, {"a": None}, P),
        ({"attr": "a", "exists": True}, {"a": Unresolved("var.a")}, U),
        ({"attr": "a", "equals": 1}, {"a": Unresolved("var.a")}, U),
        ({"attr": "a", "equals": 1}, {"a": Ref("x.y", "id")}, U),
        ({"attr": "a.b", "equals": 1}, {"a": Unresolved("var.a")}, U),
        ({"attr": "a", "exists": True}, {"a": Ref("x.y")}, P),
        ({"attr": "a", "equals": 1, "missing": "pass"}, {}, P),
        ({"attr": "a", "not_equals": 1, "missing": "fail"}, {}, F),
        ({"attr": "xs", "all": {"attr": "v", "equals": 1}}, {}, P),
        ({"attr": "xs", "any": {"attr": "v", "equals": 1}}, {"xs": []}, F),
        ({"attr": "xs", "any": {"attr": "v", "equals": 1}}, {"xs": [{"v": 2}, {"v": Unresolved("u")}]}, U),
        ({"attr": "xs.*.v", "equals": 1}, {"xs": [{"v": 1}, {"v": 1}]}, P),
        ({"attr": "xs.1.v", "equals": 1}, {"xs": [{"v": 1}, {"v": 2}]}, F),
        ({"attr": "xs.5.v", "equals": 1}, {"xs": [{"v": 1}]}, F),
        ({"not": {"attr": "a", "equals": 1}}, {"a": Unresolved("u")}, U),
        (
            {"all": [{"attr": "a", "equals": 1}, {"attr": "b", "equals": 2}]},
            {"a": 1, "b": Unresolved("u")},
            U,
        ),
        ({"any": [{"attr": "a", "equals": 1}, {"attr": "b", "equals": 2}]}, {"a": 0, "b": 0}, F),
    ],
)
def test_operators(cond: dict[str, Any], attrs: dict[str, Any], expected: Outcome) -> None:
    assert _verdict(cond, attrs) is expected


def test_connections_by_reference_name_and_cloudformation_ref() -> None:
    cond = {"connected": {"type": "link", "via": "target"}}
    by_ref = Resource("link", "l", "f", 1, 1, {"target": Ref("t.r", "id")})
    by_name = Resource("link", "l", "f", 1, 1, {"target": "r"})
    by_cfn = Resource("link", "l", "f", 1, 1, {"target": {"Ref": "r"}})
    unknown = Resource("link", "l", "f", 1, 1, {"target": Unresolved("var.t")})
    elsewhere = Resource("link", "l", "other", 1, 1, {"target": "r"}, source="kubernetes")
    for other, expected in [(by_ref, P), (by_name, P), (by_cfn, P), (unknown, U), (elsewhere, F)]:
        assert _verdict(cond, {}, [other]) is expected
    where = {"connected": {"type": ["link"], "via": "target", "where": {"attr": "ok", "equals": True}}}
    good = Resource("link", "l", "f", 1, 1, {"target": "r", "ok": True})
    bad = Resource("link", "l", "f", 1, 1, {"target": "r", "ok": False})
    assert _verdict(where, {}, [bad]) is F
    assert _verdict(where, {}, [bad, good]) is P


def test_get_values_walks_lists_of_blocks() -> None:
    data = {"a": [{"b": [{"c": 1}, {"c": 2}]}]}
    assert list(get_values(data, "a.b.c")) == [("a.0.b.0.c", 1), ("a.0.b.1.c", 2)]
    assert list(get_values(data, "a.0.b.*.c")) == [("a.0.b.0.c", 1), ("a.0.b.1.c", 2)]
    assert list(get_values(data, "missing")) == []


def test_get_values_edge_paths() -> None:
    data = {"a": [{"b": 1}, {"b": None}], "": {"x": 3}, "n": [[{"k": 1}], [{"k": 2}]]}
    assert list(get_values(data, "")) == [("", data)]
    assert list(get_values(data, ".", "base")) == [("base", data)]
    assert list(get_values(data, "a.1.b")) == [("a.1.b", None)]
    assert list(get_values(data, "a.5.b")) == []
    assert list(get_values(data, "a.*", "r")) == [("r.a.0", {"b": 1}), ("r.a.1", {"b": None})]
    assert list(get_values(data, "a.b.")) == [("a.0.b", 1), ("a.1.b", None)]
    assert list(get_values(data, ".x")) == [("x", 3)]  # an empty segment is the key ""
    assert list(get_values(data, "n.k")) == [("n.0.0.k", 1), ("n.1.0.k", 2)]
    assert list(get_values(data, "a.b.c")) == []  # a scalar on the way ends the walk
