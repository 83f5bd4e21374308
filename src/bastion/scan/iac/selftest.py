"""Check a policy against its examples: every ``pass`` example must pass, every ``fail``
example must fail. Where a policy gives no examples, they are derived from its condition
(for ``equals``, ``in``, numeric bounds, ``exists``, lists and logic); regular expressions,
connections and Python checks need written examples."""

from __future__ import annotations

import copy
from typing import Any

from bastion.scan.iac.conditions import LEAF_OPS, Context, evaluate
from bastion.scan.iac.docker import parse_dockerfile
from bastion.scan.iac.documents import from_documents
from bastion.scan.iac.model import Outcome, Resource
from bastion.scan.iac.policy import Policy
from bastion.scan.iac.pychecks import PYTHON_CHECKS

__all__ = ["CannotDerive", "examples_of", "selftest"]

_OTHER = "zz-bastion-other"
_SET = "set"


class CannotDerive(Exception):
    """The condition has a part no example can be derived for."""


def _merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = _merge(out[key], value) if key in out else value
        return out
    if isinstance(a, list) and isinstance(b, list) and not any(isinstance(x, dict | list) for x in a + b):
        return a + [x for x in b if x not in a]
    if isinstance(a, list) and isinstance(b, list) and a and b:
        return [_merge(a[0], b[0]), *a[1:]]
    if a == b or b == _SET:
        return a
    if a == _SET:
        return b
    raise CannotDerive("two parts of the condition need different values at one path")


_ABSENT = object()


def _place(path: str, value: Any) -> Any:
    if path in ("", "."):
        return value
    out: Any = {} if value is _ABSENT else value
    for part in reversed(path.split(".")):
        if part == "*":
            out = [out] if out != {} else []
        else:
            out = {part: out} if out != {} or value is not _ABSENT else {}
    return out


def _other(expected: Any) -> Any:
    if isinstance(expected, bool):
        return not expected
    if isinstance(expected, int | float):
        return expected + 1
    return f"{expected}-{_OTHER}" if isinstance(expected, str) else _OTHER


def _leaf(op: str, expected: Any, want: bool) -> Any:
    table: dict[str, tuple[Any, Any]] = {
        "equals": (expected, _other(expected)),
        "not_equals": (_other(expected), expected),
        "in": (expected[0] if op == "in" else None, _OTHER),
        "not_in": (_OTHER, expected[0] if op == "not_in" else None),
        "contains": ([expected], [_other(expected)]),
        "not_contains": ([_other(expected)], [expected]),
        "gt": (expected + 1 if op == "gt" else 0, expected if op == "gt" else 0),
        "gte": (expected if op == "gte" else 0, expected - 1 if op == "gte" else 0),
        "lt": (expected - 1 if op == "lt" else 0, expected if op == "lt" else 0),
        "lte": (expected if op == "lte" else 0, expected + 1 if op == "lte" else 0),
        "intersects": ([expected[0]] if op == "intersects" else None, [_OTHER]),
        "covers_port": (
            f"{expected - 1}-{expected + 1}" if op == "covers_port" else None,
            [str(expected + 1)] if op == "covers_port" else None,
        ),
    }
    if op not in table:
        raise CannotDerive(f"no example can be derived for {op!r}")
    return table[op][0 if want else 1]


def derive(cond: dict[str, Any], want: bool) -> Any:
    """Attributes on which ``cond`` holds (``want``) or does not."""
    if "attr" in cond:
        path = cond["attr"]
        op = next(k for k in cond if k in LEAF_OPS or k in ("all", "any"))
        if op == "exists":
            present = bool(cond["exists"]) == want
            return _place(path, _SET) if present else _place(path, _ABSENT)
        if op in ("all", "any"):
            return _place(path, [derive(cond[op], want)])
        return _place(path, _leaf(op, cond[op], want))
    if "not" in cond:
        return derive(cond["not"], not want)
    if "all" in cond or "any" in cond:
        parts: list[Any] = cond.get("all") or cond.get("any") or []
        conjunctive = ("all" in cond) == want
        if conjunctive:
            out: Any = {}
            for part in parts:
                out = _merge(out, derive(part, want))
            return out
        rest: Any = {}
        for part in parts[1:]:
            rest = _merge(rest, derive(part, not want))
        return _merge(derive(parts[0], want), rest)
    raise CannotDerive("connections and Python checks need written examples")


def _resources(policy: Policy, example: Any) -> list[Resource]:
    kind = policy.resources[0]
    if isinstance(example, str):
        return parse_dockerfile("Dockerfile", example)
    if isinstance(example, dict) and "apiVersion" in example and "kind" in example:
        return list(from_documents([example], "example.yaml"))
    if isinstance(example, dict) and isinstance(example.get("resources"), list):
        return [
            Resource(
                r["type"],
                r.get("name", f"{r['type']}.r{i}"),
                "example",
                1,
                1,
                r.get("attrs", {}),
                ids=frozenset(r.get("ids", [f"{r['type']}.r{i}"])),
            )
            for i, r in enumerate(example["resources"])
        ]
    aliases = ("k8s.workload",) if kind == "k8s.workload" else ()
    return [Resource(kind, f"{kind}.example", "example", 1, 1, copy.deepcopy(example or {}), aliases=aliases)]


def examples_of(policy: Policy) -> dict[str, list[Any]]:
    """The written examples, or ones derived from ``when`` and ``check``."""
    if policy.examples.get("pass") and policy.examples.get("fail"):
        return policy.examples
    base = derive(policy.when, True) if policy.when else {}
    return {
        "pass": policy.examples.get("pass") or [_merge(base, derive(policy.check, True))],
        "fail": policy.examples.get("fail") or [_merge(base, derive(policy.check, False))],
    }


def verdict(policy: Policy, example: Any) -> Outcome:
    """The policy's verdict on the first resource an example describes."""
    resources = _resources(policy, example)
    if not resources:
        raise CannotDerive("the example describes no resource")
    subject = resources[0]
    ctx = Context(resources, PYTHON_CHECKS)
    if policy.when is not None:
        gate = evaluate(policy.when, subject.attrs, subject, ctx)
        if gate.outcome is not Outcome.PASS:
            return gate.outcome if gate.outcome is Outcome.UNKNOWN else Outcome.PASS
    return evaluate(policy.check, subject.attrs, subject, ctx).outcome


def selftest(policy: Policy) -> list[str]:
    """What is wrong with the policy's examples; empty when every example gets its verdict."""
    try:
        examples = examples_of(policy)
    except CannotDerive as exc:
        return [f"{policy.id}: {exc}"]
    problems: list[str] = []
    for want, outcome in (("pass", Outcome.PASS), ("fail", Outcome.FAIL)):
        for index, example in enumerate(examples[want]):
            try:
                got = verdict(policy, example)
            except CannotDerive as exc:
                problems.append(f"{policy.id}: {want}[{index}]: {exc}")
                continue
            if got is not outcome:
                problems.append(f"{policy.id}: {want} example {index} gives {got.value}: {example!r}"[:300])
    return problems
