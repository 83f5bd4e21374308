"""The Python policies, case by case."""

from __future__ import annotations

from bastion.scan.iac.conditions import Context
from bastion.scan.iac.docker import parse_dockerfile
from bastion.scan.iac.model import Outcome, Ref, Resource, Unresolved
from bastion.scan.iac.pychecks import PYTHON_CHECKS


def _run(name: str, attrs: dict, kind: str = "aws_iam_policy") -> tuple[Outcome, str]:
    resource = Resource(kind, "r", "f", 1, 1, attrs)
    result = PYTHON_CHECKS[name](resource, Context([resource], PYTHON_CHECKS))
    return result.outcome, result.reason


def test_admin_policy_variants() -> None:
    allow_all = {"Statement": {"Effect": "Allow", "Action": ["*"], "Resource": "*"}}
    assert _run("iam_no_admin", {"policy": allow_all})[0] is Outcome.FAIL
    deny_all = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    assert _run("iam_no_admin", {"policy": deny_all})[0] is Outcome.PASS
    assert _run("iam_no_admin", {"name": "x"})[0] is Outcome.PASS
    assert _run("iam_no_admin", {"policy": Unresolved("var.p has no default")}) == (
        Outcome.UNKNOWN,
        "var.p has no default",
    )
    assert (
        _run("iam_no_admin", {"policy": Ref("data.aws_iam_policy_document.x", "json")})[0] is Outcome.UNKNOWN
    )
    assert _run("iam_no_admin", {"policy": "not json ${x}"})[0] is Outcome.UNKNOWN
    assert _run("iam_no_admin", {"policy": 3})[0] is Outcome.PASS


def test_wildcard_actions() -> None:
    assert _run("iam_no_wildcard_action", {"policy": {"Statement": [{"Action": "s3:*"}]}})[0] is Outcome.FAIL
    assert _run("iam_no_wildcard_action", {"PolicyDocument": {"Statement": [{"Action": "s3:Get*"}]}})[0] is (
        Outcome.PASS
    )
    assert _run("iam_no_wildcard_action", {})[0] is Outcome.PASS
    assert _run("iam_no_wildcard_action", {"policy": Unresolved("u")})[0] is Outcome.UNKNOWN


def test_dockerfile_user() -> None:
    def verdict(text: str) -> Outcome:
        (resource,) = parse_dockerfile("Dockerfile", text)
        return PYTHON_CHECKS["docker_non_root"](resource, Context([resource], PYTHON_CHECKS)).outcome

    assert verdict("FROM a:1\nUSER 0:0\n") is Outcome.FAIL
    assert verdict("FROM a:1\nUSER ${APP_USER}\n") is Outcome.UNKNOWN
    assert verdict("FROM a:1 AS b\nUSER app\nFROM b\n") is Outcome.FAIL  # the final stage has no USER
    assert verdict("FROM a:1\nUSER 1000\n") is Outcome.PASS


def test_network_policy_by_namespace() -> None:
    workload = Resource("k8s.Deployment", "w", "f", 1, 1, {"_namespace": "a"}, aliases=("k8s.workload",))
    other = Resource("k8s.NetworkPolicy", "p", "f", 1, 1, {"metadata": {"namespace": "b"}})
    check = PYTHON_CHECKS["k8s_network_policy"]
    assert check(workload, Context([workload, other], PYTHON_CHECKS)).outcome is Outcome.FAIL
    default = Resource("k8s.NetworkPolicy", "p", "f", 1, 1, {"metadata": {}})
    plain = Resource("k8s.Pod", "w", "f", 1, 1, {}, aliases=("k8s.workload",))
    assert check(plain, Context([plain, default], PYTHON_CHECKS)).outcome is Outcome.PASS
