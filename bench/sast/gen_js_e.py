"""Express families ``e`` (tuning) and ``f`` (held out) over all 14 categories of the issue.

Written after families a-d (``gen_js.py``), sharing nothing with them, not even the sink catalog:
the six categories those families lack (LDAP 90, XPath 643, session trust boundary 501, weak
hash 328, predictable random 330, cookie flags 614) are here beside the other eight. ``e`` is the
tuning split; ``f`` is scored when written and at the end, its misses not looked at in between.

* ``e``: CommonJS, async arrow handlers, ``function (req, res, next)`` on a router, a named
  handler destructuring ``req.query``, ``req.get(...)``; flows: concatenation, template literal,
  same-file helper, object field, array join, ``trim``, ``map``, ``Object.assign``; false:
  other field, helper returning a constant, overwritten, ``includes`` early return, ``parseInt``.
* ``f``: TypeScript with ES imports, controller classes, handlers behind middleware,
  ``register(app)`` functions, optional chaining and ``??``, cookies; flows: ``+=``, push/join,
  class instance field, ``await``, ``split``, ``util.format``, closures, ``for...of``; false:
  constant instance field, regex early return, ``switch`` to constants, ``Number.parseInt``,
  helper module returning a constant.

Usage: ``python bench/sast/gen_js_e.py [--out build/sast/cases_js] [--per-kind 4]``
"""

# ruff: noqa: E501 - tables of code snippets read better unwrapped

from __future__ import annotations

import argparse
import json
import random
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sink:
    """Code using ``{v}``; ``imports`` are (local name, module) pairs; ``family``: where used."""

    code: str
    imports: tuple[tuple[str, str], ...] = ()
    family: str = "efg"


@dataclass(frozen=True)
class Cat:
    """One weakness."""

    name: str
    cwe: int
    prefix: str
    suffix: str
    sinks: tuple[Sink, ...]
    safe: tuple[Sink, ...]
    sanitizers: tuple[Sink, ...] = ()
    api: bool = False


K = Sink
CP = (("child_process", "child_process"),)
FS = (("fs", "fs"),)
CR = (("crypto", "crypto"),)
DB = (("mysql", "mysql"),)
LD = (("ldap", "ldapjs"),)
XP = (("xpath", "xpath"), ("DOMParser", "@xmldom/xmldom"))
_LDAP_CLIENT = 'const client = ldap.createClient({{ url: "ldap://127.0.0.1" }});\n'
_DB = "const db = mysql.createPool({{}});\n"
_DOC = 'const doc = new DOMParser().parseFromString("<users/>", "text/xml");\n'

CATS: tuple[Cat, ...] = (
    Cat(
        "cmd",
        78,
        "nslookup ",
        "",
        sinks=(
            K("child_process.exec({v}, () => {{}});", CP, family="e"),
            K("child_process.execSync({v});", CP),
            K('child_process.spawn("sh", ["-c", {v}]);', CP, family="f"),
        ),
        safe=(
            K('child_process.execFile("nslookup", [{v}], () => {{}});', CP),
            K('child_process.spawnSync("nslookup", ["--", {v}]);', CP),
        ),
        sanitizers=(K("shellQuote.quote([{v}])", (("shellQuote", "shell-quote"),)),),
    ),
    Cat(
        "sqli",
        89,
        "SELECT id FROM accounts WHERE owner = '",
        "'",
        sinks=(
            K(_DB + "db.query({v}, () => {{}});", DB, family="e"),
            K(_DB + "const rows = await db.query({v});", DB),
            K(
                'const sequelize = new Sequelize("sqlite::memory:");\nawait sequelize.query({v});',
                (("{ Sequelize }", "sequelize"),),
                family="f",
            ),
        ),
        # bastion: ignore[sast.bandit.B608] JavaScript source text of a benchmark case, not a query
        safe=(K(_DB + 'db.query("SELECT id FROM accounts WHERE owner = ?", [{v}], () => {{}});', DB),),
        sanitizers=(K("mysql.escape({v})", DB), K("parseInt({v}, 10)")),
    ),
    Cat(
        "code",
        94,
        "",
        "",
        sinks=(
            K("const out = eval({v});", family="e"),
            K("const fn = new Function({v});\nfn();"),
            K("vm.runInThisContext({v});", (("vm", "vm"),), family="f"),
        ),
        safe=(K("const out = JSON.parse({v});"),),
        sanitizers=(K("Number({v})"),),
    ),
    Cat(
        "ldap",
        90,
        "(&(objectClass=person)(uid=",
        "))",
        sinks=(
            K(
                _LDAP_CLIENT
                + 'client.search("ou=people,dc=corp", {{ filter: {v}, scope: "sub" }}, () => {{}});',
                LD,
                family="e",
            ),
            K(_LDAP_CLIENT + 'client.search("ou=people,dc=corp", {v}, () => {{}});', LD),
            K(
                _LDAP_CLIENT
                + 'const opts = {{ scope: "sub", filter: {v} }};\nclient.search("ou=people,dc=corp", opts, () => {{}});',
                LD,
                family="f",
            ),
        ),
        safe=(
            K(
                _LDAP_CLIENT
                + 'client.search("ou=people,dc=corp", {{ filter: "(objectClass=person)", attributes: [{v}] }}, () => {{}});',
                LD,
            ),
        ),
        sanitizers=(K("ldapEscape.filter`${{{v}}}`", (("ldapEscape", "ldap-escape"),)),),
    ),
    Cat(
        "xpath",
        643,
        "//user[@name='",
        "']",
        sinks=(
            K(_DOC + "const nodes = xpath.select({v}, doc);", XP, family="e"),
            K(_DOC + "const node = xpath.select1({v}, doc);", XP),
            K(
                _DOC + "const found = xpath.evaluate({v}, doc, null, xpath.XPathResult.ANY_TYPE, null);",
                XP,
                family="f",
            ),
        ),
        safe=(
            K(
                _DOC
                + 'const nodes = xpath.parse("//user[@name=$name]").select({{ node: doc, variables: {{ name: {v} }} }});',
                XP,
            ),
        ),
        sanitizers=(K("parseInt({v}, 10)"),),
    ),
    Cat(
        "xss",
        79,
        "<h1>Welcome ",
        "</h1>",
        sinks=(
            K("res.send({v});", family="e"),
            K("res.status(200).send({v});"),
            K('res.set("Content-Type", "text/html");\nres.end({v});', family="f"),
            K("res.write({v});\nres.end();", family="f"),
        ),
        safe=(
            K("res.json({{ message: {v} }});"),
            K('res.render("welcome", {{ name: {v} }});'),
        ),
        sanitizers=(K("escapeHtml({v})", (("escapeHtml", "escape-html"),)),),
    ),
    Cat(
        "path",
        22,
        "uploads/",
        "",
        sinks=(
            K("fs.readFile({v}, () => {{}});", FS, family="e"),
            K("const body = await fs.promises.readFile({v});", FS),
            K("res.download({v});", family="f"),
            K("fs.unlinkSync({v});", FS, family="f"),
        ),
        safe=(K('res.sendFile({v}, {{ root: "uploads" }});'),),
        sanitizers=(K("path.basename({v})", (("path", "path"),)),),
    ),
    Cat(
        "redirect",
        601,
        "",
        "",
        sinks=(
            K("res.redirect({v});", family="e"),
            K("res.redirect(301, {v});"),
            K("res.location({v});\nres.sendStatus(302);", family="f"),
        ),
        safe=(K('res.redirect("/home?ref=" + encodeURIComponent({v}));'),),
    ),
    Cat(
        "deser",
        502,
        "",
        "",
        sinks=(
            K("const obj = serialize.unserialize({v});", (("serialize", "node-serialize"),), family="e"),
            K("const obj = yaml.load({v});", (("yaml", "js-yaml"),)),
            K("const obj = yaml.loadAll({v});", (("yaml", "js-yaml"),), family="f"),
        ),
        safe=(
            K("const obj = yaml.load({v}, {{ schema: yaml.JSON_SCHEMA }});", (("yaml", "js-yaml"),)),
            K("const obj = JSON.parse({v});"),
        ),
    ),
    Cat(
        "xxe",
        611,
        "",
        "",
        sinks=(
            K(
                "const xml = libxmljs.parseXmlString({v}, {{ noent: true }});",
                (("libxmljs", "libxmljs"),),
                family="e",
            ),
            K(
                "const xml = libxmljs.parseXml({v}, {{ noent: true, nonet: false }});",
                (("libxmljs", "libxmljs2"),),
            ),
        ),
        safe=(
            K("const xml = libxmljs.parseXmlString({v});", (("libxmljs", "libxmljs"),)),
            K("const xml = libxmljs.parseXml({v}, {{ noent: false }});", (("libxmljs", "libxmljs2"),)),
        ),
    ),
    Cat(
        "trust",
        501,
        "",
        "",
        sinks=(
            K('req.session.displayName = {v};\nres.send("ok");', family="e"),
            K('req.session["role"] = {v};\nres.send("ok");', family="f"),
            K('req.session.profile = {{ name: {v} }};\nres.send("ok");'),
        ),
        safe=(
            K(
                'req.session.visits = (req.session.visits || 0) + 1;\nconst length = {v}.length;\nres.send("ok");'
            ),
        ),
        sanitizers=(K("Number({v})"),),
    ),
    Cat(
        "hash",
        328,
        "",
        "",
        api=True,
        sinks=(
            K('const passwordHash = crypto.createHash("md5").update({v}).digest("hex");', CR, family="e"),
            K('const hashed = crypto.createHash("sha1").update({v}).digest("hex");', CR),
            K("const digest = md5({v});", (("md5", "md5"),), family="f"),
        ),
        safe=(
            K('const passwordHash = crypto.createHash("sha256").update({v}).digest("hex");', CR),
            K('const etag = crypto.createHash("md5").update({v}).digest("hex");', CR),
            K("const passwordHash = await bcrypt.hash({v}, 12);", (("bcrypt", "bcrypt"),)),
        ),
    ),
    Cat(
        "random",
        330,
        "",
        "",
        api=True,
        sinks=(
            K("const token = Math.random().toString(36).slice(2) + {v}.length;", family="e"),
            K(
                'res.cookie("sid", String(Math.floor(Math.random() * 1e9)), {{ secure: true, httpOnly: true }});\nconst seen = {v};'
            ),
            K(
                "const resetCode = Math.floor(100000 + Math.random() * 900000);\nconst owner = {v};",
                family="f",
            ),
            K("req.session.csrf = Math.random().toString(16).slice(2);\nconst owner = {v};", family="f"),
        ),
        safe=(
            K('const token = crypto.randomBytes(16).toString("hex") + {v}.length;', CR),
            K("const delay = Math.random() * 100;\nconst owner = {v};"),
            K('const banner = ["sale", "new"][Math.floor(Math.random() * 2)];\nconst owner = {v};'),
        ),
    ),
    Cat(
        "cookie",
        614,
        "",
        "",
        api=True,
        sinks=(
            K('res.cookie("sid", {v});', family="e"),
            K('res.cookie("sid", {v}, {{ httpOnly: true }});'),
            K('res.cookie("sid", {v}, {{ secure: false, httpOnly: true }});', family="f"),
        ),
        safe=(
            K('res.cookie("sid", {v}, {{ secure: true, httpOnly: true }});'),
            K('res.cookie("sid", {v}, {{ secure: true, httpOnly: true, sameSite: "strict" }});'),
        ),
    ),
)

# Wrappers: code with {body} (indented 2 or 4 as marked by {body4}); `raw` holds the input.
WRAP_E = (
    'const express = require("express");\n{imports}\nconst app = express();\n\napp.post("/act", async (req, res) => {{\n  const raw = req.body.term;\n{body}\n}});\n',
    'const express = require("express");\n{imports}\nconst router = express.Router();\n\nrouter.get("/items/:id", async function (req, res, next) {{\n  const raw = req.params.id;\n{body}\n}});\n\nmodule.exports = router;\n',
    'const express = require("express");\n{imports}\nconst app = express();\n\nasync function lookup(req, res) {{\n  const {{ term: raw }} = req.query;\n{body}\n}}\n\napp.get("/lookup", lookup);\n',
    'const express = require("express");\n{imports}\nconst app = express();\n\napp.get("/hdr", async (req, res) => {{\n  const raw = req.get("X-Term");\n{body}\n}});\n',
)
WRAP_F = (
    'import express, {{ Request, Response }} from "express";\n{imports}\n\nexport class AccountController {{\n  async show(req: Request, res: Response) {{\n    const raw = String(req.query.term ?? "");\n{body4}\n  }}\n}}\n\nconst ctrl = new AccountController();\nconst router = express.Router();\nrouter.get("/account", (req, res) => ctrl.show(req, res));\nexport default router;\n',
    'import express from "express";\n{imports}\n\nconst app = express();\nconst requireUser = (req, res, next) => next();\n\napp.get("/secure", requireUser, async (req, res) => {{\n  const raw = req.query.term as string;\n{body}\n}});\n',
    'import type {{ Express }} from "express";\n{imports}\n\nexport function register(app: Express): void {{\n  app.put("/profile", async (request, response) => {{\n    const res = response;\n    const req = request;\n    const raw = request.body?.profile?.term ?? "";\n{body4}\n  }});\n}}\n',
    'import express from "express";\n{imports}\n\nconst app = express();\n\napp.get("/prefs", async (req, res) => {{\n  const raw: string = req.cookies["term"];\n{body}\n}});\n',
)

# Flows: (name, code turning `raw` into `val` with {P}/{X}, same-file code, lib.js code, tainted?)
FLOW_E = (
    ("concat", 'const val = "{P}" + raw + "{X}";', "", "", True),
    ("template", "const val = `{P}${{raw}}{X}`;", "", "", True),
    (
        "helper",
        "const val = wrap(raw);",
        'function wrap(part) {{\n  return "{P}" + part + "{X}";\n}}',
        "",
        True,
    ),
    (
        "object-field",
        'const query = {{ term: raw, page: 1 }};\nconst val = "{P}" + query.term + "{X}";',
        "",
        "",
        True,
    ),
    ("array-join", 'const val = ["{P}", raw, "{X}"].join("");', "", "", True),
    ("trim", 'const val = "{P}" + String(raw).trim() + "{X}";', "", "", True),
    ("map", 'const val = [raw].map((s) => "{P}" + s.toLowerCase() + "{X}")[0];', "", "", True),
    (
        "assign",
        'const merged = Object.assign({{}}, {{ term: raw }});\nconst val = "{P}" + merged.term + "{X}";',
        "",
        "",
        True,
    ),
    (
        "other-field",
        'const query = {{ term: raw, page: "1" }};\nconst val = "{P}" + query.page + "{X}";',
        "",
        "",
        False,
    ),
    (
        "const-helper",
        "const val = wrap(raw);",
        'function wrap(part) {{\n  return "{P}guest{X}";\n}}',
        "",
        False,
    ),
    ("overwritten", 'let term = raw;\nterm = "guest";\nconst val = "{P}" + term + "{X}";', "", "", False),
    (
        "includes-return",
        'if (!["alpha", "beta"].includes(raw)) {{\n  return res.sendStatus(400);\n}}\nconst val = "{P}" + raw + "{X}";',
        "",
        "",
        False,
    ),
    ("parse-int", 'const val = "{P}" + parseInt(raw, 10) + "{X}";', "", "", False),
)
FLOW_F = (
    ("augassign", 'let val = "{P}";\nval += raw;\nval += "{X}";', "", "", True),
    (
        "push-join",
        'const parts: string[] = [];\nparts.push(raw);\nconst val = "{P}" + parts.join("") + "{X}";',
        "",
        "",
        True,
    ),
    (
        "instance",
        'const box = new Box(raw);\nconst val = "{P}" + box.value + "{X}";',
        'class Box {{\n  kind = "plain";\n  value: string;\n  constructor(value: string) {{\n    this.value = value;\n  }}\n}}',
        "",
        True,
    ),
    ("await", 'const val = "{P}" + (await Promise.resolve(raw)) + "{X}";', "", "", True),
    ("split", 'const val = "{P}" + raw.split(",")[0] + "{X}";', "", "", True),
    ("util-format", 'const val = util.format("{P}%s{X}", raw);', "", "", True),
    ("closure", 'const build = () => "{P}" + raw + "{X}";\nconst val = build();', "", "", True),
    (
        "for-of",
        'let val = "";\nfor (const item of [raw]) {{\n  val = "{P}" + item + "{X}";\n}}',
        "",
        "",
        True,
    ),
    (
        "module",
        'const val = lib.compose("{P}", raw, "{X}");',
        "",
        "export function compose(head, item, tail) {{\n  return head + item + tail;\n}}\n",
        True,
    ),
    (
        "const-field",
        'const box = new Box(raw);\nconst val = "{P}" + box.kind + "{X}";',
        'class Box {{\n  kind = "plain";\n  value: string;\n  constructor(value: string) {{\n    this.value = value;\n  }}\n}}',
        "",
        False,
    ),
    (
        "regex-return",
        'if (!/^[a-z0-9]{{1,16}}$/.test(raw)) {{\n  return res.status(400).end();\n}}\nconst val = "{P}" + raw + "{X}";',
        "",
        "",
        False,
    ),
    (
        "switch",
        'let picked = "guest";\nswitch (raw) {{\n  case "a":\n    picked = "alpha";\n    break;\n  default:\n    picked = "beta";\n}}\nconst val = "{P}" + picked + "{X}";',
        "",
        "",
        False,
    ),
    ("number-parse", 'const val = "{P}" + Number.parseInt(raw, 10) + "{X}";', "", "", False),
    (
        "module-const",
        'const val = lib.compose("{P}", raw, "{X}");',
        "",
        'export function compose(head, item, tail) {{\n  return head + "guest" + tail;\n}}\n',
        False,
    ),
)
DEAD = {
    "e": "if (false) {{\n{sink}\n}}",
    "f": "if (FEATURE_ENABLED) {{\n{sink}\n}}",
    "g": 'if (process.env.NODE_ENV === "test" && false) {{\n{sink}\n}}',
}
# Family g (held out, written after e and f were tuned): CommonJS modules exporting a function of
# app, static class methods as handlers, nested request destructuring, route().post() chains,
# middleware arrays; flows through reduce, String.concat, padEnd, destructuring defaults, Map,
# getters, JSON round trips, Buffer; false: other Map key, derived length words, regex type
# guard, NaN-checked numbers, Set allow-list ternary.
WRAP_G = (
    'const express = require("express");\n{imports}\n\nmodule.exports = (app) => {{\n  app.delete("/items/:id", (req, res) => {{\n    const raw = req.params["id"];\n{body4}\n  }});\n}};\n',
    'const express = require("express");\n{imports}\n\nclass Api {{\n  static async find(req, res) {{\n    const raw = req.query.term;\n{body4}\n  }}\n}}\n\nconst router = express.Router();\nrouter.get("/find", Api.find);\nmodule.exports = router;\n',
    'const express = require("express");\n{imports}\nconst app = express();\n\napp.all("/any", function handler(req, res) {{\n  const {{ body: {{ term: raw }} }} = req;\n{body}\n}});\n',
    'const express = require("express");\n{imports}\nconst router = express.Router();\n\nrouter.route("/thing").post(async (req, res) => {{\n  const raw = req.body["term"];\n{body}\n}});\n',
    'const express = require("express");\n{imports}\nconst app = express();\nconst auth = (req, res, next) => next();\n\napp.post("/guarded", [auth], (req, res) => {{\n  const raw = req.query["term"];\n{body}\n}});\n',
)
FLOW_G = (
    ("reduce", 'const val = ["{P}", raw, "{X}"].reduce((a, b) => a + b, "");', "", "", True),
    ("concat-method", 'const val = "{P}".concat(raw, "{X}");', "", "", True),
    ("pad", "const val = `{P}${{raw.padEnd(3)}}{X}`;", "", "", True),
    (
        "default-destructure",
        'const {{ term = "" }} = {{ term: raw }};\nconst val = "{P}" + term + "{X}";',
        "",
        "",
        True,
    ),
    (
        "map",
        'const store = new Map();\nstore.set("t", raw);\nconst val = "{P}" + store.get("t") + "{X}";',
        "",
        "",
        True,
    ),
    (
        "getter",
        "const val = new Text(raw).text;",
        'class Text {{\n  constructor(t) {{\n    this.t = t;\n  }}\n  get text() {{\n    return "{P}" + this.t + "{X}";\n  }}\n}}',
        "",
        True,
    ),
    (
        "json-roundtrip",
        'const copy = JSON.parse(JSON.stringify({{ t: raw }}));\nconst val = "{P}" + copy.t + "{X}";',
        "",
        "",
        True,
    ),
    ("buffer", 'const val = "{P}" + Buffer.from(raw).toString("utf8") + "{X}";', "", "", True),
    (
        "other-map-key",
        'const store = new Map();\nstore.set("t", raw);\nstore.set("u", "fixed");\nconst val = "{P}" + store.get("u") + "{X}";',
        "",
        "",
        False,
    ),
    ("length-word", 'const val = "{P}" + (raw.length > 3 ? "long" : "short") + "{X}";', "", "", False),
    (
        "type-guard",
        'if (typeof raw !== "string" || !/^\\w+$/.test(raw)) {{\n  return res.end();\n}}\nconst val = "{P}" + raw + "{X}";',
        "",
        "",
        False,
    ),
    (
        "nan-check",
        'const id = Number(raw);\nif (Number.isNaN(id)) {{\n  return res.sendStatus(400);\n}}\nconst val = "{P}" + id + "{X}";',
        "",
        "",
        False,
    ),
    (
        "set-ternary",
        'const ALLOWED = new Set(["alpha", "beta"]);\nconst val = "{P}" + (ALLOWED.has(raw) ? raw : "alpha") + "{X}";',
        "",
        "",
        False,
    ),
)


def render(
    fam: str,
    cat: Cat,
    wrap: str,
    flow: tuple[str, str, str, str, bool],
    sink: Sink,
    dead: bool,
    sanitizer: Sink | None,
) -> dict[str, str]:
    """The files of one case."""

    def fill(text: str) -> str:
        return (
            text.replace("{P}", cat.prefix).replace("{X}", cat.suffix).replace("{{", "{").replace("}}", "}")
        )

    code, local, lib = fill(flow[1]), fill(flow[2]), fill(flow[3])
    imports = list(sink.imports)
    if sanitizer is not None:
        imports += sanitizer.imports
        code = (
            f"const clean = {sanitizer.code.format(v='raw').replace('{{', '{').replace('}}', '}')};\n"
            + code.replace("raw", "clean")
        )
    if "util.format" in code:
        imports.append(("util", "util"))
    sink_code = sink.code.format(v="val")
    if dead:
        sink_code = DEAD[fam].format(sink=textwrap.indent(sink_code, "  "))
    body = code + "\n" + sink_code
    lines = []
    for local_name, module in dict.fromkeys(imports):
        if fam in ("e", "g"):
            lines.append(f'const {local_name} = require("{module}");')
        elif local_name.startswith("{"):
            lines.append(f'import {local_name} from "{module}";')
        else:
            lines.append(
                f'import * as {local_name} from "{module}";'
                if module in ("child_process", "fs", "crypto", "vm", "path", "util")
                else f'import {local_name} from "{module}";'
            )
    if lib:
        lines.append(
            'const lib = require("./lib");' if fam in ("e", "g") else 'import * as lib from "./lib";'
        )
    if dead and fam == "f":
        lines.append("const FEATURE_ENABLED = false;")
    if local:
        lines.append("\n" + local)
    depth = 4 if "{body4}" in wrap else 2
    text = wrap.replace("{body4}", "{body}").format(
        imports="\n".join(lines), body=textwrap.indent(body, " " * depth)
    )
    ext = "js" if fam in ("e", "g") else "ts"
    files = {f"app.{ext}": text}
    if lib:
        files[f"lib.{ext}"] = lib
    return files


def generate(
    fam: str, rng: random.Random, per_kind: int
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, object]]]:
    """Cases and labels of one family."""
    wraps = {"e": WRAP_E, "f": WRAP_F, "g": WRAP_G}[fam]
    flows = {"e": FLOW_E, "f": FLOW_F, "g": FLOW_G}[fam]
    cases: dict[str, dict[str, str]] = {}
    labels: dict[str, dict[str, object]] = {}
    seen: set[str] = set()
    for cat in CATS:
        sinks = [s for s in cat.sinks if fam in s.family]
        safes = [s for s in cat.safe if fam in s.family]
        if cat.api:
            kinds = [("weak-api", True)] * 3 + [("strong-api", False)] * 2 + [("dead", False)]
        else:
            kinds = [("tainted", True)] * 3 + [("flow-clean", False), ("safe-api", False), ("dead", False)]
            if cat.sanitizers:
                kinds.append(("sanitized", False))
        counter = tries = 0
        while counter < per_kind * len(kinds) and tries < 5000:
            tries += 1
            kind, real = kinds[counter % len(kinds)]
            tainted = [f for f in flows if f[4]]
            if kind == "flow-clean":
                flow = rng.choice([f for f in flows if not f[4]])
            elif cat.api:
                flow = tainted[0]
            else:
                flow = rng.choice(tainted)
            sink = rng.choice(safes if kind in ("safe-api", "strong-api") else sinks)
            sanitizer = rng.choice(cat.sanitizers) if kind == "sanitized" else None
            style = rng.randrange(len(wraps))
            files = render(fam, cat, wraps[style], flow, sink, kind == "dead", sanitizer)
            key = "".join(files.values())
            if key in seen:
                continue
            seen.add(key)
            case_id = f"{cat.cwe}-{cat.name}-{counter:03d}-{'real' if real else 'false'}"
            cases[case_id] = files
            labels[case_id] = {
                "category": cat.name,
                "cwe": cat.cwe,
                "real": real,
                "kind": kind,
                "propagation": flow[0],
                "framework": f"{fam}-style-{style}",
            }
            counter += 1
    return cases, labels


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("build/sast/cases_js"))
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--per-kind", type=int, default=4)
    parser.add_argument("--family", action="append", default=[])
    args = parser.parse_args()
    for fam in args.family or ["e", "f", "g"]:
        rng = random.Random(
            f"{args.seed}-{fam}"
        )  # bastion: ignore[python.random-not-secure] reproducible test data, no secret
        cases, labels = generate(fam, rng, args.per_kind)
        root = args.out / fam
        shutil.rmtree(root, ignore_errors=True)
        for case_id, files in cases.items():
            (root / case_id).mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (root / case_id / name).write_text(text, encoding="utf-8")
        (root / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True), encoding="utf-8")
        real = sum(1 for v in labels.values() if v["real"])
        print(f"family {fam}: {len(labels)} cases ({real} real) in {root}")


if __name__ == "__main__":
    main()
