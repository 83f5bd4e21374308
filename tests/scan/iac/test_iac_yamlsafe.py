"""The YAML loader for untrusted manifests: lines, tags, alias limits."""

from __future__ import annotations

import resource
import time

import pytest

from bastion.scan.iac.yamlsafe import LineDict, YamlError, load_all


def _bomb(levels: int) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghijklmnop"[:levels]:
        text += f"{name}: &{name} [" + ",".join(["*" + previous] * 9) + "]\n"
        previous = name
    return text


def test_mappings_know_their_lines() -> None:
    (doc,) = load_all("a: 1\nb:\n  c: 2\n  d:\n    - e: 3\n")
    assert isinstance(doc, LineDict)
    assert doc.key_lines == {"a": 1, "b": 2}
    assert (doc["b"].line, doc["b"].end_line) == (3, 5)
    assert doc["b"]["d"][0].key_lines == {"e": 5}


def test_multi_document_and_cloudformation_short_tags() -> None:
    docs = load_all("x: !Ref Param\ny: !GetAtt Res.Arn\nz: !Sub '${A}-b'\nw: !If [c, 1, 2]\n---\nk: v\n")
    assert docs[0] == {
        "x": {"Ref": "Param"},
        "y": {"Fn::GetAtt": ["Res", "Arn"]},
        "z": {"Fn::Sub": "${A}-b"},
        "w": {"Fn::If": ["c", 1, 2]},
    }
    assert docs[1] == {"k": "v"}


def test_alias_bomb_is_refused_quickly_without_memory_growth() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(YamlError, match="alias bomb"):
        load_all(_bomb(12))
    assert time.perf_counter() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB


def test_small_alias_use_is_fine() -> None:
    (doc,) = load_all("base: &b {cpu: 1}\nweb: *b\napi:\n  <<: *b\n  mem: 2\n")
    assert doc["web"] == {"cpu": 1} and doc["api"] == {"cpu": 1, "mem": 2}


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(YamlError, match="line 4"):
        load_all("a: 1\nb: [1,\nc: {\n")


def test_unhashable_key_and_python_tags_are_refused() -> None:
    with pytest.raises(YamlError):
        load_all("? [a, b]\n: 1\n")
    with pytest.raises(YamlError):
        load_all("a: !!python/object/apply:os.system [echo]\n")


def test_alias_guard_runs_only_where_an_alias_can_be(monkeypatch: pytest.MonkeyPatch) -> None:
    import bastion.scan.iac.yamlsafe as yamlsafe

    walked: list[object] = []
    original = yamlsafe._check_expansion
    monkeypatch.setattr(yamlsafe, "_check_expansion", lambda node: walked.append(node) or original(node))
    assert load_all("anchor: &a {x: 1}\nplain: 2\n") == [{"anchor": {"x": 1}, "plain": 2}]
    assert walked == []  # an anchor without an alias expands nothing
    assert load_all("a: &a {x: 1}\nb: *a\nc: '*'\n")[0]["b"] == {"x": 1}
    assert len(walked) == 1
    with pytest.raises(YamlError, match="alias bomb"):
        load_all(_bomb(12))
    with pytest.raises(YamlError):
        load_all("a: &a [1, *a]\n")  # an alias inside its own anchor is refused, as before
