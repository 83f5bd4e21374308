"""Hard-coded credentials in infrastructure code: provider arguments, VM user/custom data and
startup scripts, app settings and container environment variables. The values are run through
Bastion's secrets detector (the same rules as ``--scanners secrets``); findings name the rule and
the place, never the secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from bastion.scan.iac.conditions import get_values
from bastion.scan.iac.model import Outcome, Ref, Resource, Result, Unresolved

if TYPE_CHECKING:
    from bastion.scan.iac.conditions import Context

__all__ = ["PLACES", "SECRET_CHECKS"]

# kind: "credential" (any literal value is a hard-coded credential), "text" (a script or
# document), "base64" (text, base64-encoded when it is), "map" (name -> value), "envlist"
# (a list of {name, value}), "containers" (ECS/Batch container definitions, JSON or a structure).
PLACES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "provider.aws": (("access_key", "credential"), ("secret_key", "credential"), ("token", "credential")),
    "provider.alicloud": (("access_key", "credential"), ("secret_key", "credential")),
    "provider.azurerm": (("client_secret", "credential"), ("client_certificate_password", "credential")),
    "provider.azuread": (("client_secret", "credential"),),
    "provider.google": (("credentials", "text"), ("access_token", "credential")),
    "provider.github": (("token", "credential"),),
    "provider.gitlab": (("token", "credential"),),
    "provider.digitalocean": (("token", "credential"), ("spaces_secret_key", "credential")),
    "provider.cloudflare": (("api_token", "credential"), ("api_key", "credential")),
    "provider.datadog": (("api_key", "credential"), ("app_key", "credential")),
    "provider.heroku": (("api_key", "credential"),),
    "provider.linode": (("token", "credential"),),
    "provider.vault": (("token", "credential"),),
    "provider.oci": (("private_key", "credential"),),
    "provider.kubernetes": (
        ("token", "credential"),
        ("client_key", "credential"),
        ("password", "credential"),
    ),
    "provider.mysql": (("password", "credential"),),
    "provider.postgresql": (("password", "credential"),),
    "provider.newrelic": (("api_key", "credential"),),
    "provider.pagerduty": (("token", "credential"),),
    "provider.openstack": (("password", "credential"), ("token", "credential")),
    "aws_instance": (("user_data", "text"), ("user_data_base64", "base64")),
    "aws_launch_configuration": (("user_data", "text"), ("user_data_base64", "base64")),
    "aws_launch_template": (("user_data", "base64"),),
    "aws_lambda_function": (("environment.variables", "map"),),
    "aws_ecs_task_definition": (("container_definitions", "containers"),),
    "aws_batch_job_definition": (("container_properties", "containers"),),
    "azurerm_virtual_machine": (("os_profile.custom_data", "base64"),),
    "azurerm_linux_virtual_machine": (("custom_data", "base64"), ("user_data", "base64")),
    "azurerm_windows_virtual_machine": (("custom_data", "base64"), ("user_data", "base64")),
    "azurerm_linux_virtual_machine_scale_set": (("custom_data", "base64"),),
    "azurerm_app_service": (("app_settings", "map"),),
    "azurerm_linux_web_app": (("app_settings", "map"),),
    "azurerm_windows_web_app": (("app_settings", "map"),),
    "azurerm_function_app": (("app_settings", "map"),),
    "azurerm_linux_function_app": (("app_settings", "map"),),
    "azurerm_windows_function_app": (("app_settings", "map"),),
    "azurerm_container_group": (("container.environment_variables", "map"),),
    "google_compute_instance": (("metadata_startup_script", "text"), ("metadata", "map")),
    "google_compute_instance_template": (("metadata_startup_script", "text"), ("metadata", "map")),
    "google_cloudfunctions_function": (("environment_variables", "map"),),
    "google_cloud_run_service": (("template.spec.containers.env", "envlist"),),
    "AWS::EC2::Instance": (("UserData", "base64"),),
    "AWS::EC2::LaunchTemplate": (("LaunchTemplateData.UserData", "base64"),),
    "AWS::AutoScaling::LaunchConfiguration": (("UserData", "base64"),),
    "AWS::Lambda::Function": (("Environment.Variables", "map"),),
    "AWS::Serverless::Function": (("Environment.Variables", "map"),),
    "AWS::ECS::TaskDefinition": (("ContainerDefinitions.Environment", "envlist"),),
}
"""Resource type -> (attribute path, kind) of the values that must not hold a credential."""


def _detector() -> Any:
    from bastion.scan.secrets.scanner import detector_for  # the secrets package is large: load on use

    return detector_for((), frozenset(), True)


def _decoded(value: str) -> str:
    """``value`` base64-decoded when it is valid base64 of UTF-8 text, else as is."""
    compact = "".join(value.split())
    if len(compact) < 16 or len(compact) % 4:
        return value
    try:
        return base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return value


def _pairs(value: Any, name_key: str, value_key: str) -> Iterator[tuple[str, Any]]:
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            yield (
                str(item.get(name_key, item.get(name_key.capitalize(), ""))),
                item.get(value_key, item.get(value_key.capitalize())),
            )


def _texts(kind: str, value: Any) -> Iterator[tuple[str, str]]:
    """(text, file name hint for the detector) pairs to scan for one value."""
    if kind in ("text", "base64") and isinstance(value, str):
        yield (_decoded(value) if kind == "base64" else value), "user-data.sh"
        return
    if kind == "containers":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                return
        for container in value if isinstance(value, list) else []:
            if isinstance(container, dict):
                yield from _texts("envlist", container.get("environment"))
        return
    entries = value.items() if kind == "map" and isinstance(value, dict) else _pairs(value, "name", "value")
    lines = [f"{name}={item}" for name, item in entries if isinstance(item, str) and name]
    if lines:
        yield "\n".join(lines) + "\n", "settings.env"


_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b")
_CREDENTIAL_NAME = re.compile(
    r"(?i)(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)"
)
_NOT_LITERAL = re.compile(
    r"^(?:\$\{|\$\(|@Microsoft\.KeyVault\(|arn:aws:(?:secretsmanager|ssm):|\{\{resolve:)"
)
_NAME_ASSIGNMENT = re.compile(
    r"(?im)^[ \t]*(?:export[ \t]+|set[ \t]+)?([A-Za-z_][\w.-]*)[ \t]*[=:][ \t]*['\"]?([^\s'\"#]{8,})"
)


_NAMES_A_THING = re.compile(r"(?i)[_.-](?:name|id|arn|path|file|ref|version|length|type|url|uri|key_?id)$")
_PLAIN_WORDS = re.compile(r"^[A-Za-z][A-Za-z._/-]*$")


def _by_name(name: str, value: str) -> bool:
    """A credential-named setting with a literal value (checkov's sense of hard-coded, placeholders too).

    Names that name something (``SECRET_NAME``, ``TOKEN_ARN``) and values made of plain words
    (``my-app-secret``) are not credentials.
    """
    return (
        bool(_CREDENTIAL_NAME.search(name))
        and not _NAMES_A_THING.search(name)
        and len(value) >= 8
        and not _NOT_LITERAL.match(value)
        and not _PLAIN_WORDS.match(value)
    )


def _fallback(text: str) -> str | None:
    """What the detector leaves out on purpose but is still a credential written into infrastructure
    code: an AWS access key id (documentation examples too), ``NAME_PASSWORD=literal`` lines."""
    if _ACCESS_KEY_ID.search(text):
        return "an AWS access key id"
    for match in _NAME_ASSIGNMENT.finditer(text):
        if _by_name(match[1], match[2]):
            return f"a literal value for {match[1]}"
    return None


def _hardcoded(resource: Resource, _ctx: Context) -> Result:
    """No hard-coded credential in the places ``PLACES`` lists for the resource's type."""
    unknown: Result | None = None
    for path, kind in PLACES.get(resource.type, ()):
        for concrete, value in get_values(resource.attrs, path):
            if value is None or value == "":
                continue
            if isinstance(value, Ref):
                continue  # another resource's attribute (a generated password, a secret's ARN)
            if isinstance(value, Unresolved):
                if kind != "credential":
                    unknown = unknown or Result(Outcome.UNKNOWN, concrete, value.reason)
                continue
            if kind == "credential":
                if isinstance(value, str):
                    return Result(Outcome.FAIL, concrete, f"`{concrete}` is a literal credential in the code")
                continue
            for text, hint in _texts(kind, value):
                hits = _detector().detect(text, hint)
                if hits:
                    hit = hits[0]
                    where = f" (line {hit.line} of the value)" if kind in ("text", "base64") else ""
                    return Result(
                        Outcome.FAIL,
                        concrete,
                        f"`{concrete}` holds a secret: {hit.title} ({hit.rule_id}){where}",
                    )
                why = _fallback(text)
                if why is not None:
                    return Result(Outcome.FAIL, concrete, f"`{concrete}` hard-codes {why}")
    return unknown or Result(Outcome.PASS)


SECRET_CHECKS: Mapping[str, Callable[[Resource, Context], Result]] = {"no_hardcoded_credentials": _hardcoded}
