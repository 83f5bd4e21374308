"""Run CI templates' steps locally, as the CI system would, with its environment variables.

GitHub composite action steps are evaluated with a small interpreter of the expressions the
action uses (``${{ inputs.X }}``, ``github.*``, ``steps.ID.outputs.X``, ``always()``, ``==``,
``!=``, ``&&``): anything else raises, so a template cannot silently use syntax this runner
would misread. ``uses:`` steps are recorded, not run (they are other repositories' code).
"""

from __future__ import annotations

import os
import random
import re
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def stripe_key() -> str:
    """A live-looking Stripe secret key made at run time (no secret in the repository)."""
    rng = random.Random(18)
    return "sk_live_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))


def make_workspace(root: Path, *, secret: bool = True, vulnerable: bool = True) -> Path:
    """A small git repository: a committed secret, a vulnerable pin and an open S3 bucket."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(
        f'STRIPE = "{stripe_key()}"\n' if secret else "print('hello')\n", encoding="utf-8"
    )
    (root / "requirements.txt").write_text("Django==2.2.0\n" if vulnerable else "", encoding="utf-8")
    (root / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n  acl    = "public-read"\n}\n' if vulnerable else "",
        encoding="utf-8",
    )
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=root, check=True)
    return root


def base_env(extra: dict[str, str]) -> dict[str, str]:
    """The test's environment with this venv's ``bastion`` first on PATH, plus ``extra``."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


@dataclass
class ActionRun:
    """What running a composite action's steps locally produced."""

    ran: list[str] = field(default_factory=list)
    """Names of the ``run:`` steps executed."""
    uses: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """``uses:`` steps reached, with their evaluated ``with:``."""
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    exit_code: int = 0
    logs: str = ""


def _value(expr: str, context: dict[str, Any]) -> str:
    expr = expr.strip()
    if expr.startswith("'") and expr.endswith("'"):
        return expr[1:-1]
    parts = expr.split(".")
    if parts[0] not in context:
        raise ValueError(f"unsupported expression {expr!r}")
    node: Any = context
    for part in parts:
        if node is None:
            return ""  # like GitHub: a step that did not run has no outputs, which read as ''
        if not isinstance(node, dict):
            raise ValueError(f"unsupported expression {expr!r}")
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, dict):
        raise ValueError(f"unsupported expression {expr!r}")
    return str(node)


def evaluate(expr: str, context: dict[str, Any]) -> bool:
    """An ``if:`` condition: terms joined by ``&&``; each ``always()``, ``A == 'x'`` or ``A != 'x'``."""
    result = True
    for term in (t.strip() for t in expr.removeprefix("${{").removesuffix("}}").split("&&")):
        if term == "always()":
            continue
        match = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", term)
        if match is None:
            raise ValueError(f"unsupported condition {term!r}")
        left, right = _value(match[1], context), _value(match[3], context)
        result = result and ((left == right) if match[2] == "==" else (left != right))
    return result


def substitute(text: str, context: dict[str, Any]) -> str:
    """``${{ ... }}`` replaced by the values of ``context``."""
    return _EXPR.sub(lambda m: _value(m[1], context), text)


def run_action(action: dict[str, Any], workspace: Path, inputs: dict[str, str], tmp: Path) -> ActionRun:
    """Run the composite action's steps in order as a GitHub runner would (a failing step ends
    the job except for ``always()`` steps), with GitHub's environment variables set."""
    declared = action["inputs"]
    unknown = set(inputs) - set(declared)
    if unknown:
        raise ValueError(f"inputs not declared by the action: {sorted(unknown)}")
    values = {name: inputs.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(parents=True, exist_ok=True)
    summary = tmp / "step-summary.md"
    summary.touch()
    context: dict[str, Any] = {
        "inputs": values,
        "github": {"workspace": str(workspace), "action_path": str(REPO)},
        "steps": {},
    }
    run = ActionRun()
    failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        condition = step.get("if", "success()" if False else "")
        always = "always()" in condition
        if failed and not always:
            continue
        if condition and not evaluate(condition, context):
            continue
        if "uses" in step:
            with_ = {k: substitute(str(v), context) for k, v in (step.get("with") or {}).items()}
            run.uses.append((step["uses"], with_))
            continue
        output_file = tmp / f"output-{index}"
        output_file.write_text("", encoding="utf-8")
        env = base_env(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_ACTION_PATH": str(REPO),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_ENV": str(tmp / "github-env"),
                "GITHUB_PATH": str(tmp / "github-path"),
                "RUNNER_TEMP": str(runner_temp),
                "RUNNER_OS": "Linux",
                **{k: substitute(str(v), context) for k, v in (step.get("env") or {}).items()},
            }
        )
        cwd = substitute(str(step.get("working-directory", "${{ github.workspace }}")), context)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        run.ran.append(step.get("name", f"step {index}"))
        run.logs += done.stdout + done.stderr
        outputs = dict(
            line.split("=", 1) for line in output_file.read_text(encoding="utf-8").splitlines() if "=" in line
        )
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": outputs}
            run.outputs[step["id"]] = outputs
        if done.returncode != 0:
            failed = True
            run.exit_code = done.returncode
    run.logs += f"\n--- step summary ---\n{summary.read_text(encoding='utf-8')}"
    return run


def run_script(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A CI script (lines joined) run by bash with ``-eo pipefail``, as GitLab and Azure do."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=base_env(env),
        capture_output=True,
        text=True,
        check=False,
    )
