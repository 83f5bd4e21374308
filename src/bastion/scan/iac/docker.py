"""Dockerfiles to one resource each, with dockerfile-parse: every instruction and its line,
the stages, the final stage's user and the base images."""

from __future__ import annotations

import io
import re
from typing import Any

from dockerfile_parse import DockerfileParser

from bastion.scan.iac.model import Resource

__all__ = ["is_dockerfile", "parse_dockerfile"]

_STAGE = re.compile(r"\s+as\s+(\S+)\s*$", re.IGNORECASE)


def is_dockerfile(name: str) -> bool:
    """``Dockerfile``, ``Dockerfile.prod``, ``api.dockerfile``, ``Containerfile``."""
    low = name.lower()
    return (
        low in ("dockerfile", "containerfile") or low.startswith("dockerfile.") or low.endswith(".dockerfile")
    )


def parse_dockerfile(path: str, text: str) -> list[Resource]:
    """One ``dockerfile`` resource; attributes ``instructions``, ``stages``, ``final``."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
    instructions: list[dict[str, Any]] = []
    lines: dict[str, int] = {}
    stages: list[dict[str, Any]] = []
    names: set[str] = set()
    for index, item in enumerate(parser.structure):
        entry = {
            "instruction": str(item["instruction"]).upper(),
            "value": str(item["value"]),
            "line": item["startline"] + 1,
        }
        instructions.append(entry)
        lines[f"instructions.{index}"] = entry["line"]
        if entry["instruction"] == "FROM":
            value = _STAGE.sub("", entry["value"]).split()
            image = next((v for v in value if not v.startswith("--")), "")
            stage = _STAGE.search(entry["value"])
            internal = image in names or image.lower() == "scratch"
            stages.append({"image": image, "internal": internal, "line": entry["line"], "instructions": []})
            lines[f"stages.{len(stages) - 1}"] = entry["line"]
            if stage:
                names.add(stage[1])
        elif stages:
            stages[-1]["instructions"].append(entry)
    final = stages[-1] if stages else {"instructions": []}
    users = [i for i in final["instructions"] if i["instruction"] == "USER"]
    attrs: dict[str, Any] = {
        "instructions": instructions,
        "stages": stages,
        "images": [s for s in stages if not s["internal"]],
        "final_user": users[-1]["value"].split(":")[0].strip() if users else None,
        "healthcheck": next((i["value"] for i in instructions if i["instruction"] == "HEALTHCHECK"), None),
    }
    if users:
        lines["final_user"] = users[-1]["line"]
    end = instructions[-1]["line"] if instructions else 1
    return [Resource("dockerfile", path, path, 1, end, attrs, lines, "dockerfile", ids=frozenset({path}))]
