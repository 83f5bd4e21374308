"""Terraform: variables, tfvars, locals, count/for_each, modules, unknowns and lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import hcl2.parser
import pytest
from iac_helpers import FIXTURES, index, run_iac
from lark import Lark, Token, Tree

import bastion.scan.iac.hcl as hcl_module
from bastion.scan.iac.hcl import _OPTIONS, HclError, _block_key, _text, parse_hcl, parse_tf_json
from bastion.scan.iac.model import Ref, Unresolved
from bastion.scan.iac.tfexpr import Scope, resolve

TF = FIXTURES / "terraform"


@pytest.fixture(scope="module")
def scanned() -> tuple[set[tuple[str, str, str]], list[str], dict[str, Any]]:
    findings, notices = run_iac(TF)
    by_key = {f"{f.rule_id} {f.metadata['resource']}": f for f in findings}
    return index(findings), [n.message for n in notices], by_key


def test_variable_default_and_locals_are_resolved(scanned: tuple) -> None:
    found, _, by_key = scanned
    assert ("iac.aws.rds-encrypted", "main.tf", "aws_db_instance.main") in found
    # local.public = var.env == "prod" ? false : true -> false with env from terraform.tfvars
    assert ("iac.aws.rds-public", "main.tf", "aws_db_instance.main") not in found
    finding = by_key["iac.aws.rds-encrypted aws_db_instance.main"]
    assert finding.location.start_line == 23 and finding.location.end_line == 29
    assert finding.metadata["line"] == 25 and "(line 25)" in finding.message


def test_count_and_for_each_expand_statically(scanned: tuple) -> None:
    found, notices, _ = scanned
    names = {name for _, _, name in found}
    assert 'aws_ebs_volume.by_name["b"]' in names
    assert ("iac.aws.ebs-volume-encrypted", "main.tf", 'aws_ebs_volume.by_name["a"]') not in found
    assert not any("aws_ebs_volume.never" in n for n in names)  # count = 0
    assert any("aws_ebs_volume.data[1]" in n for n in notices)


def test_unresolved_variable_is_unknown_with_reason_not_a_failure(scanned: tuple) -> None:
    found, notices, _ = scanned
    assert not any(r == "iac.aws.ebs-volume-kms" and "data[" in n for r, _, n in found)
    assert any(
        n.startswith("unknown: iac.aws.ebs-volume-kms on aws_ebs_volume.data[0]")
        and "var.kms_key has no default" in n
        for n in notices
    )


def test_connection_between_resources(scanned: tuple) -> None:
    found, _, _ = scanned
    assert ("iac.aws.s3-bucket-encryption", "main.tf", "aws_s3_bucket.logs") not in found
    assert ("iac.aws.s3-bucket-encryption", "main.tf", "aws_s3_bucket.suppressed") in found


def test_local_modules_are_followed_with_inputs(scanned: tuple) -> None:
    found, notices, _ = scanned
    acl = "iac.aws.s3-bucket-public-acl"
    assert (acl, "modules/bucket/main.tf", "module.public_site.aws_s3_bucket_acl.this") in found
    assert not any(r == acl and "module.assets" in n for r, _, n in found)
    assert any("module.remote" in n and "not a local path" in n for n in notices)


def test_module_directory_is_not_scanned_again_as_a_root(scanned: tuple) -> None:
    found, _, _ = scanned
    assert not any(n.startswith("aws_s3_bucket.this") for _, _, n in found)


def test_tf_json_is_read(scanned: tuple) -> None:
    found, _, _ = scanned
    assert ("iac.aws.kms-rotation", "extra.tf.json", "aws_kms_key.json_key") in found


def test_expression_evaluation() -> None:
    def lookup(namespace: str, name: str, rest: list[str]) -> object:
        values = {("var", "n"): 3, ("var", "s"): "x", ("local", "m"): {"k": "v"}}
        if (namespace, name) in values:
            value = values[(namespace, name)]
            return value["k"] if rest == ["k"] and isinstance(value, dict) else value
        if namespace == "aws_kms_key":
            return Ref(f"{namespace}.{name}", rest[0] if rest else "")
        return Unresolved(f"{namespace}.{name}")

    scope = Scope(lookup)
    assert resolve("${var.n}", scope) == 3
    assert resolve("a-${var.s}-${var.n}", scope) == "a-x-3"
    assert resolve("${local.m.k}", scope) == "v"
    assert resolve('${var.s == "x" ? "yes" : "no"}', scope) == "yes"
    assert resolve("${var.n != 3}", scope) is False
    assert resolve(["${true}", {"a": "${null}"}, "${1.5}"], scope) == [True, {"a": None}, 1.5]
    assert resolve("${aws_kms_key.k.arn}", scope) == Ref("aws_kms_key.k", "arn")
    assert resolve("${upper(var.s)}", scope) == "X"
    assert isinstance(resolve('${file("x.json")}', scope), Unresolved)
    assert isinstance(resolve("arn-${aws_kms_key.k.arn}", scope), Unresolved)
    assert isinstance(resolve("${var.zz ? 1 : 0}", scope), Unresolved)
    assert isinstance(resolve("${aws_kms_key.k.id == 1}", scope), Unresolved)
    assert isinstance(resolve("x-${{a = 1}}", scope), Unresolved)


def test_parse_errors_name_the_line() -> None:
    with pytest.raises(HclError, match="line 2"):
        parse_hcl("x.tf", 'resource "a" "b" {\n  x = \n}\n')
    with pytest.raises(HclError, match="line 1"):
        parse_tf_json("x.tf.json", "{nope")
    with pytest.raises(HclError, match="object"):
        parse_tf_json("x.tf.json", "[1]")


def test_lines_of_nested_blocks() -> None:
    parsed = parse_hcl(
        "x.tf",
        'resource "aws_instance" "i" {\n  ami = "x"\n'
        '  metadata_options {\n    http_tokens = "optional"\n  }\n}\n',
    )
    lines = parsed.lines[("resource", "aws_instance", "i")]
    assert (lines.start, lines.end) == (1, 6)
    assert lines.attrs == {"ami": 2, "metadata_options": 3, "metadata_options.http_tokens": 4}


EDGE_HCL = """# leading comment
resource "aws_s3_bucket" "b" {}
resource "aws_s3_bucket" "c" { bucket = "x" }

resource aws_instance "d" {
  user_data = <<EOT
hello ${var.x}
EOT
  dynamic "ebs_block_device" {
    for_each = var.v
    content {
      encrypted = true # trailing
    }
  }
  tags = {
    a = "b"
  } // comment
  /* block
  comment */
}
"""


def _meta_lines(text: str) -> dict[tuple[str, ...], tuple[int, int]]:
    """Block lines as python-hcl2's own parser (Lark with position tracking) reports them."""
    tree = hcl2.parses_to_tree(text)
    body = next(c for c in tree.children if isinstance(c, Tree) and c.data == "body")
    found: dict[tuple[str, ...], tuple[int, int]] = {}
    for child in body.children:
        if isinstance(child, Tree) and child.data in ("block", "attribute"):
            key = _block_key(child) if child.data == "block" else ("=", _text(child.children[0]))
            found.setdefault(key, (child.meta.line, child.meta.end_line))
    return found


@pytest.mark.parametrize(
    "text",
    [EDGE_HCL, 'a = 1\nm = {\n  k = "v"\n}\nl = [\n  1,\n  2,\n]\n'],
    ids=["blocks", "tfvars"],
)
def test_token_lines_match_position_tracking_parse(text: str) -> None:
    parsed = parse_hcl("x.tf", text)
    assert {k: (v.start, v.end) for k, v in parsed.lines.items()} == _meta_lines(text)
    expected = hcl2.transform(hcl2.parses_to_tree(text), discard_comments=True)
    assert parsed.data == hcl2.serialize(expected, serialization_options=_OPTIONS)


EXPRESSIONS_HCL = r"""a = "q\"uote"
b = "$${literal}"
c = "%{ if true }x%{ endif }"
d = 1.5
e = -3
f = 1e5
g = (1 + 2)
h = "pre-${var.x}-post"
in = 1
j = ["a", { k = "v" }, [1, 2]]
k = { "a b" = 1, c = "d", (var.k) = 2 }
l = var.flag ? "a" : "b"
m = ""
n = 010
o = "tab\there"
p = upper("x")
q = <<-EOT
  indented ${var.y}
  EOT
block "label with space" "${var.x}" {
  inner = 1
}
block "second"
{
  inner = null
}
dynamic "x" {
  for_each = [for k, v in var.m : v if k != "a"]
  content {}
}
for = true
"""


def _hcl2_data(text: str) -> object:
    tree = hcl2.parses_to_tree(text)
    return hcl2.serialize(hcl2.transform(tree, discard_comments=True), serialization_options=_OPTIONS)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in FIXTURES.parent.parent.rglob("*.tf") if p.name != "broken.tf"),
    ids=lambda p: p.name,
)
def test_direct_conversion_equals_python_hcl2_on_every_fixture(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert parse_hcl(str(path), text).data == _hcl2_data(text)


def test_direct_conversion_equals_python_hcl2_on_odd_expressions() -> None:
    data = parse_hcl("x.tf", EXPRESSIONS_HCL).data
    assert data == _hcl2_data(EXPRESSIONS_HCL)
    assert data["a"] == 'q"uote' and data["n"] == 10 and data["h"] == "pre-${var.x}-post"
    assert data["block"] == [{"label with space": {"${var.x}": {"inner": 1}}}, {"second": {"inner": None}}]


def test_attribute_and_block_of_one_name_is_an_error_as_in_python_hcl2() -> None:
    with pytest.raises(HclError, match="Attribute x is already defined"):
        parse_hcl("x.tf", "x = 1\nx {\n  y = 1\n}\n")
    assert parse_hcl("x.tf", "x {\n  y = 1\n}\nx = 1\n").data == {"x": 1}
    assert parse_hcl("x.tf", "").data == {}


def test_edge_lines_of_one_line_blocks_heredocs_and_comments() -> None:
    parsed = parse_hcl("x.tf", EDGE_HCL)
    one_line = parsed.lines[("resource", "aws_s3_bucket", "b")]
    assert (one_line.start, one_line.end) == (2, 2)
    lines = parsed.lines[("resource", "aws_instance", "d")]
    assert (lines.start, lines.end) == (5, 20)
    assert lines.attrs == {
        "user_data": 6,
        "ebs_block_device": 9,
        "ebs_block_device.for_each": 10,
        "ebs_block_device.content": 11,
        "ebs_block_device.content.encrypted": 12,
        "tags": 15,
    }


def test_parser_is_python_hcl2s_without_position_tracking() -> None:
    parser = hcl_module._parser()
    assert parser is not hcl2.parser.parser()
    assert parser.options.propagate_positions is False
    text = EDGE_HCL + EXPRESSIONS_HCL
    assert parser.parse(text + "\n") == hcl2.parses_to_tree(text)  # same tree (Tree equality ignores meta)


def test_both_builders_give_python_hcl2s_trees_and_leave_its_parser_alone() -> None:
    base = hcl2.parser.parser()
    text = EDGE_HCL + EXPRESSIONS_HCL
    for build in (hcl_module._unpositioned, hcl_module._reloaded):
        parser = build(base)
        assert parser.options.propagate_positions is False
        assert parser.parse(text + "\n") == hcl2.parses_to_tree(text)
    assert base.options.propagate_positions is not False  # python-hcl2's cached parser is unchanged


def _internals_differ(_base: Lark) -> Lark:
    raise AttributeError("this Lark release has no such internals")


def test_without_lark_internals_the_tables_are_loaded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hcl_module, "_unpositioned", _internals_differ)
    hcl_module._parser.cache_clear()
    try:
        parser = hcl_module._parser()
        assert parser is not hcl2.parser.parser() and parser.options.propagate_positions is False
        assert parse_hcl("x.tf", 'resource "a" "b" {\n  x = 1\n}\n').lines[("resource", "a", "b")].attrs == {
            "x": 2
        }
    finally:
        monkeypatch.undo()
        hcl_module._parser.cache_clear()


def test_without_lark_loader_python_hcl2s_parser_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hcl_module, "_unpositioned", _internals_differ)
    monkeypatch.delattr(Lark, "_load_from_dict")
    hcl_module._parser.cache_clear()
    try:
        assert hcl_module._parser() is hcl2.parser.parser()  # positions tracked: slower, same result
        parsed = parse_hcl("x.tf", 'resource "a" "b" {\n  x = 1\n}\n')
        lines = parsed.lines[("resource", "a", "b")]
        assert (lines.start, lines.end, lines.attrs) == (1, 3, {"x": 2})
    finally:
        monkeypatch.undo()
        hcl_module._parser.cache_clear()


def test_module_cycles_and_escapes_are_bounded(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "main.tf").write_text(
        'module "self" {\n  source = "./"\n}\nmodule "up" {\n  source = "../../x"\n}\n'
    )
    (tmp_path / "main.tf").write_text(
        'module "a" {\n  source = "./a"\n}\nmodule "none" {\n  source = "./missing"\n}\n'
    )
    _, notices = run_iac(tmp_path)
    text = " ".join(n.message for n in notices)
    assert "nested deeper than" in text
    assert "leaves the scan root" in text
    assert "no Terraform files" in text


def test_unresolvable_template_gives_unknowns_and_notices() -> None:
    findings, notices = run_iac(FIXTURES / "bad")
    messages = [n.message for n in notices]
    assert any("count not evaluated" in m for m in messages)
    assert any("unknown: iac.aws.s3-bucket-public-acl" in m and "var.b has no default" in m for m in messages)
    assert any("data.aws_kms_key." in m and "is read from the provider" in m for m in messages)
    assert not any(f.rule_id in ("iac.aws.s3-bucket-public-acl", "iac.aws.rds-encrypted") for f in findings)


def test_dynamic_blocks_are_unknown_not_missing(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "rules" {}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n'
        '  dynamic "logging" {\n    for_each = var.rules\n'
        '    content {\n      target_bucket = "logs"\n    }\n  }\n}\n'
    )
    findings, notices = run_iac(tmp_path)
    assert not any(f.rule_id == "iac.aws.s3-bucket-logging" for f in findings)
    assert any(
        "iac.aws.s3-bucket-logging" in n.message and "dynamic block 'logging'" in n.message for n in notices
    )


def test_heredoc_policy_documents_are_read(scanned: tuple) -> None:
    found, _, by_key = scanned
    assert ("iac.aws.iam-policy-no-admin", "iam.tf", "aws_iam_policy.p") in found
    assert "full admin" in by_key["iac.aws.iam-policy-no-admin aws_iam_policy.p"].message


def test_unexpected_tree_shape_goes_through_python_hcl2(monkeypatch: pytest.MonkeyPatch) -> None:
    def unexpected(_body: Tree) -> dict[str, object]:
        raise hcl_module._Unsupported("shape")

    monkeypatch.setattr(hcl_module, "_body", unexpected)
    assert parse_hcl("x.tf", EXPRESSIONS_HCL).data == _hcl2_data(EXPRESSIONS_HCL)
    with pytest.raises(hcl_module._Unsupported):
        hcl_module._name(Token("NAME", "bare"))  # names always come wrapped in a rule
    assert hcl_module._first_token(Tree("empty", [])) is None and hcl_module._end(Tree("empty", [])) == 1


PLAIN_EXPRESSIONS = [
    'a = "x ${ a.b } y"',
    'a = "${a.b}${c.d}"',
    'a = ["${a.b}", a.c, {x = a.d}]',
    'a = {x = {y = [1, "z"]}}',
    'a = { "k" = a.b, k2 : 2 }',
    "a = a.b.c.d.e",
    "a = a.b[0].c",
    "a = a.*.b",
    'a = "$${x}"',
    'a = "%{if true}x%{endif}"',
    'a = "\\u00e9"',
    "a = [\n # c\n 1, # d\n 2\n]",
    "a = {\n # c\n x = 1 # d\n}",
    "a = { x = 1, x = 2 }",
    'a = {"${a.b}" = 1}',
    "a = {(a.b) = 1}",
    "a = [true, false, null]",
    "a = -1",
    'a = "${var.x} - ${local.y.z}"',
    'a = "${x ? 1 : 2}"',
    'a = {Name = "${local.p.value}-ec2", "kubernetes.io/cluster/${local.e.value}" = "shared"}',
    'a = {"a b" = 1, a-b = 2}',
]


@pytest.mark.parametrize("text", PLAIN_EXPRESSIONS)
def test_direct_conversion_of_references_templates_and_collections(text: str) -> None:
    """References, templates of references, tuples and objects are converted without python-hcl2's
    rules; every other shape inside them still goes through those rules, with the same result."""
    assert parse_hcl("x.tf", text).data == _hcl2_data(text)
