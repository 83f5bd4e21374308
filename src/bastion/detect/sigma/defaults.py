"""The rules ``bastion sigma`` runs when no ``--rules`` is given, and how the shipped set is made.

Which rules, in order of precedence: the directory named by ``BASTION_SIGMA_RULES``; else the
rules ``bastion sigma update`` installed (:func:`~bastion.detect.sigma.update.default_update_dir`);
else the curated SigmaHQ subset shipped in ``bastion/detect/sigma/rules`` (DRL 1.1, see its
``SOURCE.md`` and licence file there).

The shipped subset is chosen by :func:`curate`, from the SigmaHQ ``rules/`` tree: status
``stable`` or ``test``, level ``high`` or ``critical``, one rule per file, loaded by Bastion
without refusal, for a log source one of the shipped pipelines produces; each file is copied
unchanged (author and licence intact) under ``<product>/<category or service>/``::

    python -m bastion.detect.sigma.defaults ../shared/data/sigma-rules/rules src/bastion/detect/sigma/rules
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from bastion.detect.sigma.loader import load_rules, rule_files
from bastion.errors import InputError

__all__ = [
    "CURATED_LEVELS",
    "CURATED_STATUSES",
    "ENV_RULES",
    "Curation",
    "RuleSource",
    "curate",
    "default_rules",
    "shipped_rules_dir",
]

ENV_RULES = "BASTION_SIGMA_RULES"
CURATED_STATUSES = frozenset({"stable", "test"})
CURATED_LEVELS = frozenset({"high", "critical"})


@dataclass(frozen=True)
class RuleSource:
    """The rule directories used and where they come from (``shipped``, ``updated``, ``env``)."""

    paths: tuple[Path, ...]
    origin: str

    def describe(self) -> str:
        """One line for the user: which rules run."""
        where = ", ".join(str(p) for p in self.paths)
        return {
            "shipped": f"no --rules: Bastion's curated SigmaHQ rule set ({where}, DRL 1.1)",
            "updated": f"no --rules: the rules installed by bastion sigma update ({where})",
            "env": f"no --rules: {ENV_RULES}={where}",
        }.get(self.origin, where)


def shipped_rules_dir() -> Path:
    """The curated rule set inside the package."""
    return Path(str(resources.files("bastion.detect.sigma") / "rules"))


def default_rules() -> RuleSource:
    """The rules to use when the command line names none (see the module docstring)."""
    from bastion.detect.sigma.update import default_update_dir

    env = os.environ.get(ENV_RULES, "").strip()
    if env:
        path = Path(env)
        if not path.exists():
            raise InputError(f"{ENV_RULES}={env}: no such rule file or directory")
        return RuleSource((path,), "env")
    updated = default_update_dir()
    if updated.is_dir() and any(updated.iterdir()):
        return RuleSource((updated,), "updated")
    return RuleSource((shipped_rules_dir(),), "shipped")


@dataclass
class Curation:
    """What :func:`curate` kept and why the rest was left out (reason -> count)."""

    kept: list[Path] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        """Count one rule left out."""
        self.left_out[reason] = self.left_out.get(reason, 0) + 1


def _meta(path: Path) -> dict[str, object] | None:
    try:
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        return None
    return docs[0]


def curate(sources: Iterable[Path], dest: Path | None = None) -> Curation:
    """Choose the rules under ``sources`` that meet the shipped set's bar; copy them to ``dest``
    (replacing what is there) unless it is None."""
    result = Curation()
    chosen: list[tuple[Path, Path]] = []
    for path in rule_files(sources):
        if "deprecated" in path.parts:
            result.skip("deprecated")
            continue
        meta = _meta(path)
        if meta is None:
            result.skip("not one YAML rule")
            continue
        if meta.get("status") not in CURATED_STATUSES:
            result.skip(f"status not {'/'.join(sorted(CURATED_STATUSES))}")
            continue
        if meta.get("level") not in CURATED_LEVELS:
            result.skip(f"level not {'/'.join(sorted(CURATED_LEVELS))}")
            continue
        if "correlation" in meta or "logsource" not in meta:
            result.skip("correlation or no log source")
            continue
        ruleset = load_rules([path])
        if ruleset.refused or len(ruleset.rules) != 1:
            result.skip("not loaded by Bastion")
            continue
        if ruleset.unmapped:
            result.skip("log source no pipeline produces")
            continue
        product, category, service = ruleset.rules[0].logsource
        rel = Path(product or "any", category or service or "any", path.name)
        chosen.append((path, rel))
        result.kept.append(rel)
    if dest is not None:
        for old in rule_files([dest]) if dest.is_dir() else []:
            old.unlink()
        for src, rel in chosen:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest / rel)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bastion.detect.sigma.defaults SOURCE... DEST``: rebuild the shipped set."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print("usage: python -m bastion.detect.sigma.defaults SOURCE... DEST", file=sys.stderr)
        return 2
    *sources, dest = args
    result = curate([Path(s) for s in sources], Path(dest))
    print(f"{len(result.kept)} rule(s) kept in {dest}")
    for reason, n in sorted(result.left_out.items(), key=lambda kv: -kv[1]):
        print(f"  {n} left out: {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
