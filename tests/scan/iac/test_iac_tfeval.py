"""Terraform expressions computed from the files: functions, operators, for, templates; and what
stays unknown, with the reason."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from iac_helpers import run_iac

from bastion.scan.iac.model import Ref, Unresolved
from bastion.scan.iac.tfexpr import Scope, resolve

_VARS: dict[str, Any] = {"x": "y", "m": {"a": 1}, "l": ["a", "b"], "n": 3}


def _lookup(namespace: str, name: str, rest: list[str]) -> Any:
    if namespace == "var" and name in _VARS:
        value = _VARS[name]
        for key in rest:
            if isinstance(value, dict):
                value = value.get(key, Unresolved(f"no {key}", error=True))
            else:
                value = value[int(key)]
        return value
    if namespace == "aws_s3_bucket":
        return Ref(f"{namespace}.{name}", rest[0] if rest else "")
    return Unresolved(f"{namespace}.{name} has no default")


SCOPE = Scope(_lookup)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('${merge({x = 1}, {y = "b"}, null)}', {"x": 1, "y": "b"}),
        ('${concat(["a"], var.l)}', ["a", "a", "b"]),
        ('${lookup({k = "v"}, "k", "d")}', "v"),
        ('${lookup({k = "v"}, "z", "d")}', "d"),
        ('${format("%s-%03d/%q %t %v%%", "a", 3, "q", true, 1.0)}', 'a-003/"q" true 1%'),
        ('${toset(["b", "a", "b"])}', ["a", "b"]),
        ("${tolist(var.l)}", ["a", "b"]),
        ('${var.x == "y" ? "1" : "2"}', "1"),
        ("${var.n >= 3 && !false || false}", True),
        ("${(var.n + 1) * 2 - 10 / 5 % 3}", 6),
        ('${[for s in var.l : upper(s) if s != "b"]}', ["A"]),
        ("${{for k, v in var.m : k => v + 1}}", {"a": 2}),
        ('${{for s in ["a", "a"] : s => s...}}', {"a": ["a", "a"]}),
        (
            '${jsonencode({A = ["s3:*"], B = 1, C = true, D = null})}',
            '{"A":["s3:*"],"B":1,"C":true,"D":null}',
        ),
        ('arn:${var.x}:${var.m.a}:${var.m["a"]}', "arn:y:1:1"),
        ('${cidrsubnet("10.0.0.0/16", 8, 2)}', "10.0.2.0/24"),
        ('${cidrhost("10.0.0.0/24", 5)}', "10.0.0.5"),
        ('${try(var.m.zz, "dflt")}', "dflt"),
        ("${can(var.m.zz)}", False),
        ('${coalesce("", null, "x")}', "x"),
        ('${join(",", compact(["a", "", null, "b"]))}', "a,b"),
        ("${element(var.l, 3)}", "b"),
        ("${length(var.m)}", 1),
        ('${split(",", "a,b")}', ["a", "b"]),
        ('${replace("a-b", "/-/", "_")}', "a_b"),
        ('${contains(var.l, "b")}', True),
        ('${zipmap(["a"], [1])}', {"a": 1}),
        ('${flatten([["a"], ["b", ["c"]]])}', ["a", "b", "c"]),
        ('${upper("${var.x}")}', "Y"),
        ("$${literal}", "${literal}"),
        ('${base64encode("hi")}', "aGk="),
        ("${keys({b = 1, a = 2})}", ["a", "b"]),
        ("${-var.n}", -3),
        ('${substr("hello", 1, 3)}', "ell"),
    ],
)
def test_computed(text: str, expected: Any) -> None:
    assert resolve(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("${var.nope}", "var.nope has no default"),
        ("${var.nope}-x", "var.nope has no default"),
        ('${var.nope == "a" ? 1 : 2}', "var.nope has no default"),
        ('${file("x.json")}', "function file() is not evaluated"),
        ('${format("%s", var.nope)}', "var.nope has no default"),
        ("arn-${aws_s3_bucket.b.arn}", "aws_s3_bucket.b.arn is known after apply"),
        ("${timestamp()}", "only known when Terraform runs"),
        ("${element([], 1)}", "element() failed"),
        ("${1 +}", "is not evaluated"),
        ('${"unterminated}', "is not evaluated"),
        ("%{ if true }x%{ endif }", ""),
        ("${" + "(" * 200 + "1" + ")" * 200 + "}", "is not evaluated"),
    ],
)
def test_unknown_with_reason(text: str, reason: str) -> None:
    got = resolve(text, SCOPE)
    if not reason:
        assert got == text  # a directive without ${ is literal text to python-hcl2's reader
        return
    assert isinstance(got, Unresolved) and reason in got.reason, got


def test_structures_keep_their_known_parts() -> None:
    got = resolve('${jsonencode({R = aws_s3_bucket.b.arn, A = "s3:*"})}', SCOPE)
    assert got == {"R": Ref("aws_s3_bucket.b", "arn"), "A": "s3:*"}
    assert resolve('${concat(["0.0.0.0/0"], [var.nope])}', SCOPE)[0] == "0.0.0.0/0"
    assert isinstance(resolve("${aws_s3_bucket.b[*].id}", SCOPE), Ref)  # set, value known after apply


def test_locals_functions_and_local_module_values_reach_policies(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'locals {\n  open = ["0.0.0.0/0"]\n  rules = { ssh = 22 }\n}\n'
        'resource "aws_security_group" "g" {\n  ingress {\n'
        '    from_port = lookup(local.rules, "ssh")\n    to_port = local.rules.ssh\n'
        '    protocol = "tcp"\n    cidr_blocks = concat(tolist(local.open), [])\n  }\n}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = format("%s-%s", "logs", "x")\n}\n'
    )
    findings, notices = run_iac(tmp_path)
    assert any(f.rule_id == "iac.aws.security-group-open-ssh" for f in findings)
    assert not [n for n in notices if "aws_security_group.g" in n.message]


def test_unknowns_are_counted_with_their_causes(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "cidr" {}\ndata "aws_vpc" "v" {}\n'
        'resource "aws_security_group_rule" "r" {\n  type = "ingress"\n  from_port = 22\n  to_port = 22\n'
        '  protocol = "tcp"\n  cidr_blocks = [var.cidr]\n  security_group_id = "sg-1"\n'
        '  description = "d"\n}\n'
        'resource "aws_security_group_rule" "s" {\n  type = "ingress"\n  from_port = 3389\n  to_port = 3389\n'
        '  protocol = "tcp"\n  cidr_blocks = [data.aws_vpc.v.cidr_block]\n  security_group_id = "sg-1"\n'
        '  description = "d"\n}\n'
    )
    _, notices = run_iac(tmp_path)
    summary = [n.message for n in notices if n.message.startswith("iac: ")]
    assert len(summary) == 1
    match = re.match(r"iac: (\d+) of (\d+) policy evaluations \(([\d.]+) %\) ended unknown: (.*)", summary[0])
    assert match is not None
    unknown, total = int(match[1]), int(match[2])
    assert 0 < unknown < total
    per_rule = sum(
        int(m[1]) if (m := re.match(r"unknown: (\d+) policies", n.message)) else 1
        for n in notices
        if n.message.startswith("unknown:")
    )
    assert per_rule == unknown
    assert (
        "a variable or parameter without a value" in match[4]
        and "a data source read from the cloud" in match[4]
    )


def test_file_templatefile_and_path_module_read_local_files(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "admin.json").write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    )
    (tmp_path / "modules" / "web").mkdir(parents=True)
    (tmp_path / "modules" / "web" / "boot.sh.tpl").write_text(
        "#!/bin/bash\nexport DB_PASSWORD=${db_password}\n"
    )
    (tmp_path / "modules" / "web" / "main.tf").write_text(
        'variable "pw" {}\nresource "aws_instance" "w" {\n  ami = "a"\n'
        '  user_data = templatefile("${path.module}/boot.sh.tpl", { db_password = var.pw })\n}\n'
    )
    (tmp_path / "main.tf").write_text(
        'resource "aws_iam_policy" "p" {\n  policy = file("${path.module}/policies/admin.json")\n}\n'
        'resource "aws_iam_policy" "q" {\n  policy = file("../outside.json")\n}\n'
        'resource "aws_iam_policy" "r" {\n  policy = fileexists("nope.json") ? file("nope.json") : "{}"\n}\n'
        'module "web" {\n  source = "./modules/web"\n  pw = "Tq8vLm2pR8wZx9Kd"\n}\n'
    )
    findings, notices = run_iac(tmp_path)
    found = {(f.rule_id, str(f.metadata["resource"])) for f in findings}
    assert ("iac.aws.iam-policy-no-admin", "aws_iam_policy.p") in found
    assert ("iac.aws.ec2-user-data-secrets", "module.web.aws_instance.w") in found
    assert any(
        "aws_iam_policy.q" in n.message and "outside the scanned directory" in n.message for n in notices
    )
    assert not [n for n in notices if "aws_iam_policy.r" in n.message]


def test_local_module_outputs_are_computed(tmp_path: Path) -> None:
    (tmp_path / "modules" / "net").mkdir(parents=True)
    (tmp_path / "modules" / "net" / "main.tf").write_text(
        'variable "open" { default = false }\n'
        'output "cidrs" { value = var.open ? ["0.0.0.0/0"] : ["10.0.0.0/8"] }\n'
        'output "port" { value = 22 }\n'
    )
    (tmp_path / "main.tf").write_text(
        'module "net" {\n  source = "./modules/net"\n  open = true\n}\n'
        'module "remote" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n'
        'resource "aws_security_group_rule" "r" {\n  type = "ingress"\n'
        "  from_port = module.net.port\n  to_port = module.net.port\n"
        '  protocol = "tcp"\n  cidr_blocks = module.net.cidrs\n  security_group_id = "sg-1"\n}\n'
        'resource "aws_security_group_rule" "s" {\n  type = "ingress"\n  from_port = 22\n  to_port = 22\n'
        '  protocol = "tcp"\n  cidr_blocks = module.remote.cidrs\n  security_group_id = "sg-1"\n}\n'
    )
    findings, notices = run_iac(tmp_path)
    assert any(
        f.rule_id == "iac.aws.security-group-rule-open-ssh"
        and f.metadata["resource"] == "aws_security_group_rule.r"
        for f in findings
    )
    assert any(
        "aws_security_group_rule.s" in n.message and "not a local module inside the scan" in n.message
        for n in notices
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${coalescelist([], var.l)}", ["a", "b"]),
        ('${one(["x"])}', "x"),
        ("${one([])}", None),
        ('${slice(["a", "b", "c"], 1, 3)}', ["b", "c"]),
        ('${reverse(["a", "b"])}', ["b", "a"]),
        ('${index(["a", "b"], "b")}', 1),
        ("${sum([1, 2.5])}", 3.5),
        ('${alltrue([true, "true"])}', True),
        ("${anytrue([false])}", False),
        ("${min(3, 1, 2)}", 1.0),
        ("${max(3, 1)}", 3.0),
        ("${abs(-2)}", 2.0),
        ("${ceil(1.2)}", 2),
        ("${floor(1.8)}", 1),
        ('${base64decode("aGk=")}', "hi"),
        ('${jsondecode("{\\"a\\": [1]}")}', {"a": [1]}),
        ('${urlencode("a b&c")}', "a%20b%26c"),
        ('${length(sha256("x"))}', 64),
        ('${length(md5("x"))}', 32),
        ('${length(sha1("x"))}', 40),
        ('${tonumber("1.5")}', 1.5),
        ('${tobool("true")}', True),
        ("${tostring(1)}", "1"),
        ('${trimspace("  a ")}', "a"),
        ('${trim("xax", "x")}', "a"),
        ('${trimprefix("abc", "a")}', "bc"),
        ('${trimsuffix("abc", "c")}', "ab"),
        ('${startswith("abc", "a")}', True),
        ('${endswith("abc", "a")}', False),
        ('${title("ab cd")}', "Ab Cd"),
        ('${lower("AB")}', "ab"),
        ('${cidrnetmask("10.0.0.0/16")}', "255.255.0.0"),
        ('${cidrhost("10.0.0.0/24", -2)}', "10.0.0.254"),
        ("${range(3)}", [0, 1, 2]),
        ("${range(1, 7, 3)}", [1, 4]),
        ("${values({b = 1, a = 2})}", [2, 1]),
        ('${tomap({a = "1"})}', {"a": "1"}),
        ('${format("%5s|%-3d|%x|%.1f", "a", 7, 255, 1.25)}', "    a|7  |ff|1.2"),
        ('${distinct(["a", "a", "b"])}', ["a", "b"]),
        ("${var.l[0]}", "a"),
        ('${"abc"}', "abc"),
        ("${(1)}", 1),
        ("${1.5e1}", 15.0),
        ("${5 % 3}", 2),
        ("${1 < 2 && 2 <= 2 && 3 > 2 && 2 >= 3 == false}", True),
        ('${{"k" = 1, k2: 2}}', {"k": 1, "k2": 2}),
        ("${{for i, v in var.l : v => i}}", {"a": 0, "b": 1}),
        ("${[for k, v in var.m : k]}", ["a"]),
        ("${sensitive(1)}", 1),
    ],
)
def test_more_functions_and_operators(text: str, expected: Any) -> None:
    assert resolve(text, SCOPE) == expected


@pytest.mark.parametrize(
    "text",
    [
        '${merge("a")}',
        '${concat("a")}',
        '${lookup({a = 1}, "b")}',
        '${lookup("a", "b")}',
        "${element(var.nope, 1)}",
        '${contains(["a", var.nope], "b")}',
        "${!var.nope}",
        '${!"x"}',
        '${-"x"}',
        "${var.nope + 1}",
        '${"a" < 1}',
        "${1 / 0}",
        '${1 && "x"}',
        '${"x" ? 1 : 2}',
        "${{(var.nope) = 1}}",
        "${[for s in var.nope : s]}",
        "${[for s in 3 : s]}",
        "${[for s in var.l : s if var.nope]}",
        "${{for s in var.l : var.nope => s}}",
        '${"abc"[0]}',
        '${var.m["zz"]}',
        "${var}",
        "${unknownthing}",
        "${path.cwd}",
        "${terraform.workspace}",
        "${self.id}",
        "${uuid()}",
        "${one([1, 2])}",
        '${tobool("maybe")}',
        "${tonumber(true)}",
        "${coalesce(null)}",
        "${try(var.m.zz)}",
        "${can(var.nope)}",
        '${concat(["a"], var.nope...)}',
        '${zipmap(["a"], [1, 2])}',
        "${range(100000)}",
    ],
)
def test_unknown_or_error_never_a_value(text: str) -> None:
    got = resolve(text, SCOPE)
    assert isinstance(got, Unresolved), (text, got)
