"""GoPhish templates and landing pages (its JSON exports) as Bastion's template files.

GoPhish writes Go templates (``{{.FirstName}}``, ``{{.URL}}``, ``{{.Tracker}}``); they become
the sandbox's variables. Literal text is protected with ``{% raw %}`` so nothing in an imported
page is ever evaluated. GoPhish's ``capture_credentials``/``capture_passwords`` settings are
dropped: Bastion records which fields were filled, never what was typed. A form's ``action`` is
pointed at the tracking endpoint. An unknown or unsupported variable (``{{.RId}}`` puts the
recipient id in plain sight) is an error naming the file and the item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.errors import InputError
from bastion.phish.templates import EmailTemplate, LandingKind, LandingPage, check_email, check_template
from bastion.structured import read_json

__all__ = ["GoPhishImport", "convert_go_template", "read_gophish"]

_ACTION = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
_ANY_ACTION = re.compile(r"\{\{.*?\}\}", re.S)
_VARIABLES = {
    "FirstName": "{{ first_name }}",
    "LastName": "{{ last_name }}",
    "Email": "{{ email }}",
    "URL": "{{ url }}",
    "TrackingURL": "{{ pixel_url }}",
    "Tracker": '<img src="{{ pixel_url }}" alt="" width="1" height="1">',
    "From": "{{ sender }}",
}
_FORM = re.compile(r"<form\b[^>]*>", re.I)


def _literal(text: str) -> str:
    if any(mark in text for mark in ("{{", "{%", "{#", "}}", "%}", "#}")):
        return "{% raw %}" + text.replace("{% endraw %}", "") + "{% endraw %}"
    return text


def convert_go_template(source: str, where: str) -> str:
    """GoPhish's template text as a sandbox template; :class:`InputError` for what has no equivalent."""
    out: list[str] = []
    position = 0
    for match in _ANY_ACTION.finditer(source):
        out.append(_literal(source[position : match.start()]))
        simple = _ACTION.fullmatch(match.group(0))
        name = simple.group(1) if simple else ""
        if name not in _VARIABLES:
            raise InputError(
                f"{where}: GoPhish template action {match.group(0)[:40]!r} has no Bastion equivalent"
            )
        out.append(_VARIABLES[name])
        position = match.end()
    out.append(_literal(source[position:]))
    return "".join(out)


def _form_to_tracker(html: str) -> str:
    return _FORM.sub('<form method="post" action="{{ submit_url }}">', html)


@dataclass
class GoPhishImport:
    """What an export file held, converted, and the items that could not be."""

    templates: list[EmailTemplate]
    pages: list[LandingPage]
    errors: list[str]


def _items(data: Any) -> list[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    return [i for i in items if isinstance(i, dict)]


def read_gophish(path: Path, default_sender: str = "it-support@example.com") -> GoPhishImport:
    """Templates (items with ``subject``) and pages (items with ``html`` and no ``subject``)."""
    data = read_json(path, what="GoPhish export")
    items = _items(data)
    if not items:
        raise InputError(f"{path}: no GoPhish template or page in the file")
    result = GoPhishImport([], [], [])
    for index, item in enumerate(items):
        name = str(item.get("name") or f"item {index + 1}")
        where = f"{path}: {name}"
        try:
            if "subject" in item:
                sender = str(item.get("envelope_sender") or default_sender)
                template = EmailTemplate(
                    name=name,
                    sender=sender,
                    subject=convert_go_template(str(item["subject"]), where),
                    html=convert_go_template(str(item.get("html") or ""), where),
                    text=convert_go_template(str(item.get("text") or ""), where),
                )
                if not template.html and not template.text:
                    raise InputError(f"{where}: neither html nor text")
                check_email(template, where)
                result.templates.append(template)
            elif item.get("html"):
                html = _form_to_tracker(convert_go_template(str(item["html"]), where))
                kind = LandingKind.LOGIN if "<form" in html.lower() else LandingKind.TRAINING
                page = LandingPage(name=name, kind=kind, html=html)
                check_template(page.html, html=True, where=where)
                result.pages.append(page)
            else:
                result.errors.append(f"{where}: neither a template (subject) nor a page (html)")
        except InputError as exc:
            result.errors.append(str(exc))
        except ValueError as exc:
            result.errors.append(f"{where}: {str(exc).splitlines()[0]}")
    return result
