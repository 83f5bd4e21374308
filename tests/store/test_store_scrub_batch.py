"""The store's scrubber stays as strict after its speed-up (issue 27): shadows built from slices
equal the per-character ones, and one search over a chunk's distinct texts rebuilds exactly the
values :func:`scrub_tree` would change."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from bastion.scan.secrets.prefilter import ascii_lower
from bastion.store import sanitize
from bastion.store.sanitize import scrub, scrub_all, scrub_tree

# Generated for this test, grant nothing.
GITHUB = "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"
GITLAB = "glpat-kY9pF34Qy6nB3Wwd25rq"
AWS = "AKIAQ4ZJ7XW2N5RB3YTC"
SECRETS = (GITHUB, GITLAB, AWS)


def _found(text: str) -> list[tuple[int, int]]:
    raw = sanitize._keywords().raw(ascii_lower(text))
    return [(end - length + 1, end + 1) for end, (length, _) in raw]


def _reference_right(text: str, found: list[tuple[int, int]]) -> str:
    """The right-glue shadow as it was first written: character by character."""
    in_keyword = [False] * len(text)
    for start, end in found:
        in_keyword[start:end] = [True] * (end - start)
    return "".join("\n" if c in "-_" and not in_keyword[i] else c for i, c in enumerate(text))


def _reference_left(text: str, starts: list[int]) -> str:
    left = list(text)
    for start in starts:
        left[start - 1] = "\n"
    return "".join(left)


def _texts() -> list[str]:
    rng = random.Random(27)
    parts = [
        "x-",
        "_",
        "-",
        "ghp_",
        "glpat-",
        "https://",
        "pat",
        "help_uri ",
        "a-b_c",
        "\n",
        "AKIA",
        "-----BEGIN RSA PRIVATE KEY-----",
        "token=",
        " ",
        *SECRETS,
    ]
    texts = ["", "-", "ghp_", "x-ghp_ghp_-_", f"id-{GITHUB}-glpat-{GITLAB}_"]
    texts += ["".join(rng.choice(parts) for _ in range(rng.randint(1, 40))) for _ in range(400)]
    return texts


@pytest.mark.parametrize("text", _texts())
def test_shadows_from_slices_equal_the_per_character_shadows(text: str) -> None:
    found = _found(text)
    assert sanitize._glued_right_shadow(text, found) == _reference_right(text, found)
    starts = [start for start, _ in found if start > 0 and text[start - 1] in "-_"]
    if starts:
        assert sanitize._glued_left_shadow(text, starts) == _reference_left(text, starts)


@pytest.mark.parametrize("secret", SECRETS)
def test_a_token_glued_to_a_separator_on_either_side_is_scrubbed(secret: str) -> None:
    for text in (f"x-{secret}", f"{secret}_tail", f"key_{secret}-x https://h/a_b", f"a-{secret}\nb_c"):
        assert secret not in scrub(text), text


def _chunk() -> list[Any]:
    """A chunk like an upload's: keys and advisory texts repeated, secrets in a few places."""
    values: list[Any] = [
        {
            "rule_id": "trivy.CVE-2023-43804",
            "title": "urllib3: Cookie request header isn't stripped during cross-origin redirects",
            "help_uri": "https://avd.aquasec.com/nvd/cve-2023-43804",
            "location": {"path": f"services/svc-{n % 7}/requirements.txt", "package": f"urllib3-{n}"},
            "metadata": {"refs": ["https://github.com/urllib3/urllib3/commit/644124ec", f"pat-{n}"]},
        }
        for n in range(300)
    ]
    values[10]["message"] = f"leaked in x-{GITHUB}"
    values[11]["metadata"]["refs"].append(f"token_{GITLAB}")
    values[200]["location"]["path"] = f"keys/{AWS}.txt"
    values[201] = {f"key-{AWS}": "value"}
    values[250]["message"] = f"leaked in x-{GITHUB}"  # the same text twice: both rebuilt
    values.append(f"plain {GITHUB}")
    values.append(["nested", [f"deep {GITLAB}"]])
    values.append(7)
    return values


def test_one_search_over_a_chunk_scrubs_what_scrub_tree_scrubs() -> None:
    values = _chunk()
    cleaned = scrub_all(values)
    assert cleaned == [scrub_tree(value) for value in values]
    text = json.dumps(cleaned)
    assert not any(secret in text for secret in SECRETS)
    changed = [n for n, (a, b) in enumerate(zip(values, cleaned, strict=True)) if a != b]
    assert changed == [10, 11, 200, 201, 250, 300, 301]
    assert all(cleaned[n] is values[n] for n in range(len(values)) if n not in changed)


def test_a_clean_chunk_comes_back_as_it_was() -> None:
    values = [value for n, value in enumerate(_chunk()) if n not in (10, 11, 200, 201, 250, 300, 301)]
    assert scrub_all(values) is values
    assert scrub_all([]) == []
    assert scrub_all(["short"]) == ["short"]
