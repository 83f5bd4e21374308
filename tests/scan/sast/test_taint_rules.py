"""``rules.yml``: the shipped file validates and compiles; malformed files fail with one line
naming the key; the tables answer the lookups the analyzer makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.scan.sast.taint import analyze
from bastion.scan.sast.taint.spec import load_rules, rule_book

MINIMAL = """
version: 1
sources: [{id: s, label: my source, names: [mylib.user_value]}]
request_params: {names: [request], attributes: [GET]}
route_decorators: [route]
sinks: [{id: k, cwe: 78, title: t, calls: [mylib.run], args: [0]}]
sanitizers: [{calls: [mylib.clean], clears: [78]}]
"""


def test_shipped_rules_compile() -> None:
    book = rule_book()
    assert book.source_label("flask.request.args.get") == "Flask request data"
    assert book.source_label("flask.request.method") is None
    assert book.source_label("os.environ") == "environment variable"
    assert {rule.cwe for rule in book.rules.sinks} >= {78, 89, 90, 94, 95, 79, 22, 601, 502, 611, 501, 643}
    assert book.sanitizer_calls["shlex.quote"] == frozenset({78})
    assert -1 in book.sanitizer_calls["int"]
    assert "execute" in book.sink_methods


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda t: t.replace("version: 1", "version: 2"), "rules.yml: version: Input should be 1"),
        (lambda t: t.replace("cwe: 78", "cwe: -1"), "rules.yml: sinks.0.cwe: Input should be greater than 0"),
        (lambda t: t.replace("clears: [78]", "clears: some"), "rules.yml: sanitizers.0.clears"),
        (
            lambda t: t.replace("title: t,", "title: t, colour: red,"),
            "rules.yml: sinks.0.colour: Extra inputs",
        ),
        (lambda t: t + "  - [", "rules.yml: not valid YAML"),
        (lambda _: "[]", "rules.yml: (document): Input should be a valid dictionary"),
    ],
)
def test_malformed_rules_fail_with_one_line(mutation: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        load_rules(mutation(MINIMAL))  # type: ignore[operator]
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_custom_rules_file_drives_the_analysis(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(MINIMAL, encoding="utf-8")
    book = rule_book(path)
    code = (
        "import mylib\n\n\ndef main():\n"
        "    mylib.run(mylib.user_value())\n"
        "    mylib.run(mylib.clean(mylib.user_value()))\n"
        "    mylib.run('constant')\n"
    )
    result = analyze([("tool.py", code)], book)
    assert [(h.rule.id, h.sink.line, h.flow.origin.label) for h in result.hits] == [("k", 5, "my source")]
