"""JavaScript: LDAP, XPath, session trust boundary, weak hashes, predictable random numbers and
cookie flags (the six categories beyond the first eight)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sast_helpers import run_sast
from tree_sitter import Node

from bastion.scan.sast.taint.js import analyze_js
from bastion.scan.sast.taint.js.parse import parse
from bastion.scan.sast.taint.js.sinks import assigned_name

HEAD = (
    'const crypto = require("crypto");\nconst ldap = require("ldapjs");\nconst xpath = require("xpath");\n'
    'const md5 = require("md5");\nconst ldapEscape = require("ldap-escape");\n'
    'const app = require("express")();\nconst client = ldap.createClient({ url: "ldap://127.0.0.1" });\n'
)
OFFSET = HEAD.count("\n")


def _hits(body: str) -> set[tuple[int, int]]:
    inner = textwrap.indent(textwrap.dedent(body).strip("\n"), "  ")
    code = HEAD + f'app.get("/x", (req, res) => {{\n{inner}\n}});\n'
    result = analyze_js([("app.js", code)])
    assert result.problems == []
    return {(h.sink.line - OFFSET - 1, h.rule.cwe) for h in result.hits}


REAL = [
    ('client.search("ou=people", { filter: "(uid=" + req.query.u + ")" }, () => {});', 90),
    ('client.search("ou=people", "(uid=" + req.query.u + ")", () => {});', 90),
    (
        'const opts = { scope: "sub", filter: `(cn=${req.body.cn})` };\n'
        'client.search("o=x", opts, () => {});',
        90,
    ),
    ('const nodes = xpath.select("//user[@name=\'" + req.query.u + "\']", doc);', 643),
    ("const found = doc.evaluate(req.query.path, doc, null, 0, null);", 643),
    ("req.session.user = req.query.u;", 501),
    ("const request = req;\nrequest.session.profile = { name: req.body.name };", 501),
    ('const passwordHash = crypto.createHash("md5").update(req.body.pw).digest("hex");', 328),
    ("const digest = md5(req.body.pw);", 328),
    ("const token = Math.random().toString(36).slice(2);", 330),
    ("const resetCode = Math.floor(100000 + Math.random() * 900000);", 330),
    ('res.cookie("sid", String(Math.random() * 1e9), { secure: true, httpOnly: true });', 330),
    ("req.session.csrf = Math.random().toString(16);", 330),
    ('res.cookie("sid", req.query.v);', 614),
    ('res.cookie("sid", "x", { httpOnly: true });', 614),
    ('res.cookie("sid", "x", { secure: false, httpOnly: true });', 614),
    ('res.cookie("sid", "x", { secure: true, httpOnly: false });', 614),
]

SAFE = [
    'client.search("ou=people", { filter: "(objectClass=person)", attributes: [req.query.a] }, () => {});',
    'const f = ldapEscape.filter`(uid=${req.query.u})`;\nclient.search("o=x", { filter: f }, () => {});',
    'const n = xpath.parse("//user[@name=$n]").select({ node: doc, variables: { n: req.query.u } });',
    "req.session.visits = (req.session.visits || 0) + 1;",
    "req.session.count = Number(req.query.n);",
    'const passwordHash = crypto.createHash("sha256").update(req.body.pw).digest("hex");',
    'const etag = crypto.createHash("md5").update(req.body.pw).digest("hex");',
    'const token = crypto.randomBytes(16).toString("hex");',
    "const delay = Math.random() * 100;",
    'const banner = ["a", "b"][Math.floor(Math.random() * 2)];',
    "const ok = Math.random() > 0.5;\nconst token = ok ? 'a' : 'b';",
    'res.cookie("sid", req.query.v, { secure: true, httpOnly: true });',
    'const flags = { secure: true };\nres.cookie("sid", "x", flags);',
]


@pytest.mark.parametrize(("code", "cwe"), REAL)
def test_real_weaknesses_are_found(code: str, cwe: int) -> None:
    assert cwe in {c for _, c in _hits(code)}


@pytest.mark.parametrize("code", SAFE)
def test_safe_code_is_not_a_finding(code: str) -> None:
    assert _hits(code) == set()


def test_assigned_name_follows_method_chains() -> None:
    source = "const etag = crypto.createHash('md5').update(x).digest('hex');\nobj.sid = f();\n"
    source += "const o = { key: g() };\nh();\n"
    root = parse("a.js", source.encode())
    calls = [n for n in _walk(root) if n.type == "call_expression"]
    names = {n.text.decode()[:18]: assigned_name(n) for n in calls if n.text is not None}
    assert names["crypto.createHash("] == "etag"
    assert names["f()"] == "sid"
    assert names["g()"] == "key"
    assert names["h()"] == ""


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def test_scanner_reports_the_new_categories_with_their_cwes(tmp_path: Path) -> None:
    code = HEAD + textwrap.dedent(
        """
        app.post("/login", (req, res) => {
          req.session.user = req.body.user;
          const passwordHash = crypto.createHash("sha1").update(req.body.pw).digest("hex");
          res.cookie("sid", passwordHash);
        });
        """
    )
    (tmp_path / "server.js").write_text(code, encoding="utf-8")
    findings, _ = run_sast(tmp_path, {"tools": ["taint"]})
    got = {(f.rule_id, f.cwe[0]) for f in findings}
    assert got == {
        ("sast.taint.js-trust-boundary", 501),
        ("sast.taint.js-weak-hash", 328),
        ("sast.taint.js-insecure-cookie", 614),
    }
