"""IAM policy documents wherever they are written: inline JSON, ``jsonencode({...})``, Terraform's
``data "aws_iam_policy_document"`` (computed here from its own arguments, as Terraform does), and
CloudFormation's ``PolicyDocument``/``KeyPolicy``/``AssumeRolePolicyDocument``.

The checks read every document a resource holds (``DOCUMENTS`` names where, per type) and ask one
question per statement: does it allow everything, whole services, ``NotAction``, anyone as the
principal, or sensitive actions (``iam_actions.yml``) on every resource without a condition?
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from importlib import resources as importlib_resources
from typing import TYPE_CHECKING, Any

import yaml

from bastion.scan.iac.conditions import get_values
from bastion.scan.iac.model import Outcome, Ref, Resource, Result, Unresolved

if TYPE_CHECKING:
    from bastion.scan.iac.conditions import Context

__all__ = ["COMPUTED_DATA", "DOCUMENTS", "IAM_CHECKS", "policy_document", "statements"]

DOCUMENTS: Mapping[str, tuple[str, ...]] = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_iam_role": ("inline_policy.policy", "assume_role_policy"),
    "aws_iam_policy_document": ("json",),
    "aws_s3_bucket_policy": ("policy",),
    "aws_s3_bucket": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_kms_key_policy": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_sqs_queue": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_sns_topic": ("policy",),
    "aws_ecr_repository_policy": ("policy",),
    "aws_secretsmanager_secret_policy": ("policy",),
    "aws_secretsmanager_secret": ("policy",),
    "aws_glacier_vault": ("access_policy",),
    "aws_elasticsearch_domain_policy": ("access_policies",),
    "aws_opensearch_domain_policy": ("access_policies",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Role": ("Policies.PolicyDocument", "AssumeRolePolicyDocument"),
    "AWS::IAM::User": ("Policies.PolicyDocument",),
    "AWS::IAM::Group": ("Policies.PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::ECR::Repository": ("RepositoryPolicyText",),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy",),
}
"""Resource type -> attribute paths holding a policy document (lists of blocks are entered)."""

_IDENTITY = {"inline_policy.policy", "Policies.PolicyDocument"}
"""Paths of identity policies on resources whose other documents are trust or resource policies."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal(blocks: Any) -> Any:
    """``principals { type, identifiers }`` blocks as the JSON ``Principal`` value."""
    out: dict[str, Any] = {}
    for block in _as_list(blocks):
        if not isinstance(block, dict):
            return Unresolved("a principals block is not a block")
        kind, ids = block.get("type"), block.get("identifiers")
        if isinstance(kind, Unresolved | Ref):
            return kind
        if kind == "*":
            return "*"
        out.setdefault(str(kind), []).extend(_as_list(ids))
    return out


def _statement(block: dict[str, Any]) -> dict[str, Any]:
    names = {
        "sid": "Sid",
        "actions": "Action",
        "not_actions": "NotAction",
        "resources": "Resource",
        "not_resources": "NotResource",
    }
    out: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
    for source, target in names.items():
        if source in block and block[source] is not None:
            out[target] = block[source]
    if block.get("principals") is not None:
        out["Principal"] = _principal(block["principals"])
    if block.get("not_principals") is not None:
        out["NotPrincipal"] = _principal(block["not_principals"])
    conditions: dict[str, Any] = {}
    for cond in _as_list(block.get("condition")):
        if isinstance(cond, dict):
            test, variable = str(cond.get("test")), str(cond.get("variable"))
            conditions.setdefault(test, {})[variable] = cond.get("values")
    if conditions:
        out["Condition"] = conditions
    return out


def policy_document(attrs: dict[str, Any]) -> dict[str, Any]:
    """What ``data "aws_iam_policy_document"`` exports, computed from its resolved arguments."""
    found: list[Any] = []
    for key in ("source_policy_documents", "source_json"):
        for source in _as_list(attrs.get(key)):
            inner = statements(source)
            found.extend(inner if isinstance(inner, list) else [])
    found.extend(_statement(block) for block in _as_list(attrs.get("statement")) if isinstance(block, dict))
    document: dict[str, Any] = {"Version": attrs.get("version") or "2012-10-17", "Statement": found}
    unknown = [
        s
        for key in ("source_policy_documents", "source_json", "override_policy_documents")
        for s in _as_list(attrs.get(key))
        if isinstance(s, Unresolved | Ref)
    ]
    value: Any = document if not unknown else Unresolved(f"a source document is unknown: {unknown[0]}")
    return {**attrs, "json": value, "minified_json": value}


COMPUTED_DATA: Mapping[str, Callable[[dict[str, Any]], Any]] = {"aws_iam_policy_document": policy_document}
"""Data sources Terraform computes from their own arguments, not from a cloud API."""


def statements(document: Any) -> list[dict[str, Any]] | Result:
    """The statements of one document (JSON text or a structure), or an unknown verdict."""
    if isinstance(document, Unresolved):
        return Result(Outcome.UNKNOWN, "policy", document.reason)
    if isinstance(document, Ref):
        return Result(Outcome.UNKNOWN, "policy", f"{document} is known after apply")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return Result(Outcome.UNKNOWN, "policy", "the policy document is not literal JSON")
    if not isinstance(document, dict):
        return []
    found = _as_list(document.get("Statement"))
    return [s for s in found if isinstance(s, dict)]


def _documents(resource: Resource, identity_only: bool) -> Iterator[tuple[str, Any]]:
    paths = DOCUMENTS.get(resource.type, ())
    if identity_only and len(paths) > 1:
        paths = tuple(p for p in paths if p in _IDENTITY)
    for path in paths:
        yield from get_values(resource.attrs, path)


StatementTest = Callable[[dict[str, Any]], str | None]
"""A statement -> why it is a problem, or None."""


def _checker(test: StatementTest, identity_only: bool) -> Callable[[Resource, Context], Result]:
    def check(resource: Resource, _ctx: Context) -> Result:
        unknown: Result | None = None
        for path, document in _documents(resource, identity_only):
            found = statements(document)
            if isinstance(found, Result):
                unknown = unknown or Result(found.outcome, path, found.reason)
                continue
            for index, statement in enumerate(found):
                if _text(statement.get("Effect", "Allow")) != "Allow":
                    continue
                why = test(statement)
                if why:
                    return Result(Outcome.FAIL, path, f"statement {index}: {why}")
        return unknown or Result(Outcome.PASS)

    check.__doc__ = test.__doc__
    return check


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _texts(value: Any) -> list[str]:
    return [_text(v) for v in _as_list(value)]


def _all_resources(statement: dict[str, Any]) -> bool:
    return "*" in _texts(statement.get("Resource")) or "NotResource" in statement


def _admin(statement: dict[str, Any]) -> str | None:
    """Action "*" on Resource "*": full administrator."""
    if any(a in ("*", "*:*") for a in _texts(statement.get("Action"))) and _all_resources(statement):
        return 'allows Action "*" on Resource "*" (full administrator)'
    return None


def _star_action(statement: dict[str, Any]) -> str | None:
    """Action "*": every action of every service."""
    if any(a in ("*", "*:*") for a in _texts(statement.get("Action"))):
        return 'allows Action "*"'
    return None


def _service_wildcard(statement: dict[str, Any]) -> str | None:
    """A whole service (``s3:*``) or every action."""
    wild = [a for a in _texts(statement.get("Action")) if a == "*" or a.endswith(":*")]
    return f"allows wildcard actions {wild[:3]}" if wild else None


def _not_action(statement: dict[str, Any]) -> str | None:
    """Allow with NotAction grants every action not listed, including future ones."""
    if "NotAction" in statement:
        return f"allows everything except {_texts(statement['NotAction'])[:3]} (NotAction)"
    return None


def _public_principal(statement: dict[str, Any]) -> str | None:
    """Principal "*" (anyone, any account) without a condition."""
    principal = statement.get("Principal")
    values = (
        [principal]
        if not isinstance(principal, dict)
        else [v for vs in principal.values() for v in _as_list(vs)]
    )
    if any(_text(v) == "*" for v in values) and not statement.get("Condition"):
        return 'allows Principal "*" without a condition'
    return None


@lru_cache(maxsize=1)
def _categories() -> dict[str, tuple[str, ...]]:
    text = (importlib_resources.files("bastion.scan.iac") / "iam_actions.yml").read_text(encoding="utf-8")
    # libyaml's safe loader where it is built in: the file ships with Bastion, so the line-keeping
    # loader for scanned files is not needed, and the C loader reads it about 6x faster.
    try:
        raw = yaml.load(text, Loader=yaml.CSafeLoader)
    except AttributeError:  # PyYAML built without libyaml
        raw = yaml.safe_load(text)
    return {name: tuple(a.lower() for a in actions) for name, actions in raw["categories"].items()}


def _matches(patterns: list[str], actions: tuple[str, ...]) -> list[str]:
    """Actions (lower case) that any of the statement's action patterns matches."""
    lowered = [p.lower() for p in patterns]
    return [a for a in actions if any(_overlap(p, a) for p in lowered)]


def _glob(name: str, pattern: str) -> bool:
    """``fnmatch.fnmatchcase(name, pattern)``, without compiling a pattern that has no wildcard.

    A pattern without ``*``, ``?`` or ``[`` matches only itself; most category entries are
    plain action names, and compiling each of them as a pattern was most of the IAM checks' time.
    """
    if "*" in pattern or "?" in pattern or "[" in pattern:
        return fnmatch.fnmatchcase(name, pattern)
    return name == pattern


def _overlap(pattern: str, action: str) -> bool:
    """Whether a statement's action pattern and a category entry (either may hold ``*``) meet."""
    if _glob(action, pattern) or _glob(pattern, action):
        return True
    return pattern in ("*", "*:*") or (pattern.endswith(":*") and action.startswith("*:"))


def _category(name: str) -> StatementTest:
    label = name.replace("_", " ")

    def test(statement: dict[str, Any]) -> str | None:
        if not _all_resources(statement) or statement.get("Condition"):
            return None
        hits = _matches(_texts(statement.get("Action")), _categories()[name])
        if hits:
            return f'allows {label} actions on Resource "*" without a condition ({", ".join(hits[:3])})'
        return None

    test.__doc__ = f"{label.capitalize()} actions on every resource without a condition."
    return test


IAM_CHECKS: Mapping[str, Callable[[Resource, Context], Result]] = {
    "iam_no_admin": _checker(_admin, True),
    "iam_no_star_action": _checker(_star_action, True),
    "iam_no_wildcard_action": _checker(_service_wildcard, True),
    "iam_no_not_action": _checker(_not_action, True),
    "iam_no_public_principal": _checker(_public_principal, False),
    **{
        f"iam_no_{name}": _checker(_category(name), True)
        for name in (
            "credentials_exposure",
            "data_exfiltration",
            "permissions_management",
            "privilege_escalation",
            "write_access",
        )
    },
}
"""Python checks over every IAM document of a resource, by name."""
