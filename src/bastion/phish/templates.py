"""Email templates and landing pages as data, rendered in a sandboxed Jinja2 environment.

An email template (YAML or JSON) has ``name``, ``sender``, ``subject``, ``html``, ``text`` and an
optional ``attachment`` name: an attachment is only ever a tracked link with that name, never a
file. A landing page has ``name``, ``kind`` (``login``: a page that looks like a sign-in form;
``training``: "you clicked: here is what to look for") and ``html``. Templates see the variables
of :data:`VARIABLES` only; a syntax error, an unknown variable or a sandbox escape
(``{{ ''.__class__ }}``) is an :class:`InputError` naming the file.
"""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bastion.errors import InputError
from bastion.structured import read_json, read_yaml_mapping
from bastion.validation import first_error, reason_of

__all__ = [
    "VARIABLES",
    "EmailTemplate",
    "LandingKind",
    "LandingPage",
    "Rendered",
    "check_email",
    "check_template",
    "load_email",
    "load_landing",
    "render",
    "render_email",
    "schema_documents",
]

VARIABLES = (
    "first_name",
    "last_name",
    "name",
    "email",
    "department",
    "location",
    "url",
    "report_url",
    "pixel_url",
    "attachment_url",
    "attachment_name",
    "sender",
    "submit_url",
)
"""What a template may use (``submit_url``: landing pages only); the links are signed tracking links."""


class LandingKind(enum.StrEnum):
    """What the landing page is."""

    LOGIN = "login"
    TRAINING = "training"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailTemplate(_Strict):
    """An exercise message."""

    name: str = Field(min_length=1, max_length=200)
    sender: str = Field(min_length=3, max_length=320)
    subject: str = Field(min_length=1, max_length=500)
    html: str = ""
    text: str = ""
    attachment: str = Field(default="", max_length=200)


class LandingPage(_Strict):
    """The page a click opens."""

    name: str = Field(min_length=1, max_length=200)
    kind: LandingKind = LandingKind.TRAINING
    html: str = Field(min_length=1)


_HTML = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
_TEXT = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
SAMPLE = {
    "first_name": "Ana",
    "last_name": "Diaz",
    "name": "Ana Diaz",
    "email": "ana.diaz@example.com",
    "department": "Finance",
    "location": "Lisbon",
    "url": "https://phish.example/p/c/TOKEN",
    "report_url": "https://phish.example/p/r/TOKEN",
    "pixel_url": "https://phish.example/p/o/TOKEN",
    "attachment_url": "https://phish.example/p/c/TOKEN?a=1",
    "attachment_name": "invoice.pdf",
    "sender": "it-support@example.com",
    "submit_url": "https://phish.example/p/s/TOKEN",
}


@functools.lru_cache(maxsize=64)
def _compiled(source: str, html: bool) -> Template:
    """A campaign's few templates are compiled once, not once per recipient."""
    # The campaign author's own template, rendered in jinja2's immutable sandbox (StrictUndefined).
    # bastion: ignore[sast.taint.template-injection] the author's template, sandboxed
    return (_HTML if html else _TEXT).from_string(source)


def render(source: str, variables: dict[str, Any], *, html: bool, where: str) -> str:
    """Render ``source`` in the sandbox; :class:`InputError` naming ``where`` when it cannot."""
    try:
        return _compiled(source, html).render(variables)
    except TemplateSyntaxError as exc:
        raise InputError(f"{where}: template syntax error at line {exc.lineno}: {exc.message}") from None
    except SecurityError as exc:
        raise InputError(f"{where}: template refused by the sandbox: {exc}") from None
    except TemplateError as exc:
        raise InputError(f"{where}: template error: {exc.message or exc}") from None


def check_template(source: str, *, html: bool, where: str) -> None:
    """Render ``source`` once with sample variables: syntax, unknown variables and escapes fail."""
    render(source, SAMPLE, html=html, where=where)


def _validated(model: type[_Strict], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a mapping")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = first_error(exc)
        key = ".".join(str(p) for p in error["loc"]) or "(top)"
        raise InputError(f"{where}: {key}: {reason_of(error)}") from None


def _read(path: Path, what: str) -> Any:
    if path.suffix.lower() == ".json":
        return read_json(path, what=what)
    return read_yaml_mapping(path, what=what)


def load_email(path: Path) -> EmailTemplate:
    """An email template file, validated and test-rendered."""
    template: EmailTemplate = _validated(EmailTemplate, _read(path, "email template"), str(path))
    if not template.html and not template.text:
        raise InputError(f"{path}: an email template needs html or text")
    check_email(template, str(path))
    return template


def check_email(template: EmailTemplate, where: str) -> None:
    """Test-render every part of ``template``."""
    check_template(template.subject, html=False, where=f"{where}: subject")
    check_template(template.html, html=True, where=f"{where}: html")
    check_template(template.text, html=False, where=f"{where}: text")


def load_landing(path: Path) -> LandingPage:
    """A landing page file, validated and test-rendered."""
    page: LandingPage = _validated(LandingPage, _read(path, "landing page"), str(path))
    check_template(page.html, html=True, where=f"{path}: html")
    return page


@dataclass(frozen=True)
class Rendered:
    """One message ready to send."""

    subject: str
    html: str
    text: str


def render_email(
    subject: str, html: str, text: str, variables: dict[str, Any], where: str = "campaign"
) -> Rendered:
    """The subject and both parts for one recipient."""
    return Rendered(
        subject=render(subject, variables, html=False, where=f"{where}: subject").replace("\n", " "),
        html=render(html, variables, html=True, where=f"{where}: html") if html else "",
        text=render(text, variables, html=False, where=f"{where}: text") if text else "",
    )


def schema_documents() -> dict[str, str]:
    """The JSON schemas of the two file kinds, as committed under ``phish/schemas``."""
    return {
        "email-template.schema.json": json.dumps(EmailTemplate.model_json_schema(), indent=2) + "\n",
        "landing-page.schema.json": json.dumps(LandingPage.model_json_schema(), indent=2) + "\n",
    }
