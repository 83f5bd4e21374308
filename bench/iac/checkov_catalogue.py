"""Turn checkov's simple attribute checks into Bastion policy data, for review (issue 17).

Run with checkov's own interpreter on the JSON that ``--dump`` writes from checkov's registry:

    build/peers/checkov-venv/bin/python bench/iac/checkov_catalogue.py --dump build/ckv_checks.json
    .venv/bin/python bench/iac/checkov_catalogue.py --checks build/ckv_checks.json --out build/ckv-policies

Only checks whose verdict is one attribute compared with listed values (checkov's
``BaseResourceValueCheck`` / ``BaseResourceNegativeValueCheck`` without their own scan code) are
turned into conditions; a check on a resource type and attribute some Bastion policy already reads
is reported as a mapping to that policy instead of a new one. Each written policy is then checked
by ``selftest`` (derived pass/fail examples) and by ``verify_twins.py`` against checkov itself.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any


def dump(path: Path) -> None:
    """Write checkov's simple value checks (needs checkov importable)."""
    from checkov.common.models.enums import CheckResult
    from checkov.terraform.checks.resource.base_resource_negative_value_check import (
        BaseResourceNegativeValueCheck,
    )
    from checkov.terraform.checks.resource.base_resource_value_check import BaseResourceValueCheck
    from checkov.terraform.checks.resource.registry import resource_registry

    out, seen = [], set()
    for checks in resource_registry.checks.values():
        for check in checks:
            if check.id in seen:
                continue
            seen.add(check.id)
            cls = type(check)
            rec: dict[str, Any] = {
                "id": check.id,
                "name": check.name,
                "resources": list(check.supported_resources),
            }
            if (
                isinstance(check, BaseResourceValueCheck)
                and cls.scan_resource_conf is BaseResourceValueCheck.scan_resource_conf
            ):
                rec.update(
                    kind="value",
                    key=check.get_inspected_key(),
                    values=check.get_expected_values(),
                    missing=getattr(check, "missing_block_result", CheckResult.FAILED).name,
                )
            elif (
                isinstance(check, BaseResourceNegativeValueCheck)
                and cls.scan_resource_conf is BaseResourceNegativeValueCheck.scan_resource_conf
            ):
                rec.update(
                    kind="negative",
                    key=check.get_inspected_key(),
                    forbidden=check.get_forbidden_values(),
                    missing=getattr(check, "missing_attribute_result", CheckResult.PASSED).name,
                )
            else:
                rec["kind"] = None
            out.append(rec)
    path.write_text(json.dumps(out, default=str, indent=0))


_STOP = {
    "ensure",
    "that",
    "the",
    "is",
    "are",
    "a",
    "an",
    "be",
    "should",
    "to",
    "of",
    "for",
    "on",
    "with",
    "has",
    "have",
    "in",
    "and",
    "by",
    "its",
    "set",
    "using",
    "uses",
    "use",
    "all",
    "at",
    "least",
    "does",
    "do",
    "not",
}
_PROVIDER = {"AWS": "aws", "AZURE": "azure", "GCP": "gcp"}


def _attr(key: str) -> str | None:
    if "*" in key or "{" in key:
        return None
    return ".".join(p for p in key.split("/") if not re.fullmatch(r"\[\d+\]", p))


def _slug(name: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", name.lower()) if w not in _STOP]
    return "-".join(words)[:60].strip("-")


def _negate(name: str) -> str:
    text = re.sub(r"^(Ensure|Ensures|Check)\s+(that\s+)?", "", name.strip().rstrip("."), flags=re.I)
    text = text[:1].upper() + text[1:]
    swaps = [
        (" should not have ", " has "),
        (" does not have ", " has "),
        (" doesn't have ", " has "),
        (" do not have ", " have "),
        (" should not be ", " is "),
        (" should not ", " may "),
        (" should be ", " is not "),
        (" is not ", " is "),
        (" are not ", " are "),
        (" does not ", " does "),
        (" do not ", " do "),
        (" doesn't ", " does "),
        (" is ", " is not "),
        (" are ", " are not "),
        (" has ", " does not have "),
        (" have ", " do not have "),
        (" uses ", " does not use "),
        (" use ", " do not use "),
        (" enables ", " does not enable "),
        (" requires ", " does not require "),
        (" defines ", " does not define "),
        (" gets ", " does not get "),
    ]
    if text.lower().startswith("do not "):
        verb, _, rest = text[7:].partition(" ")
        return (
            f"{verb[:1].upper()}{verb[1:]}{'es' if verb.endswith(('s', 'sh', 'ch')) else 's'} {rest}".strip()
        )
    for old, new in swaps:
        if old in f" {text} ":
            return f" {text} ".replace(old, new, 1).strip()
    return f"Not met: {text}"


def _severity(name: str) -> str:
    low = name.lower()
    if re.search(
        r"public|0\.0\.0\.0|internet|anonymous|admin|hard.?coded|secret|password|privileged|root", low
    ):
        return "high"
    if re.search(r"encrypt|kms|cmk|tls|ssl|https|auth|mfa|firewall|network|access", low):
        return "medium"
    return "low"


def _cwe(name: str) -> list[int]:
    low = name.lower()
    for pattern, cwe in (
        (r"encrypt|kms|cmk|customer.managed", 311),
        (r"tls|ssl|https|in transit", 319),
        (r"public|internet|anonymous|0\.0\.0\.0", 284),
        (r"log|audit|trac|monitor", 778),
        (r"auth|mfa|password", 306),
        (r"backup|version|deletion|retention|recover", 693),
    ):
        if re.search(pattern, low):
            return [cwe]
    return []


def _show(v: Any) -> str:
    return json.dumps(v) if not isinstance(v, str) else f'"{v}"'


def _fix(cond: dict[str, Any]) -> str:
    attr = cond["attr"]
    if "exists" in cond:
        return f"Set {attr}."
    if "equals" in cond:
        return f"Set {attr} = {_show(cond['equals'])}."
    if "in" in cond:
        return f"Set {attr} to one of {', '.join(_show(v) for v in cond['in'])}."
    return f"Do not set {attr} to {' or '.join(_show(v) for v in cond['not_in'])}."


def _value(v: Any) -> Any:
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v


def condition(rec: dict[str, Any]) -> dict[str, Any] | None:
    """The Bastion condition of one simple checkov check, or None when it has no exact one."""
    attr = _attr(rec["key"])
    if not attr:
        return None
    if rec["kind"] == "value":
        if rec["missing"] == "UNKNOWN":
            return None  # "if used" checks pinned to one version ("PHP 7.4 is the latest"): not a real check
        values = rec["values"] if isinstance(rec["values"], list) else [rec["values"]]
        if any(isinstance(v, list | dict) for v in values):
            return None
        if "CKV_ANY" in values:
            return None if rec["missing"] == "PASSED" else {"attr": attr, "exists": True}
        values = list(dict.fromkeys(_value(v) for v in values))
        cond: dict[str, Any] = (
            {"attr": attr, "equals": values[0]} if len(values) == 1 else {"attr": attr, "in": values}
        )
        if rec["missing"] == "PASSED":
            cond["missing"] = "pass"
        return cond
    forbidden = rec["forbidden"] if isinstance(rec["forbidden"], list) else [rec["forbidden"]]
    if any(isinstance(v, list | dict) for v in forbidden) or "CKV_ANY" in forbidden:
        return None
    forbidden = list(dict.fromkeys(_value(v) for v in forbidden))
    cond = {"attr": attr, "not_in": forbidden}
    if rec["missing"] == "FAILED":
        cond["missing"] = "fail"
    return cond


def _attrs_of(cond: Any) -> set[str]:
    if isinstance(cond, dict):
        found = {cond["attr"]} if isinstance(cond.get("attr"), str) else set()
        for value in cond.values():
            found |= _attrs_of(value)
        return found
    if isinstance(cond, list):
        return set().union(*(_attrs_of(c) for c in cond)) if cond else set()
    return set()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--checks", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.dump:
        dump(args.dump)
        return
    import yaml

    from bastion.scan.iac.policy import builtin_policies

    policies = builtin_policies()
    mapped = {c for p in policies for c in p.checkov}
    reads: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in policies:
        for attr in _attrs_of(p.check) | _attrs_of(p.when):
            for kind in p.resources:
                reads[(kind, attr)].append(p.id)
    ids = {p.id for p in policies}
    new: dict[str, list[dict[str, Any]]] = defaultdict(list)
    mappings: dict[str, list[str]] = defaultdict(list)
    skipped = []
    for rec in json.loads(args.checks.read_text()):
        if not rec.get("kind") or rec["id"] in mapped or not rec["id"].startswith(("CKV_", "CKV2_")):
            continue
        cond = condition(rec)
        if cond is None:
            skipped.append(rec["id"])
            continue
        owners = sorted({pid for kind in rec["resources"] for pid in reads.get((kind, cond["attr"]), [])})
        if owners:
            mappings[owners[0]].append(rec["id"])
            continue
        provider = _PROVIDER.get(rec["id"].split("_")[1], rec["id"].split("_")[1].lower())
        kind = re.sub(r"^[a-z0-9]+?_", "", rec["resources"][0]).replace("_", "-")
        words = [w for w in _slug(rec["name"]).split("-") if w and w not in kind.split("-") and w != provider]
        slug = "-".join([kind, *words])
        pid = f"iac.{provider}.{slug if len(slug) <= 80 else slug[:80].rsplit('-', 1)[0]}"
        if pid in ids:
            pid += "-" + cond["attr"].rsplit(".", 1)[-1].replace("_", "-")
        while pid in ids:
            pid += "-2"
        ids.add(pid)
        title = _negate(rec["name"])
        if title.startswith("Resource "):
            title = rec["resources"][0] + title[len("Resource") :]
        policy: dict[str, Any] = {
            "id": pid,
            "checkov": [rec["id"]],
            "title": title,
            "severity": _severity(rec["name"]),
            "resource": rec["resources"] if len(rec["resources"]) > 1 else rec["resources"][0],
            "check": cond,
        }
        cwe = _cwe(rec["name"])
        if cwe:
            policy["cwe"] = cwe
        policy["fix"] = _fix(cond)
        group = provider if provider in ("aws", "azure", "gcp") else "other"
        new[group].append(policy)
    args.out.mkdir(parents=True, exist_ok=True)
    for group, items in new.items():
        (args.out / f"{group}.yml").write_text(
            yaml.safe_dump({"policies": items}, sort_keys=False, width=200)
        )
    (args.out / "mappings.json").write_text(json.dumps(mappings, indent=1))
    print(
        {g: len(v) for g, v in new.items()},
        "mappings",
        sum(map(len, mappings.values())),
        "skipped",
        len(skipped),
    )


if __name__ == "__main__":
    main()
