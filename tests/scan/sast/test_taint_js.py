"""The JavaScript/TypeScript taint analysis: propagation, sanitizers, guards, sinks, bad input."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from sast_helpers import needs_semgrep, run_sast

from bastion.cli.main import main
from bastion.scan.sast.taint.js import analyze_js
from bastion.scan.sast.taint.js.parse import module_aliases, parse
from bastion.scan.sast.taint.js.spec import js_rule_book, load_js_rules
from bastion.scan.sast.taint.report import to_finding

HEAD = 'const cp = require("child_process");\nconst fs = require("fs");\nconst app = require("express")();\n'


def _hits(code: str, name: str = "app.js") -> set[tuple[int, int]]:
    result = analyze_js([(name, HEAD + textwrap.dedent(code))])
    assert result.problems == []
    return {(h.sink.line - 3, h.rule.cwe) for h in result.hits}


def _route(body: str) -> str:
    inner = textwrap.indent(textwrap.dedent(body).strip("\n"), "  ")
    return f'app.get("/x", (req, res) => {{\n{inner}\n}});\n'


REAL = [
    ("direct", "cp.exec(req.query.q);", 2, 78),
    ("template", "const c = `ls ${req.params.id}`;\ncp.execSync(c);", 3, 78),
    ("concat-assign", 'let c = "ls ";\nc += req.body.dir;\ncp.exec(c);', 4, 78),
    ("destructure", "const { q } = req.query;\neval(q);", 3, 94),
    ("destructure-rename", "const { q: term = 'x' } = req.query;\nres.send(term);", 3, 79),
    ("array-destructure", "const [first] = [req.query.a, 'b'];\nres.redirect(first);", 3, 601),
    ("object-field", "const o = { path: req.query.p, mode: 'r' };\nfs.readFileSync(o.path);", 3, 22),
    ("sql", 'db.query("SELECT * FROM t WHERE a = \'" + req.query.a + "\'");', 2, 89),
    ("header-call", 'res.redirect(req.get("Referer"));', 2, 601),
    ("new-function", 'new Function("return " + req.body.f)();', 2, 94),
    ("spawn-shell", 'cp.spawn("sh", ["-c", req.query.c], { shell: true });', 2, 78),
    ("yaml", 'const yaml = require("js-yaml");\nyaml.load(req.body.doc);', 3, 502),
    ("xxe", 'const lx = require("libxmljs");\nlx.parseXml(req.body.x, { noent: true });', 3, 611),
    ("strip-keeps-shell-chars", "cp.exec(req.query.d.replace(/[^a-z;|]/g, ''));", 2, 78),
    ("strip-not-global", "cp.exec(req.query.d.replace(/[^a-z]/, ''));", 2, 78),
    ("node-prefix", 'const c2 = require("node:child_process");\nc2.exec(req.param("c"));', 3, 78),
    ("this-receiver", "this.db.query('SELECT ' + req.query.col);", 2, 89),
    ("location", "res.location(req.query.to).sendStatus(302);", 2, 601),
    ("promise-then", "Promise.resolve(req.query.c).then((c) => cp.exec(c));", 2, 78),
    ("array-push", "const l = [];\nl.push(req.body.x);\neval(l[0]);", 4, 94),
    ("map-callback", "[req.query.a].map((a) => res.send(a));", 2, 79),
    ("or-one-side", "const l = req.query.l;\nif (l === 'en' || other) { cp.exec(l); }", 3, 78),
    (
        "promisify",
        "const util = require('util');\nconst run = util.promisify(cp.exec);\nrun(req.query.c);",
        4,
        78,
    ),
    ("chained-send", 'res.status(200).send("<p>" + req.cookies.n + "</p>");', 2, 79),
]

SAFE = [
    ("parseInt", "cp.exec('kill ' + parseInt(req.query.pid, 10));"),
    ("constant", "const c = 'ls';\ncp.exec(c);"),
    ("overwritten", "let c = req.query.c;\nc = 'date';\ncp.exec(c);"),
    ("dead-branch", "if (false) { cp.exec(req.query.c); }"),
    ("and-false", "if (process.env.X === '1' && false) { eval(req.query.c); }"),
    ("allow-list", "const c = req.query.c;\nif (['ls', 'df'].includes(c)) { cp.exec(c); }"),
    ("early-return", "const c = req.query.c;\nif (!/^[a-z]+$/.test(c)) { return res.end(); }\ncp.exec(c);"),
    ("equality-throw", "const c = req.query.c;\nif (c !== 'ls') { throw new Error('no'); }\ncp.exec(c);"),
    ("other-field", "const o = { bad: req.query.c, ok: 'ls' };\ncp.exec(o.ok);"),
    ("parameterised", "db.query('SELECT * FROM t WHERE a = ?', [req.query.a]);"),
    ("escape-html", "const esc = require('escape-html');\nres.send('<p>' + esc(req.query.n) + '</p>');"),
    ("basename", "const path = require('path');\nfs.readFileSync('/srv/' + path.basename(req.query.f));"),
    ("json-response", "res.json({ v: req.query.v });"),
    ("spawn-no-shell", "cp.spawn('ls', [req.query.dir]);"),
    ("send-file-root", "res.sendFile(req.query.f, { root: '/srv' });"),
    ("yaml-json-schema", "const y = require('js-yaml');\ny.load(req.body.d, { schema: y.JSON_SCHEMA });"),
    ("xml-default", "const lx = require('libxmljs');\nlx.parseXml(req.body.x);"),
    ("timer-function", "setTimeout(() => console.log(req.query.x), 5);"),
    ("argv-path", "fs.readFileSync(process.argv[2]);"),
    ("const-ternary", "const c = false ? req.query.c : 'ls';\ncp.exec(c);"),
    ("map-lookup", "const M = { a: 'ls' };\ncp.exec(M[req.query.k]);"),
    ("either-equality", "const l = req.query.l;\nif (l === 'en' || l === 'fr') { cp.exec('x ' + l); }"),
    ("integer-via-number", "const n = req.query.n;\nif (!Number.isInteger(Number(n))) { return; }\neval(n);"),
    ("then-on-clean", "Promise.resolve('ls').then((c) => cp.exec(c));"),
    ("regex-strip", "cp.exec('ls ' + String(req.query.d).replace(/[^a-z0-9]/gi, ''));"),
    (
        "validator-through-string",
        "const v = require('validator');\nconst d = req.query.d;\n"
        "if (!v.isAlphanumeric(String(d))) { return next(); }\ncp.exec(d);",
    ),
]


@pytest.mark.parametrize(("code", "line", "cwe"), [r[1:] for r in REAL], ids=[r[0] for r in REAL])
def test_real_flows_are_found(code: str, line: int, cwe: int) -> None:
    assert (line, cwe) in _hits(_route(code))


@pytest.mark.parametrize("code", [s[1] for s in SAFE], ids=[s[0] for s in SAFE])
def test_safe_code_is_not_a_finding(code: str) -> None:
    assert _hits(_route(code)) == set()


def test_helpers_within_the_file_carry_taint_both_ways() -> None:
    code = """
    function build(x) { return "ls " + x; }
    function run(cmd) { cp.exec(cmd); }
    const quiet = (v) => parseInt(v, 10);
    app.post("/a", (req, res) => {
      run(build(req.body.dir));
      run(quiet(req.body.n));
      run("date");
    });
    """
    assert _hits(code) == {(3, 78)}


def test_destructured_request_parameter() -> None:
    code = """
    app.post("/d", ({ query, body: { cmd }, params: p }, res) => {
      cp.exec(cmd);
      eval(query.code);
      res.redirect(p.to);
      res.send(String(Number(query.n)));
    });
    """
    assert _hits(code) == {(3, 78), (4, 94), (5, 601)}


def test_chained_route_handlers() -> None:
    code = """
    app.route("/r").get((rq, rs) => { cp.exec(rq.query.c); }).post((a, b) => { eval(a.body.e); });
    app.get((x) => cp.exec(x.query.c));
    """
    assert _hits(code) == {(2, 78), (2, 94)}


def test_nested_functions_see_the_handler_variables() -> None:
    code = """
    app.get("/n", (req, res) => {
      const q = req.query.q;
      const safe = "ls";
      function run() { cp.exec(q); }
      const quiet = () => cp.exec(safe);
      const wrap = (x) => `du ${x}`;
      function loop(n) { return n > 0 ? loop(n - 1) : q; }
      run();
      quiet();
      eval(wrap(req.body.c));
      res.send(loop(3));
    });
    """
    assert _hits(code) == {(5, 78), (11, 94), (12, 79)}


def test_named_handler_registered_later_and_es_imports() -> None:
    code = """
    import { exec as run } from "child_process";
    import * as vm from "vm";
    async function handler(request: any, response: any) {
      const v = (request.query.v as string) ?? "";
      run(v);
      vm.runInNewContext(String(v));
    }
    router.get("/h", handler);
    """
    assert _hits(code, "app.ts") == {(6, 78), (7, 94)}


def test_loops_switch_and_try_join_branches() -> None:
    code = """
    app.get("/l", (req, res) => {
      let acc = "";
      for (const p of [req.query.a, "x"]) { acc += p; }
      cp.exec(acc);
      let s = "";
      switch (req.method) { case "POST": s = req.body.s; break; default: s = "ok"; }
      eval(s);
      let t;
      try { t = JSON.parse(req.body.t); } catch (e) { t = "{}"; }
      res.send(t);
    });
    """
    assert _hits(code) == {(5, 78), (8, 94), (11, 79)}


def test_trace_steps_and_finding() -> None:
    result = analyze_js(
        [("a.js", HEAD + _route("const q = req.query.q;\nconst c = `ls ${q}`;\ncp.exec(c);"))]
    )
    (hit,) = result.hits
    finding = to_finding(hit)
    assert finding.rule_id == "sast.taint.js-command" and finding.cwe == (78,)
    lines = [step["line"] for step in finding.metadata["flow"]]
    assert lines[0] == 5 and lines[-1] == 7 and 6 in lines
    assert "req.query" in finding.message


def test_module_aliases() -> None:
    root = parse(
        "m.js",
        b'const { exec, spawn: sp } = require("child_process");\nconst w = require("fs").promises;\n'
        b'import y, { load as l } from "js-yaml";\nimport * as v from "vm";\n',
    )
    assert module_aliases(root) == {
        "exec": "child_process.exec",
        "sp": "child_process.spawn",
        "w": "fs.promises",
        "y": "js-yaml",
        "l": "js-yaml.load",
        "v": "vm",
    }


def test_bad_input_is_a_problem_and_the_rest_is_analysed() -> None:
    deep = "const x = " + "(" * 3000 + "req.query.a" + ")" * 3000 + ";\n"
    result = analyze_js(
        [
            ("broken.js", "function (\n"),
            ("deep.js", HEAD + _route(deep + "cp.exec(x);")),
            ("ok.js", HEAD + _route("cp.exec(req.query.q);")),
        ]
    )
    problems = dict(result.problems)
    assert problems["broken.js"].startswith("syntax error near line")
    assert "deep.js" not in problems  # nesting past MAX_DEPTH is read flat, not lost
    assert {h.sink.path for h in result.hits} == {"deep.js", "ok.js"}


@pytest.mark.parametrize(
    ("condition", "dead"),
    [
        ("false", True),
        ("!true", True),
        ("0", True),
        ("null", True),
        ("1 + 1 === 3", True),
        ("'a' === 'b'", True),
        ("2 * 3 > 7", True),
        ("DEBUG && x", True),
        ("-1 >= 0", True),
        ("(5 % 2) === 0", True),
        ("'1' == 1 && false", True),
        ("DEBUG || OFF", True),
        ("true", False),
        ("x", False),
        ("DEBUG || x", False),
        ("`static` === 'static'", False),
        ("1 !== 1 || 2 <= 2", False),
        ("+'1' === 1", False),
    ],
)
def test_constant_conditions(condition: str, dead: bool) -> None:
    code = f"const DEBUG = false;\nconst OFF = 0;\n{_route(f'if ({condition}) {{ cp.exec(req.query.c); }}')}"
    assert _hits(code) == (set() if dead else {(4, 78)})


def test_rules_file_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match=r"rules.yml: sinks.0.cwe"):
        load_js_rules(
            "version: 1\nsources: []\nrequest_names: []\nroute_methods: []\n"
            "sinks:\n- {id: x, cwe: 0, title: t}\nsanitizers: []\n"
        )
    with pytest.raises(ValueError, match="not valid YAML"):
        load_js_rules("version: [1\n")
    book = js_rule_book()
    assert {s.cwe for s in book.rules.sinks} == {
        22,
        78,
        79,
        89,
        90,
        94,
        328,
        330,
        501,
        502,
        601,
        611,
        614,
        643,
    }


def test_scanner_and_cli_report_js_taint_with_code_flows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "server.js").write_text(
        HEAD + _route("const q = req.query.q;\ncp.exec('ls ' + q);"), encoding="utf-8"
    )
    (tmp_path / "broken.ts").write_text("let = ;\n", encoding="utf-8")
    findings, context = run_sast(tmp_path, {"tools": ["taint"]})
    assert [(f.rule_id, f.location.path, f.location.start_line) for f in findings] == [
        ("sast.taint.js-command", "server.js", 6)
    ]
    assert [(n.path, n.message.split(":")[0]) for n in context.notices] == [("broken.ts", "taint")]
    out = tmp_path / "r.sarif"
    code = main(
        [
            "scan",
            str(tmp_path),
            "--scanners",
            "sast",
            "--format",
            "sarif",
            "-o",
            str(out),
            "--fail-on",
            "none",
        ]
    )
    capsys.readouterr()
    assert code == 0
    results = json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]
    taint = [r for r in results if r["ruleId"] == "sast.taint.js-command"]
    locations = taint[0]["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [loc["location"]["physicalLocation"]["region"]["startLine"] for loc in locations][-1] == 6


def test_flows_across_required_and_imported_modules() -> None:
    helpers = (
        'const cp = require("child_process");\n'
        "exports.run = function (cmd) {\n  cp.exec(cmd);\n};\n"
        "function wrap(x) {\n  return `ls ${x}`;\n}\n"
        "function quiet(x) {\n  return Number(x);\n}\n"
        "module.exports.wrap = wrap;\nmodule.exports.quiet = quiet;\n"
    )
    server = (
        'const h = require("./lib/helpers");\nconst { wrap } = require("./lib/helpers.js");\n'
        'app.get("/", (req, res) => {\n  h.run(wrap(req.query.q));\n  h.run(h.quiet(req.query.n));\n});\n'
    )
    module = 'import { run } from "./lib/helpers";\nexport function go(req: any) {\n  run(req.body.c);\n}\n'
    cyclic_a = 'const b = require("./b");\nexports.f = function (x) { return b.g(x); };\n'
    cyclic_b = 'const a = require("./a");\nexports.g = function (x) { return a.f(x); };\n'
    files = [("server.js", server), ("lib/helpers.js", helpers), ("a.js", cyclic_a), ("b.js", cyclic_b)]
    result = analyze_js(files)
    assert result.problems == []
    (hit,) = result.hits  # the Number() path is clean; one finding per sink location
    assert (hit.sink.path, hit.sink.line, hit.flow.steps[0].path) == ("lib/helpers.js", 3, "server.js")
    assert hit.flow.origin.label.startswith("req.query")
    (imported,) = analyze_js([("mod.ts", module), ("lib/helpers.js", helpers)]).hits
    assert imported.flow.origin.label.startswith("req.body") and imported.flow.steps[0].path == "mod.ts"


@needs_semgrep
def test_pattern_findings_the_js_analysis_disproves_are_dropped(tmp_path: Path) -> None:
    body = (
        "const n = parseInt(req.query.n, 10);\ncp.exec('ls ' + n);\ncp.exec('ls ' + req.query.d);\n"
        "if (false) { cp.exec('ls ' + req.query.e); }\nreturn;\ncp.exec('ls ' + req.query.f);"
    )
    library = "function lib(arg) {\n  cp.exec('ls ' + arg);\n}\nmodule.exports = { lib };\n"
    (tmp_path / "app.js").write_text(HEAD + _route(body) + library, encoding="utf-8")
    alone, _ = run_sast(tmp_path, {"tools": ["semgrep"]})
    assert sorted(f.location.start_line for f in alone) == [6, 7, 8, 10, 13]
    merged, _ = run_sast(tmp_path, {"tools": ["semgrep", "taint"]})
    got = sorted((f.rule_id, f.location.start_line, tuple(f.metadata.get("tools", ()))) for f in merged)
    # 6: the sanitised call is dropped; 7: merged into the taint finding; 8 (if (false)) and
    # 10 (after return) are dead; 13: a library function's parameter cannot be bounded, so
    # the pattern finding stays
    assert got == [
        ("sast.semgrep.js-child-process-exec-dynamic", 13, ()),
        ("sast.taint.js-command", 7, ("taint", "semgrep")),
    ]
