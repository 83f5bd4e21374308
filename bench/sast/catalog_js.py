"""The JavaScript sink catalog shared by the Express families of ``gen_js.py``.

Each category lists the modules it needs, dangerous calls (``{v}`` is the value), the safe
API doing the same job, and a sanitiser expression that makes the value harmless for it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["JS_CATEGORIES", "JsCategory"]


@dataclass(frozen=True)
class JsCategory:
    """One weakness: its CWE, how to reach it, how to do the same safely."""

    cwe: int
    name: str
    imports: tuple[str, ...]
    """``const x = require('m')`` lines (ES module families rewrite them)."""
    sinks: tuple[str, ...]
    safe_api: tuple[str, ...]
    sanitise: tuple[str, ...]
    """Expressions over ``{v}`` that make the value harmless for this weakness."""


JS_CATEGORIES = (
    JsCategory(
        78,
        "command-injection",
        ("child_process",),
        (
            'child_process.exec("ping -c 1 " + {v})',
            "child_process.execSync(`nslookup ${{{v}}}`)",
            'child_process.spawn("sh", ["-c", "du -sh " + {v}], {{ shell: true }})',
            "child_process.exec(`git log --author=${{{v}}}`, () => {{}})",
        ),
        ('child_process.execFile("ping", ["-c", "1", {v}])', 'child_process.spawn("nslookup", [{v}])'),
        ("parseInt({v}, 10)", "Number({v})"),
    ),
    JsCategory(
        94,
        "code-injection",
        ("vm",),
        (
            "eval({v})",
            'new Function("return " + {v})()',
            "vm.runInNewContext({v}, {{}})",
            'setTimeout("tick(\'" + {v} + "\')", 10)',
        ),
        ("JSON.parse({v})", "setTimeout(() => console.log({v}), 10)"),
        ("Number({v})", "parseFloat({v})"),
    ),
    JsCategory(
        89,
        "sql-injection",
        ("mysql",),
        (
            'db.query("SELECT * FROM users WHERE name = \'" + {v} + "\'")',
            "db.query(`DELETE FROM carts WHERE id = ${{{v}}}`)",
            'pool.query("SELECT id FROM orders WHERE ref = " + {v}, (e, r) => res.json(r))',
            "knex.raw(`SELECT * FROM items WHERE tag = '${{{v}}}'`)",
        ),
        (
            'db.query("SELECT * FROM users WHERE name = ?", [{v}])',
            'pool.query("SELECT id FROM orders WHERE ref = $1", [{v}])',
        ),
        ("mysql.escape({v})", "parseInt({v}, 10)"),
    ),
    JsCategory(
        79,
        "xss",
        ("escape-html",),
        (
            'res.send("<p>Hello " + {v} + "</p>")',
            "res.send(`<h1>${{{v}}}</h1>`)",
            'res.write("<div>" + {v} + "</div>")',
            'res.status(200).send("<b>" + {v} + "</b>")',
        ),
        ("res.json({{ value: {v} }})", 'res.render("page", {{ value: {v} }})'),
        ("escape_html({v})", "encodeURIComponent({v})"),
    ),
    JsCategory(
        22,
        "path-traversal",
        ("fs", "path"),
        (
            'fs.readFileSync("/srv/files/" + {v})',
            "fs.createReadStream(`/var/data/${{{v}}}`).pipe(res)",
            'fs.unlinkSync(path.join("/tmp/uploads", {v}))',
            'res.sendFile("/srv/static/" + {v})',
        ),
        ('res.sendFile({v}, {{ root: "/srv/static" }})', 'fs.readFileSync("/srv/files/index.txt")'),
        ("path.basename({v})", "encodeURIComponent({v})"),
    ),
    JsCategory(
        601,
        "open-redirect",
        (),
        ("res.redirect({v})", "res.redirect(302, {v})", 'res.redirect("" + {v})', "res.redirect(`${{{v}}}`)"),
        ('res.redirect("/home")', 'res.redirect("/login?next=home")'),
        ('"/search?q=" + encodeURIComponent({v})', "'/item/' + parseInt({v}, 10)"),
    ),
    JsCategory(
        502,
        "deserialization",
        ("node-serialize", "js-yaml"),
        (
            "node_serialize.unserialize({v})",
            "js_yaml.load({v})",
            "node_serialize.unserialize(`${{{v}}}`)",
            'js_yaml.load("" + {v})',
        ),
        ("JSON.parse({v})", "js_yaml.load({v}, {{ schema: js_yaml.JSON_SCHEMA }})"),
        ("Number({v})", "parseInt({v}, 10)"),
    ),
    JsCategory(
        611,
        "xxe",
        ("libxmljs",),
        (
            "libxmljs.parseXml({v}, {{ noent: true }})",
            "libxmljs.parseXmlString({v}, {{ noent: true, dtdload: true }})",
            'libxmljs.parseXml(`<?xml version="1.0"?>${{{v}}}`, {{ noent: true }})',
            'libxmljs.parseXmlString("" + {v}, {{ noent: true }})',
        ),
        ("libxmljs.parseXml({v})", "libxmljs.parseXml({v}, {{ noent: false }})"),
        ("Number({v})", "parseInt({v}, 10)"),
    ),
)
