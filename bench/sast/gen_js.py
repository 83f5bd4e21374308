"""Generate the labelled Express suite: small handlers, one potential vulnerability each.

Two template families share only the sink catalog (``catalog_js.py``):

* ``a`` (tuning): CommonJS ``require``, arrow-function handlers registered inline on ``app``;
  values built inline (template literals, concatenation, objects, arrays, destructuring) or
  through a helper in the same file; false cases sanitise, use a constant, a dead
  ``if (false)``/``DEBUG`` branch, overwrite, call the safe API, or guard with ``includes``.
* ``b`` (held out, written after the rules): TypeScript with ES ``import``, named handler
  functions on an ``express.Router()`` registered after their definition, ``request`` as the
  parameter name; values through ``??`` defaults, spreads, ``for...of`` loops, ``switch``,
  ``try``/``catch``, string methods, ``await``; false cases guard with a regex or equality
  early return, map a key to a constant, use a constant ternary, sanitise inside a helper.

Usage: ``python bench/sast/gen_js.py [--out bench/sast/cases_js] [--per-kind 20]``. Writes
``<out>/<family>/<case>/app.js`` (``app.ts`` for ``b``) and ``<out>/<family>/labels.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

from catalog_js import JS_CATEGORIES, JsCategory

HERE = Path(__file__).resolve().parent
NAMES = ("value", "term", "target", "input", "name", "item", "entry", "ref", "token", "key", "arg", "data")
PATHS = (
    "/run",
    "/check",
    "/view",
    "/go",
    "/load",
    "/fetch",
    "/find",
    "/item",
    "/show",
    "/api/x",
    "/do",
    "/q",
)
SOURCES_A = (
    "req.query.q",
    "req.params.id",
    "req.body.name",
    "req.cookies.session",
    'req.headers["x-user"]',
    'req.query["file"]',
    "req.body.payload",
    "req.query.next",
)
SOURCES_B = (
    "request.query.search",
    "request.body.content",
    "request.params.slug",
    'request.get("X-Target")',
    "request.cookies.pref",
    'request.body["doc"]',
    "request.query.url",
    "request.headers.referer",
)

Case = tuple[str, str, str, bool]  # body, propagation/kind, helper code, real


def _local(module: str) -> str:
    return module.replace("-", "_")


def _prelude_a(cat: JsCategory) -> str:
    lines = ['const express = require("express");', "const app = express();"]
    lines += [f'const {_local(m)} = require("{m}");' for m in cat.imports]
    if cat.cwe == 89:
        lines += [
            'const db = mysql.createConnection({ host: "localhost" });',
            'const pool = mysql.createPool({ host: "localhost" });',
            'const knex = require("knex")({ client: "mysql" });',
        ]
    if cat.cwe == 22:
        lines.append('const fs2 = require("fs");')
    return "\n".join(lines)


def _prelude_b(cat: JsCategory) -> str:
    lines = ['import express, { Request, Response } from "express";', "const router = express.Router();"]
    for m in cat.imports:
        if m in ("child_process", "fs", "path", "vm"):
            lines.append(f'import * as {_local(m)} from "{m}";')
        else:
            lines.append(f'import {_local(m)} from "{m}";')
    if cat.cwe == 89:
        lines += [
            'const db = mysql.createConnection({ host: "db" });',
            'const pool = mysql.createPool({ host: "db" });',
            'import Knex from "knex";',
            'const knex = Knex({ client: "pg" });',
        ]
    return "\n".join(lines)


def family_a(cat: JsCategory, rng: random.Random, index: int) -> Case:
    """One case of family a: (handler body, kind, helper functions, real)."""
    v = rng.choice(NAMES)
    src = rng.choice(SOURCES_A)
    sink = rng.choice(cat.sinks).format(v=v)
    real = index % 2 == 0
    if real:
        kinds: list[Callable[[], tuple[str, str, str]]] = [
            lambda: (f"const {v} = {src};\n{sink};", "direct", ""),
            lambda: (f"const {v} = `${{{src}}}`.trim();\n{sink};", "template", ""),
            lambda: (
                f'const opts = {{ {v}: {src}, mode: "fast" }};\nconst {v}2 = opts.{v};\n'
                + rng.choice(cat.sinks).format(v=f"{v}2")
                + ";",
                "object-field",
                "",
            ),
            lambda: (f"const {{ {v} }} = {{ {v}: {src} }};\n{sink};", "destructure-literal", ""),
            lambda: (f'const parts = [{src}];\nconst {v} = parts.join("");\n{sink};', "array-join", ""),
            lambda: (
                f"const {v} = build({src});\n{sink};",
                "helper-return",
                'function build(x) {\n  return "" + x;\n}',
            ),
            lambda: (f"sinkHelper({src});", "helper-sink", f"function sinkHelper({v}) {{\n  {sink};\n}}"),
            lambda: (f'let {v} = {src};\n{v} = {v} + "";\n{sink};', "reassign-concat", ""),
        ]
    else:
        san = rng.choice(cat.sanitise).format(v="raw")
        safe = rng.choice(cat.safe_api).format(v=v)
        kinds = [
            lambda: (f"const raw = {src};\nconst {v} = {san};\n{sink};", "sanitised", ""),
            lambda: (f'const ignored = {src};\nconst {v} = "static-{index}";\n{sink};', "constant", ""),
            lambda: (f"const {v} = {src};\nif (false) {{\n  {sink};\n}}\nres.end();", "dead-branch", ""),
            lambda: (
                f"const {v} = {src};\nif (DEBUG) {{\n  {sink};\n}}\nres.end();",
                "debug-const",
                "const DEBUG = false;",
            ),
            lambda: (f'let {v} = {src};\n{v} = "fixed-{index}";\n{sink};', "overwritten", ""),
            lambda: (f"const {v} = {src};\n{safe};", "safe-api", ""),
            lambda: (
                f'const {v} = {src};\nif (["a", "b", "c"].includes({v})) {{\n  {sink};\n}}',
                "allow-list",
                "",
            ),
            lambda: (
                f'const opts = {{ other: {src}, {v}: "fixed" }};\nconst {v}2 = opts.{v};\n'
                + rng.choice(cat.sinks).format(v=f"{v}2")
                + ";",
                "other-field",
                "",
            ),
        ]
    body, kind, helper = kinds[(index // 2) % len(kinds)]()
    method = rng.choice(("get", "post", "put", "all"))
    path = f"{rng.choice(PATHS)}/{index}"
    indented = "\n".join("  " + line for line in body.splitlines())
    code = f'{_prelude_a(cat)}\n{helper}\n\napp.{method}("{path}", (req, res) => {{\n{indented}\n}});\n'
    return code, kind, "express", real


def family_b(cat: JsCategory, rng: random.Random, index: int) -> Case:
    """One case of family b (TypeScript, router, named handlers)."""
    v = rng.choice(NAMES)
    src = rng.choice(SOURCES_B)
    sink = rng.choice(cat.sinks).format(v=v)
    real = index % 2 == 0
    helper = ""
    if real:
        choices = [
            (f'const {v}: string = ({src} as string) ?? "none";\n{sink};', "nullish-default"),
            (f"const copy = {{ ...request.query }};\nconst {v} = String(copy.search);\n{sink};", "spread"),
            (
                f'let acc = "";\nfor (const part of [{src}, "-x"]) {{\n'
                f"  acc += part;\n}}\nconst {v} = acc;\n{sink};",
                "loop-accumulate",
            ),
            (
                f'let {v} = "";\nswitch (request.method) {{\n  case "POST":\n    {v} = {src};\n    break;\n'
                f'  default:\n    {v} = "get";\n}}\n{sink};',
                "switch",
            ),
            (
                f"let {v}: string;\ntry {{\n  {v} = decodeURIComponent({src});\n"
                f"}} catch (e) {{\n  {v} = {src};\n}}\n{sink};",
                "try-catch",
            ),
            (f"const {v} = ({src} as string).toLowerCase().trim();\n{sink};", "string-methods"),
            (f"const {v} = await Promise.resolve({src});\n{sink};", "await"),
            (f'const {v} = compose({src}, "suffix");\n{sink};', "helper-after"),
        ]
        helper = "function compose(a: string, b: string): string {\n  return `${a}${b}`;\n}"
    else:
        safe = rng.choice(cat.safe_api).format(v=v)
        san = rng.choice(cat.sanitise).format(v="input")
        choices = [
            (
                f"const {v} = {src} as string;\nif (!/^[a-z0-9]+$/.test({v})) {{\n"
                f"  return res.status(400).end();\n}}\n{sink};",
                "regex-early-return",
            ),
            (
                f'const {v} = {src};\nif ({v} !== "report") {{\n  throw new Error("bad");\n}}\n{sink};',
                "equality-throw",
            ),
            (
                f'const TABLE: Record<string, string> = {{ a: "alpha", b: "beta" }};\n'
                f"const {v} = TABLE[{src} as string];\n{sink};",
                "map-lookup",
            ),
            (f'const {v} = false ? {src} : "default-{index}";\n{sink};', "const-ternary"),
            (f"const {v} = clean({src});\n{sink};", "helper-sanitises"),
            (f"const {v} = {src};\n{safe};", "safe-api"),
            (f'const {v} = "{index}";\nconst unused = {src};\n{sink};', "constant"),
            (
                f'let {v} = {src};\nif (process.env.FEATURE === "on" && false) {{\n'
                f'  {sink};\n}}\n{v} = "";\nres.end();',
                "dead-and",
            ),
        ]
        helper = f"function clean(input: unknown): string | number {{\n  return {san};\n}}"
    body, kind = choices[(index // 2) % len(choices)]
    name = f"handle{rng.choice(('Query', 'Submit', 'View', 'Fetch', 'Entry'))}{index}"
    verb = rng.choice(("get", "post", "patch", "delete"))
    indented = "\n".join("  " + line for line in body.splitlines())
    code = (
        f"{_prelude_b(cat)}\n\nasync function {name}(request: Request, res: Response) {{\n"
        f"{indented}\n}}\n\n"
        f'{helper}\n\nrouter.{verb}("{rng.choice(PATHS)}/{index}", {name});\nexport default router;\n'
    )
    return code, kind, "express-ts", real


SOURCES_C = (
    "req.query.name",
    "req.body.filter",
    "req.params.file",
    "req.query.cb",
    "req.cookies.theme",
    'req.header("x-api-arg")',
    "req.body.spec",
    "req.query.dest",
)


def family_c(cat: JsCategory, rng: random.Random, index: int) -> Case:
    """One case of family c (controller objects, exported route installers, library idioms)."""
    v = rng.choice(NAMES)
    src = rng.choice(SOURCES_C)
    sink = rng.choice(cat.sinks).format(v=v)
    real = index % 2 == 0
    if real:
        choices = [
            (f"const params = req.query;\nconst {v} = params.name;\n{sink};", "source-alias"),
            (
                f"const merged = Object.assign({{}}, req.body);\nconst {v} = merged.filter;\n{sink};",
                "object-assign",
            ),
            (f'const {v} = JSON.parse(req.body.spec || "{{}}").value;\n{sink};', "json-parse-field"),
            (f'const {v} = String({src}).split(",")[0];\n{sink};', "split-index"),
            (f'const {v} = [{src}].map((x) => x.trim()).join(" ");\n{sink};', "map-join"),
            (f'const {v} = util.format("%s", {src});\n{sink};', "util-format"),
            (f'const {v} = Buffer.from(String({src}), "base64").toString();\n{sink};', "buffer-decode"),
            (f"const {v} = {src};\nsetImmediate(() => {{\n  {sink};\n}});", "closure-callback"),
        ]
    else:
        safe = rng.choice(cat.safe_api).format(v=v)
        san = rng.choice(cat.sanitise).format(v=src)
        choices = [
            (
                f"const {v} = {src};\nif (!validator.isAlphanumeric(String({v}))) {{\n"
                f'  return next(new Error("bad"));\n}}\n{sink};',
                "validator-guard",
            ),
            (
                f'const ALLOWED = new Set(["red", "blue"]);\nconst {v} = {src};\n'
                f"if (!ALLOWED.has({v})) {{\n  return res.sendStatus(400);\n}}\n{sink};",
                "set-guard",
            ),
            (f"const {v} = {san};\n{sink};", "sanitised"),
            (f'const {v} = String({src}).replace(/[^a-z0-9]/gi, "");\n{sink};', "regex-strip"),
            (f"const {v} = {src};\n{safe};", "safe-api"),
            (f"const {v} = pick({src});\n{sink};", "switch-mapping"),
            (f"const {v} = req.app.locals.defaultValue;\nconst seen = {src};\n{sink};", "server-value"),
            (f"let {v} = {src};\nif (1 + 1 === 3) {{\n  {sink};\n}}\nres.end();", "const-arith"),
        ]
    body, kind = choices[(index // 2) % len(choices)]
    helper = (
        'function pick(x) {\n  switch (x) {\n    case "a":\n      return "alpha";\n    default:\n'
        '      return "omega";\n  }\n}'
    )
    imports = "\n".join(f'const {_local(m)} = require("{m}");' for m in cat.imports)
    extra = ""
    if cat.cwe == 89:
        extra = (
            'const db = require("./db");\nconst pool = db.pool;\n'
            'const knex = db.knex;\nconst mysql = require("mysql");\n'
        )
    method = rng.choice(("search", "update", "show", "remove"))
    indented = "\n".join("    " + line for line in body.splitlines())
    code = (
        'const util = require("util");\nconst validator = require("validator");\n'
        f"{imports}\n{extra}\n{helper}\n\n"
        f"const controller = {{\n  async {method}(req, res, next) {{\n{indented}\n  }},\n}};\n\n"
        f"module.exports = function install(app) {{\n  app.{rng.choice(('get', 'post'))}"
        f'("{rng.choice(PATHS)}/{index}", controller.{method});\n}};\n'
    )
    return code, kind, "express-controller", real


SOURCES_D = (
    "req.query.id",
    "req.body.text",
    "req.params.name",
    "req.cookies.lang",
    "req.query.path",
    "req.body.expr",
    "req.headers.host",
    "req.query.return_to",
)


def family_d(cat: JsCategory, rng: random.Random, index: int) -> tuple[dict[str, str], str, str, bool]:
    """One case of family d (class controllers, a helper module, promise chains); files by name."""
    v = rng.choice(NAMES)
    src = rng.choice(SOURCES_D)
    sink = rng.choice(cat.sinks).format(v=v)
    real = index % 2 == 0
    lib = (
        'function joinWords(a, b) {\n  return [a, b].join(" ");\n}\n'
        'function onlyDigits(s) {\n  return String(s).replace(/[^0-9]/g, "");\n}\n'
        "exports.joinWords = joinWords;\nexports.onlyDigits = onlyDigits;\n"
        "exports.passThrough = (x) => x;\n"
    )
    if real:
        choices = [
            (f'const {v} = lib.joinWords({src}, "x");\n{sink};', "module-helper"),
            (f"const {v} = lib.passThrough({src});\n{sink};", "module-arrow"),
            (f"Promise.resolve({src}).then(({v}) => {{\n  {sink};\n}});", "promise-then"),
            (f'const {v} = ["pre", {src}].join("/");\n{sink};', "array-join"),
            (f"const {v} = this.prefix + {src};\n{sink};", "this-field-concat"),
            (f"const list = [];\nlist.push({src});\nconst {v} = list[0];\n{sink};", "array-push"),
            (
                f"if ({src}.length > 100) {{\n  return res.sendStatus(413);\n}}\nconst {v} = {src};\n{sink};",
                "length-check-only",
            ),
            (f'const {{ {v} = "none" }} = {{ {v}: {src} }};\n{sink};', "default-destructure"),
        ]
    else:
        safe = rng.choice(cat.safe_api).format(v=v)
        choices = [
            (f"const {v} = lib.onlyDigits({src});\n{sink};", "module-sanitiser"),
            (
                f"const {v} = {src};\nif (!Number.isInteger(Number({v}))) {{\n"
                f"  return res.sendStatus(400);\n}}\n{sink};",
                "integer-guard",
            ),
            (f'const {v} = {src};\nif ({v} === "en" || {v} === "fr") {{\n  {sink};\n}}', "either-equality"),
            (f"const {v} = {src};\n{safe};", "safe-api"),
            (f"let {v} = {src};\n{v} = this.defaults.value;\n{sink};", "overwritten-by-field"),
            (f'const {v} = String({src}).length > 0 ? "set" : "unset";\n{sink};', "derived-constant"),
            (f"const {v} = {src};\nreturn;\n{sink};", "after-return"),
            (f'const unused = {src};\nconst {v} = lib.joinWords("a", "b");\n{sink};', "helper-constants"),
        ]
    body, kind = choices[(index // 2) % len(choices)]
    imports = "\n".join(f'const {_local(m)} = require("{m}");' for m in cat.imports)
    extra = (
        'const mysql = require("mysql");\nconst db = mysql.createPool({});\nconst pool = db;\n'
        if cat.cwe == 89
        else ""
    )
    if cat.cwe == 89:
        extra += 'const knex = require("knex")({ client: "pg" });\n'
    indented = "\n".join("    " + line for line in body.splitlines())
    app = (
        f'const express = require("express");\nconst lib = require("./lib");\n{imports}\n{extra}\n'
        f'class Controller{index} {{\n  constructor() {{\n    this.prefix = "p";\n'
        f'    this.defaults = {{ value: "d" }};\n  }}\n\n'
        f"  {rng.choice(('show', 'act', 'run'))}(req, res) {{\n"
        f"{indented}\n  }}\n}}\n\nconst router = express.Router();\nconst c = new Controller{index}();\n"
        f'router.get("{rng.choice(PATHS)}/{index}", (req, res) => c.show(req, res));\n'
        "module.exports = router;\n"
    )
    return {"app.js": app, "lib.js": lib}, kind, "express-class", real


def generate(out: Path, per_kind: int, seed: int = 15) -> None:
    """Write both families under ``out``."""
    for family, make, suffix in (("a", family_a, "js"), ("b", family_b, "ts"), ("c", family_c, "js")):
        root = out / family
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        # bastion: ignore[sast.bandit.B311] reproducible test cases, not security
        rng = random.Random(f"{seed}-{family}")
        labels: dict[str, dict[str, object]] = {}
        seen: set[str] = set()
        for cat in JS_CATEGORIES:
            for index in range(per_kind * 2):
                code, kind, framework, real = make(cat, rng, index)
                if code in seen:
                    code = code.replace("\n\n", f"\n// variant {index}\n", 1)
                seen.add(code)
                case_id = f"{family}-{cat.cwe}-{index:03d}"
                (root / case_id).mkdir()
                (root / case_id / f"app.{suffix}").write_text(code, encoding="utf-8")
                labels[case_id] = {
                    "cwe": cat.cwe,
                    "category": cat.name,
                    "real": real,
                    "kind": kind,
                    "propagation": kind,
                    "framework": framework,
                }
        (root / "labels.json").write_text(json.dumps(labels, indent=1) + "\n", encoding="utf-8")
        print(f"family {family}: {len(labels)} cases in {root}")
    root = out / "d"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    # bastion: ignore[sast.bandit.B311] reproducible test cases, not security
    rng = random.Random(f"{seed}-d")
    labels = {}
    for cat in JS_CATEGORIES:
        for index in range(per_kind * 2):
            files, kind, framework, real = family_d(cat, rng, index)
            case_id = f"d-{cat.cwe}-{index:03d}"
            (root / case_id).mkdir()
            for name, code in files.items():
                (root / case_id / name).write_text(code, encoding="utf-8")
            labels[case_id] = {
                "cwe": cat.cwe,
                "category": cat.name,
                "real": real,
                "kind": kind,
                "propagation": kind,
                "framework": framework,
            }
    (root / "labels.json").write_text(json.dumps(labels, indent=1) + "\n", encoding="utf-8")
    print(f"family d: {len(labels)} cases in {root}")


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=HERE / "cases_js")
    parser.add_argument("--per-kind", type=int, default=20)
    args = parser.parse_args()
    generate(args.out, args.per_kind)


if __name__ == "__main__":
    main()
