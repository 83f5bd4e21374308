"""JavaScript: fields of objects built from the file's classes, shells named in argv arrays."""

from __future__ import annotations

import textwrap

from bastion.scan.sast.taint.js import analyze_js
from bastion.scan.sast.taint.js.classes import class_declarations, constructor_fields
from bastion.scan.sast.taint.js.parse import parse

CLASSES = """
class Box {
  kind = "plain";
  value: string;
  constructor(value: string, size = 1) {
    this.value = value;
    this.size = size;
    this.label = value.toUpperCase();
  }
}

class Mutable {
  mode = "safe";
  constructor(v) {
    this.v = v;
  }
  change(x) {
    this.mode = x;
    this.v = x;
  }
}
"""


def _lines(body: str) -> set[tuple[int, int]]:
    head = 'import * as cp from "child_process";\nimport express from "express";\nconst app = express();\n'
    code = head + textwrap.dedent(CLASSES) + textwrap.dedent(body)
    result = analyze_js([("app.ts", code)])
    assert result.problems == []
    offset = code.count("\n") - textwrap.dedent(body).count("\n")
    return {(h.sink.line - offset, h.rule.cwe) for h in result.hits}


def test_fields_of_new_objects_keep_their_own_taint() -> None:
    body = """
    app.get("/x", (req, res) => {
      const box = new Box(req.query.q);
      cp.exec("ls " + box.kind);
      cp.exec("ls " + box.value);
      cp.exec("ls " + box.label);
      const other = new Mutable(req.query.q);
      cp.exec("ls " + other.mode);
      cp.exec("ls " + other.v);
    });
    """
    # kind: a class constant; value: the argument; label: computed, whole object; mode and v:
    # reassigned by a method, whole object
    assert _lines(body) == {(5, 78), (6, 78), (8, 78), (9, 78)}


def test_constructor_fields_table() -> None:
    root = parse("a.ts", textwrap.dedent(CLASSES).encode())
    classes = class_declarations(root)
    assert set(classes) == {"Box", "Mutable"}
    assert constructor_fields(classes["Box"]) == {"kind": None, "value": 0, "size": 1}
    assert constructor_fields(classes["Mutable"]) == {}


def test_a_shell_named_first_runs_the_argv_array_as_a_command() -> None:
    body = """
    app.get("/x", (req, res) => {
      cp.spawn("sh", ["-c", "ls " + req.query.q]);
      cp.spawn("/bin/bash", ["-c", req.query.q]);
      cp.spawn("ls", ["--", req.query.q]);
    });
    """
    assert _lines(body) == {(3, 78), (4, 78)}
