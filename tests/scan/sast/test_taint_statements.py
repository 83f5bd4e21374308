"""Every statement and expression form carries taint the way Python runs it: loops, try,
with, match, unpacking, comprehensions, walrus, yield, await, del, assert."""

from __future__ import annotations

import textwrap

import pytest

from bastion.scan.sast.taint import analyze

HEAD = "import os\nfrom flask import request\n\n\ndef handler(items, flag):\n    x = request.args['x']\n"

# (case id, handler body after `x = request.args['x']`, lines of os.system calls expected flagged)
CASES = [
    ("while-loop", "cmd = ''\nwhile flag:\n    cmd += x\n    flag = False\nos.system(cmd)", [11]),
    ("while-false", "while 0:\n    os.system(x)\nelse:\n    os.system('ls')", []),
    ("while-true-break", "while True:\n    y = x\n    break\nos.system(y)", [10]),
    ("for-else", "for i in items:\n    pass\nelse:\n    os.system(x)", [10]),
    ("for-target", "for part in [x, 'a']:\n    os.system(part)", [8]),
    ("try-except", "try:\n    y = int(x)\nexcept ValueError:\n    y = x\nos.system(str(y))", [11]),
    ("try-finally", "try:\n    y = 'ls'\nfinally:\n    os.system(x)", [10]),
    ("with-as", "with open(x) as fh:\n    os.system(fh.read())", [8]),
    (
        "match-capture",
        "match items:\n    case [first, *rest]:\n        os.system(x + first)\n    case _:\n        pass",
        [9],
    ),
    ("tuple-unpack", "a, b = x, 'ls'\nos.system(b)\nos.system(a)", [9]),
    ("star-unpack", "a, *b = items, x\nos.system(str(b))", [8]),
    ("aug-assign", "cmd = 'echo '\ncmd += x\nos.system(cmd)", [9]),
    ("delete", "y = x\ndel y\ny = 'ls'\nos.system(y)", []),
    ("assert-guard", "assert x in ('a', 'b')\nos.system(x)", []),
    ("walrus", "if (y := x):\n    os.system(y)", [8]),
    ("list-comprehension", "parts = [p.strip() for p in x.split(',')]\nos.system(' '.join(parts))", [8]),
    ("dict-comprehension", "d = {k: x for k in items}\nos.system(d['a'])", [8]),
    ("generator-filtered", "os.system(' '.join(p for p in items if p))", []),
    ("lambda-is-clean", "f = lambda: x\nos.system(str(len(items)))", []),
    ("ifexp-guard", "y = x if x in ('a', 'b') else 'a'\nos.system(y)", []),
    ("boolop-default", "y = x or 'default'\nos.system(y)", [8]),
    ("slice", "os.system(x[1:])", [7]),
    ("starred-call", "os.system(*[x])", [7]),
    ("kwargs-call", "os.system(**{'command': x})", [7]),
    ("attribute-store", "class C: pass\nc = C()\nc.cmd = x\nos.system(c.cmd)", [10]),
    ("nested-raise", "if not x:\n    raise ValueError(x)\nos.system(x)", [9]),
]


@pytest.mark.parametrize(("body", "lines"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_statement_forms(body: str, lines: list[int]) -> None:
    code = HEAD + textwrap.indent(body, "    ") + "\n"
    result = analyze([("s.py", code)])
    assert result.problems == []
    assert sorted(h.sink.line for h in result.hits if h.rule.cwe == 78) == lines


def test_generators_and_coroutines_return_taint() -> None:
    code = textwrap.dedent(
        """
        import os
        from flask import request

        def values():
            yield request.args["a"]

        async def fetch():
            return request.args["b"]

        async def handler():
            for v in values():
                os.system(v)
            os.system(await fetch())
        """
    )
    assert sorted(h.sink.line for h in analyze([("g.py", code)]).hits) == [13, 14]


def test_variadic_and_keyword_parameters_map_to_their_arguments() -> None:
    code = textwrap.dedent(
        """
        import os
        from flask import request

        def run(*parts, **options):
            os.system(" ".join(parts))
            os.system(options["extra"])

        def run_named(first, second="ls"):
            os.system(second)

        def handler():
            run("ls", request.args["a"])
            run("ls", extra=request.args["b"])
            run_named("x", second=request.args["c"])
        """
    )
    assert sorted(h.sink.line for h in analyze([("v.py", code)]).hits) == [6, 7, 10]


def test_module_level_script_and_globals() -> None:
    code = textwrap.dedent(
        """
        import os
        import sys

        TARGET = sys.argv[1]

        def run():
            os.system("ping " + TARGET)

        if __name__ == "__main__":
            os.system("ls " + TARGET)
            run()
        """
    )
    assert sorted(h.sink.line for h in analyze([("cli.py", code)]).hits) == [8, 11]
