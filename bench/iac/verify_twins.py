"""Check that every policy naming a checkov id is checkov's twin on the policy's own examples.

Each Terraform policy's pass and fail examples (written, or derived from its condition by
``selftest``) are rendered as resources in one directory; checkov runs once over it; a twin agrees
when checkov fails the policy's checkov ids on every fail example and fails none of them on a pass
example. Policies whose examples are connection sets, Kubernetes, CloudFormation or Dockerfiles are
counted as not verified here.

    .venv/bin/python bench/iac/verify_twins.py --checkov build/peers/checkov-venv/bin/checkov \
        [--policies build/ckv-policies] [--out build/twins]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bastion.scan.iac.policy import Policy, builtin_policies, load_policy_dir
from bastion.scan.iac.selftest import CannotDerive, examples_of

_NAME = re.compile(r"[^A-Za-z0-9_]")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_literal(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def _body(attrs: dict[str, Any], indent: str) -> Iterable[str]:
    for key, value in attrs.items():
        if isinstance(value, dict) and key != "tags":
            yield f"{indent}{key} {{"
            yield from _body(value, indent + "  ")
            yield f"{indent}}}"
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                yield f"{indent}{key} {{"
                yield from _body(item, indent + "  ")
                yield f"{indent}}}"
        else:
            yield f"{indent}{key} = {_literal(value)}"


def render(kind: str, name: str, attrs: dict[str, Any]) -> str:
    """One Terraform resource block."""
    return "\n".join([f'resource "{kind}" "{name}" {{', *_body(attrs, "  "), "}", ""])


def _terraform(policy: Policy) -> bool:
    return all(
        "::" not in r and "." not in r and not r.startswith(("k8s", "docker", "compose", "arm"))
        for r in policy.resources
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkov", required=True)
    parser.add_argument("--policies", type=Path, help="only the policies in this directory")
    parser.add_argument("--out", type=Path, default=Path("build/twins"))
    parser.add_argument(
        "--catalogue", type=Path, help="checkov --list output: ids apply to their entities only"
    )
    args = parser.parse_args()
    policies = load_policy_dir(args.policies) if args.policies else list(builtin_policies())
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.tf"):
        old.unlink()
    cases: list[tuple[Policy, str, str, str]] = []  # policy, want, type, name
    unverified: list[str] = []
    for index, policy in enumerate(p for p in policies if p.checkov):
        try:
            examples = examples_of(policy)
        except CannotDerive:
            unverified.append(policy.id)
            continue
        if not _terraform(policy) or any(
            not isinstance(e, dict) or "resources" in e for w in ("pass", "fail") for e in examples[w]
        ):
            unverified.append(policy.id)
            continue
        blocks = []
        for want in ("pass", "fail"):
            for n, example in enumerate(examples[want]):
                kind = policy.resources[0]
                name = _NAME.sub("_", f"p{index}_{want}_{n}")
                blocks.append(render(kind, name, example))
                cases.append((policy, want, kind, name))
        (args.out / f"p{index}.tf").write_text("\n".join(blocks))
    report = args.out / "checkov.json"
    with report.open("w") as sink:
        subprocess.run(
            [
                args.checkov,
                "-d",
                str(args.out),
                "--framework",
                "terraform",
                "-o",
                "json",
                "--quiet",
                "--skip-download",
                "--compact",
            ],
            stdout=sink,
            check=False,
        )
    text = report.read_text()
    start = min((i for i in (text.find("\n{"), text.find("\n[")) if i >= 0), default=-1)
    data = json.loads(text if text[:1] in "[{" else text[start + 1 :])
    data = data[0] if isinstance(data, list) else data
    failed: dict[str, set[str]] = {}
    for item in data.get("results", {}).get("failed_checks", []):
        failed.setdefault(item["resource"], set()).add(item["check_id"])
    entities: dict[str, set[str]] = {}
    if args.catalogue:
        for line in args.catalogue.read_text().splitlines():
            cells = [c.strip() for c in line.split("|")]
            if len(cells) > 4 and cells[2].startswith("CKV"):
                entities.setdefault(cells[2], set()).add(cells[4])
    bad: dict[str, list[str]] = {}
    for policy, want, kind, name in cases:
        ids = {c for c in policy.checkov if not entities or kind in entities.get(c, set())}
        got = failed.get(f"{kind}.{name}", set()) & ids
        if want == "fail" and got != ids:
            bad.setdefault(policy.id, []).append(
                f"fail example: checkov fails {sorted(got)} of {sorted(ids)}"
            )
        if want == "pass" and got:
            bad.setdefault(policy.id, []).append(f"pass example: checkov fails {sorted(got)}")
    verified = {p.id for p, *_ in cases}
    print(
        f"policies with checkov ids: {len(verified) + len(unverified)}; "
        f"verified on examples: {len(verified)}; "
        f"agree: {len(verified) - len(bad)}; disagree: {len(bad)}; not verifiable here: {len(unverified)}"
    )
    (args.out / "disagreements.json").write_text(json.dumps(bad, indent=1))


if __name__ == "__main__":
    main()
