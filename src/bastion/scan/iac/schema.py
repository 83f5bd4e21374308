"""The schema of one IaC policy, validated by pydantic (as the secrets rules are).

Every policy, built-in or a team's own, is checked against :class:`PolicySpec` when its file is
read; a mistake is one line naming the file, the policy's index and id, and the field
(``p.yml: policies[3] (iac.team.x).check.regex: invalid regular expression ...``).
The conditions of ``check`` and ``when`` are checked by :func:`~bastion.scan.iac.conditions.check_condition`,
the same code that later evaluates them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from bastion.findings import Severity
from bastion.scan.iac.conditions import check_condition
from bastion.scan.iac.pychecks import PYTHON_CHECKS
from bastion.validation import first_error, reason_of

__all__ = ["PolicySpec", "policy_error", "validate_policy"]

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_TFSEC_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
_CHECKOV_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
_TFSEC_MESSAGE = "must be a list of tfsec ids such as aws-ec2-no-public-ingress-sgr"
_KICS_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_KICS_MESSAGE = "must be a list of KICS query ids such as 65905cec-d691-4320-b320-2000436cb696"


def _id_list(pattern: re.Pattern[str], message: str) -> Any:
    """A before-validator accepting a list of strings that match ``pattern``."""

    def check(value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) and pattern.match(v) for v in value):
            raise ValueError(message)
        return tuple(value)

    return BeforeValidator(check)


def _condition(field: str) -> Any:
    """A before-validator running the condition checker on ``field`` (``check`` or ``when``)."""

    def check(value: Any) -> Any:
        check_condition(value, field, PYTHON_CHECKS)
        return value

    return BeforeValidator(check)


class PolicySpec(BaseModel):
    """One entry of a policy file's ``policies`` list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """``iac.<provider>.<name>``, lower case; unique across every loaded policy."""
    title: str
    severity: Severity
    resource: tuple[str, ...]
    """The resource types the policy reads (one name, or a list of them)."""
    check: Annotated[Any, _condition("check")]
    """The condition a compliant resource meets."""
    when: Annotated[Any, _condition("when")] = None
    """The policy applies only where this condition holds."""
    fix: str = ""
    cwe: tuple[int, ...] = ()
    examples: dict[str, list[Any]] = Field(default_factory=dict)
    """``pass`` and ``fail`` lists the test suite evaluates."""
    description: str = ""
    checkov: Annotated[
        tuple[str, ...], _id_list(_CHECKOV_ID, "must be a list of checkov ids such as CKV_AWS_24")
    ] = ()
    """checkov's ids for the same check, for migration and inline suppressions."""
    tfsec: Annotated[tuple[str, ...], _id_list(_TFSEC_ID, _TFSEC_MESSAGE)] = ()
    """tfsec/trivy ids for the same check."""
    kics: Annotated[tuple[str, ...], _id_list(_KICS_ID, _KICS_MESSAGE)] = ()
    """KICS query ids (the ``id`` of a query's ``metadata.json``) for the same check."""

    @field_validator("id", mode="before")
    @classmethod
    def _check_id(cls, value: Any) -> Any:
        if not isinstance(value, str) or not _ID.match(value) or not value.startswith("iac."):
            raise ValueError(f"{value!r} must look like iac.<provider>.<name> (lower case)")
        return value

    @field_validator("severity", mode="before")
    @classmethod
    def _check_severity(cls, value: Any) -> Severity:
        return Severity.parse(str(value))

    @field_validator("resource", mode="before")
    @classmethod
    def _check_resource(cls, value: Any) -> tuple[str, ...]:
        kinds = value if isinstance(value, list) else [value]
        if not kinds or not all(isinstance(k, str) and k for k in kinds):
            raise ValueError("must be a type name or a list of them")
        return tuple(kinds)

    @field_validator("cwe", mode="before")
    @classmethod
    def _check_cwe(cls, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not all(isinstance(c, int) for c in value):
            raise ValueError("must be a list of integers")
        return tuple(value)

    @field_validator("examples", mode="before")
    @classmethod
    def _check_examples(cls, value: Any) -> dict[str, list[Any]]:
        examples = value or {}
        if not isinstance(examples, dict) or set(examples) - {"pass", "fail"}:
            raise ValueError("must be a mapping with pass and fail lists")
        return {str(k): list(v) for k, v in examples.items()}


def policy_error(raw: Any, where: str, exc: ValidationError) -> str:
    """One line for the first mistake in policy ``raw`` found at ``where`` (``policies[3]``):
    an unknown key (the first by name), else a missing one, else the first field in error."""
    errors = exc.errors()
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden" and e["loc"])
    if unknown:
        return f"{where}: unknown key {unknown[0]!r}"
    missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing" and e["loc"]]
    if missing:
        return f"{where}: missing required key {missing[0]!r}"
    error = first_error(exc)
    loc = [str(part) for part in error["loc"]]
    field = loc[0] if loc else ""
    pid = raw.get("id") if isinstance(raw, dict) else None
    if field != "id" and isinstance(pid, str):
        where = f"{where} ({pid})"
    reason = reason_of(error)
    if field in ("check", "when"):
        return f"{where}.{reason}"  # the condition checker names the path inside the condition
    return f"{where}.{'.'.join(loc)}: {reason}"


def validate_policy(raw: Any, where: str) -> PolicySpec:
    """``raw`` as a :class:`PolicySpec`; ``ValueError`` with the one-line reason otherwise."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a policy must be a mapping")
    try:
        return PolicySpec.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(policy_error(raw, where, exc)) from None
