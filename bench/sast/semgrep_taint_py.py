"""Bastion's Python taint rules (``taint/rules.yml``) written as semgrep taint-mode rules.

One semgrep rule per CWE, made from the same data Bastion's analysis reads: the sources (less
those that exclude the CWE), request-object attributes of request parameters, parameters of
route-decorated handlers, the sink calls and methods (dangerous argument positions and
keywords, receiver names, safe keyword values as ``pattern-not``), session stores, Flask
handler returns, and the sanitizers that clear the CWE. What semgrep's open-source taint mode
cannot say is left out and listed by :data:`NOT_EXPRESSED`: guards (``if v in ALLOWED:``),
constant conditions, summaries across functions, receiver types, chained builders, the
``Location`` entry of a headers dict, and the API checks (328 weak hash, 614 cookie flags),
which are no dataflow.

Usage: ``python bench/sast/semgrep_taint_py.py --out build/sast/semgrep_py_taint.yml``
(``run_bench.py --semgrep-taint`` writes it to a temporary file by itself).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import yaml

from bastion.scan.sast.taint.spec import ALL, RuleBook, SanitizerRule, SinkRule, rule_book

NOT_EXPRESSED = (
    "guards",
    "constant conditions",
    "summaries across functions and modules",
    "receiver types and receiver_attributes",
    "chained builders",
    "headers dict Location entries",
    "XML parser settings",
    "API checks (CWE-328, CWE-614)",
)
_PLACEHOLDER = "$X"


def _call(name: str, position: int) -> str:
    """``name($A, $X, ...)``: the argument at ``position`` is ``$X``."""
    before = "".join(f"$A{i}, " for i in range(position))
    return f"{name}({before}{_PLACEHOLDER}, ...)"


def _sink_patterns(rule: SinkRule) -> list[dict[str, Any]]:
    """semgrep sink entries for one Bastion sink rule (each focused on the dangerous value)."""
    heads = list(rule.calls)
    heads += [f"$O.{m}" for m in rule.methods]
    shapes: list[str] = []
    for head in heads:
        for position in rule.args:
            if rule.program_only_without_shell and position == 0:
                shapes.append(f"{head}({_PLACEHOLDER}, ..., shell=True, ...)")
                shapes.append(f"{head}([{_PLACEHOLDER}, ...], ...)")
            else:
                shapes.append(_call(head, position))
        shapes += [f"{head}(..., {kw}={_PLACEHOLDER}, ...)" for kw in rule.keywords if kw != "*"]
        if "*" in rule.keywords:
            shapes.append(f"{head}(..., $K={_PLACEHOLDER}, ...)")
    out: list[dict[str, Any]] = []
    if shapes:
        entry: list[dict[str, Any]] = [{"pattern-either": [{"pattern": s} for s in shapes]}]
        receivers = (*rule.receiver_names, *rule.receiver_attributes)
        if receivers and rule.methods and not rule.calls:
            # the receiver text, matched from its start: named like one (`ldap_conn`) or going
            # through one (`X.objects.using(db)`)
            names = "|".join(re.escape(n) for n in receivers)
            regex = f"^(.*[._])?({names})([.(].*)?$"
            entry.append({"metavariable-regex": {"metavariable": "$O", "regex": regex}})
        for keyword, values in rule.safe_keywords.items():
            entry += [{"pattern-not": f"$F(..., {keyword}={v}, ...)"} for v in values if "." in v]
            entry += [{"pattern-not": f'$F(..., {keyword}="{v}", ...)'} for v in values if "." not in v]
        entry.append({"focus-metavariable": _PLACEHOLDER})
        out.append({"patterns": entry})
    out.extend(
        {"patterns": [{"pattern": f"{store}[$K] = {_PLACEHOLDER}"}, *_focus()]} for store in rule.stores
    )
    if rule.handler_return:
        out.append({"patterns": [*_route_inside(), {"pattern": f"return {_PLACEHOLDER}"}, *_focus()]})
    return out


def _focus() -> list[dict[str, Any]]:
    return [{"focus-metavariable": _PLACEHOLDER}]


def _route_inside() -> list[dict[str, Any]]:
    return [
        {"pattern-inside": "@$APP.route(...)\ndef $FUNC(...): ...\n"},
    ]


def _sources(book: RuleBook, cwe: int) -> list[dict[str, Any]]:
    """Sources that count for ``cwe``: names, request-object attributes, handler parameters."""
    names = [
        name
        for source in book.rules.sources
        if cwe not in source.excludes
        for name in source.names
        if not name.startswith("self.")
    ]
    out: list[dict[str, Any]] = [{"pattern": name} for name in names]
    out += [{"pattern": f"{name}(...)"} for name in names]
    params = book.rules.request_params
    out.append(
        {
            "patterns": [
                {"pattern": "$REQ.$ATTR"},
                {"metavariable-regex": {"metavariable": "$REQ", "regex": f"^({'|'.join(params.names)})$"}},
                {
                    "metavariable-regex": {
                        "metavariable": "$ATTR",
                        "regex": f"^({'|'.join(params.attributes)})$",
                    }
                },
            ]
        }
    )
    routes = "|".join(book.rules.route_decorators)
    out.append(
        {
            "patterns": [
                {"pattern-inside": "@$APP.$ROUTE(...)\ndef $FUNC(..., $P, ...): ...\n"},
                {"metavariable-regex": {"metavariable": "$ROUTE", "regex": f"^({routes})$"}},
                {"focus-metavariable": "$P"},
            ]
        }
    )
    if cwe == 330:
        out = [{"pattern": f"{name}(...)"} for name in book.rules.api_checks.weak_random]
    return out


def _sanitizers(rules: tuple[SanitizerRule, ...], cwe: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in rules:
        clears = ALL if rule.clears == "all" else frozenset(rule.clears)
        if clears is not ALL and cwe not in clears:
            continue
        out += [{"pattern": f"{name}(...)"} for name in rule.calls]
        out += [{"pattern": f"$O.{name}(...)"} for name in rule.methods]
    return out


def build_rules(book: RuleBook | None = None) -> dict[str, Any]:
    """The semgrep rule document: one taint rule per CWE Bastion's rules have dataflow sinks for."""
    book = book or rule_book()
    by_cwe: dict[int, list[SinkRule]] = {}
    for sink in book.rules.sinks:
        if not sink.api_check:
            by_cwe.setdefault(sink.cwe, []).append(sink)
    rules: list[dict[str, Any]] = []
    for cwe, sinks in sorted(by_cwe.items()):
        if cwe == 330:
            secret = book.rules.api_checks.secret_names
            patterns: list[dict[str, Any]] = [
                {
                    "patterns": [
                        {"pattern": f"$NAME = {_PLACEHOLDER}"},
                        {"metavariable-regex": {"metavariable": "$NAME", "regex": secret}},
                        *_focus(),
                    ]
                }
            ]
            patterns += [p for s in sinks for p in _sink_patterns(s)]
        else:
            patterns = [p for s in sinks for p in _sink_patterns(s)]
        if not patterns:
            continue
        rule: dict[str, Any] = {
            "id": f"bench.py-taint.cwe-{cwe}",
            "mode": "taint",
            "languages": ["python"],
            "severity": "ERROR",
            "message": f"untrusted input reaches a CWE-{cwe} sink",
            "metadata": {"cwe": [f"CWE-{cwe}"]},
            "pattern-sources": _sources(book, cwe),
            "pattern-sinks": patterns,
        }
        sanitizers = _sanitizers(book.rules.sanitizers, cwe)
        if sanitizers:
            rule["pattern-sanitizers"] = sanitizers
        rules.append(rule)
    return {"rules": rules}


def write_rules(path: Path, book: RuleBook | None = None) -> Path:
    """Write the rule document to ``path``."""
    path.write_text(yaml.safe_dump(build_rules(book), sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("build/sast/semgrep_py_taint.yml"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_rules(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
