"""Templates in the sandbox (escapes, syntax errors and unknown variables refused), GoPhish import,
and the committed JSON schemas of the template files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from phish_world import FIXTURES

from bastion.errors import InputError
from bastion.phish.gophish import convert_go_template, read_gophish
from bastion.phish.templates import SAMPLE, LandingKind, load_email, load_landing, render, schema_documents

SCHEMAS = Path(__file__).resolve().parents[2] / "src" / "bastion" / "phish" / "schemas"


def test_email_template_renders_per_target_and_escapes_html() -> None:
    template = load_email(FIXTURES / "email.yml")
    assert template.attachment == "invoice-2291.pdf"
    html = render(template.html, {**SAMPLE, "first_name": "<b>Ana</b>"}, html=True, where="t")
    assert "Hello &lt;b&gt;Ana&lt;/b&gt;," in html and 'href="https://phish.example/p/c/TOKEN"' in html
    text = render(template.text, {**SAMPLE, "first_name": "<b>Ana</b>"}, html=False, where="t")
    assert text.startswith("Hello <b>Ana</b>,")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("escape.yml", "subject: template refused by the sandbox: access to attribute '__class__'"),
        ("syntax-error.yml", "text: template syntax error at line 1"),
        ("unknown-variable.yml", "text: template error: 'password' is undefined"),
    ],
)
def test_bad_templates_are_one_line_errors(name: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_email(FIXTURES / name)
    assert str(caught.value).startswith(f"{FIXTURES / name}: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "source",
    [
        "{{ cycler.__init__.__globals__ }}",
        "{{ url.__class__.__base__.__subclasses__() }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ (sender|attr('__class__')) }}",
    ],
)
def test_sandbox_escapes(source: str) -> None:
    with pytest.raises(InputError, match=r"refused by the sandbox|template error"):
        render(source, SAMPLE, html=False, where="t")


def test_template_file_shape_errors(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yml"
    extra.write_text("name: a\nsender: a@example.com\nsubject: s\ntext: t\nscript: rm\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"extra.yml: script: unknown key"):
        load_email(extra)
    empty = tmp_path / "empty.json"
    empty.write_text('{"name": "a", "sender": "a@example.com", "subject": "s"}', encoding="utf-8")
    with pytest.raises(InputError, match="needs html or text"):
        load_email(empty)
    bad_kind = tmp_path / "landing.yml"
    bad_kind.write_text("name: p\nkind: download\nhtml: x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"landing.yml: kind: Input should be 'login' or 'training'"):
        load_landing(bad_kind)


def test_landing_page_kinds() -> None:
    page = load_landing(FIXTURES / "landing-login.yml")
    assert page.kind is LandingKind.LOGIN and "{{ submit_url }}" in page.html


def test_gophish_templates_convert_and_refuse_what_has_no_equivalent() -> None:
    result = read_gophish(FIXTURES / "gophish-templates.json")
    [template] = result.templates
    assert template.subject == "{{ first_name }}, your password expires today"
    assert template.sender == "helpdesk@example.com"
    assert template.text == "Hi {{ first_name }} {{ last_name }}, renew it at {{ url }}"
    assert '<img src="{{ pixel_url }}" alt="" width="1" height="1">' in template.html
    rendered = render(template.html, SAMPLE, html=True, where="t")
    assert "{% not jinja %}" in rendered  # GoPhish text is literal, never evaluated
    where = FIXTURES / "gophish-templates.json"
    assert result.errors == [
        f"{where}: Leaks the id: GoPhish template action '{{{{.RId}}}}' has no Bastion equivalent",
        f"{where}: No body: neither html nor text",
    ]


def test_gophish_pages_point_forms_at_the_tracker_and_drop_capture() -> None:
    result = read_gophish(FIXTURES / "gophish-pages.json")
    login, awareness = result.pages
    assert login.kind is LandingKind.LOGIN and awareness.kind is LandingKind.TRAINING
    assert '<form method="post" action="{{ submit_url }}">' in login.html
    assert "capture" not in login.model_dump_json()
    assert result.errors == []


def test_gophish_bad_files(tmp_path: Path) -> None:
    empty = tmp_path / "e.json"
    empty.write_text("[]", encoding="utf-8")
    with pytest.raises(InputError, match="no GoPhish template or page"):
        read_gophish(empty)
    odd = tmp_path / "o.json"
    odd.write_text('[{"name": "x"}]', encoding="utf-8")
    assert read_gophish(odd).errors == [f"{odd}: x: neither a template (subject) nor a page (html)"]
    with pytest.raises(InputError, match="has no Bastion equivalent"):
        convert_go_template("{{if .FirstName}}x{{end}}", "t")


def test_committed_schemas_match_the_models() -> None:
    for name, text in schema_documents().items():
        assert json.loads((SCHEMAS / name).read_text(encoding="utf-8")) == json.loads(text), name
