"""Allow-list bypass attempts are all refused; near misses are not protected."""

from __future__ import annotations

import pytest

from bastion.respond.actions.base import TargetKind
from bastion.respond.safeguards import AllowList, parse_ip, user_skeleton

ALLOW = AllowList.build(
    ips=["10.0.0.0/8", "192.0.2.10", "2001:db8:1::/48"],
    users=["root", "BreakGlass", "svc-backup"],
    hosts=["monitor.example.org"],
    other=["a1b2c3d4e5f6", "AKIAEXAMPLEKEY000001"],
)


@pytest.mark.parametrize(
    "target",
    [
        "10.1.2.3",
        "::ffff:10.1.2.3",  # IPv4-mapped IPv6
        "::ffff:a01:203",  # the same, hex form
        "[::ffff:192.0.2.10]",  # bracketed
        "::10.0.0.1",  # deprecated IPv4-compatible
        "2002:0a00:0001::1",  # 6to4 wrapping 10.0.0.1
        "192.0.2.10/32",
        "192.0.2.0/24",  # a range containing the protected host
        "10.0.0.0/7",  # a wider range overlapping the protected one
        "0.0.0.0/0",
        "::ffff:10.0.0.0/104",  # mapped range
        "2001:db8:1:2::5",
        "2001:db8::/32",
        "2001:db8:1::1%eth0",  # zone id
        "010.0.0.1",  # unreadable: refused rather than guessed
        "not-an-ip",
    ],
)
def test_ip_bypass_attempts_are_refused(target: str) -> None:
    assert ALLOW.protects(TargetKind.IP, target) is not None


@pytest.mark.parametrize(
    "target", ["11.0.0.1", "192.0.2.11", "::ffff:11.1.2.3", "2001:db8:2::1", "192.0.2.12/31"]
)
def test_ip_near_misses_are_not_protected(target: str) -> None:
    assert ALLOW.protects(TargetKind.IP, target) is None


@pytest.mark.parametrize(
    "name",
    [
        "ROOT",
        "Root",
        "rооt",  # Cyrillic о  # noqa: RUF001, RUF003
        "ｒｏｏｔ",  # fullwidth  # noqa: RUF001
        "r\u200boot",  # zero-width space
        "r\u00adoot",  # soft hyphen
        "breakglass",
        "BREAKGLASS",
        "ΒreakGlass",  # Greek capital beta  # noqa: RUF001
        "CORP\\root",
        "svc\u2011backup",  # non-breaking hyphen
        "ro\u0301ot",  # combining accent
    ],
)
def test_user_bypass_attempts_are_refused(name: str) -> None:
    assert ALLOW.protects(TargetKind.USER, name) is not None


@pytest.mark.parametrize("name", ["rooty", "alice", "breakglass2", "svc-backups"])
def test_user_near_misses_are_not_protected(name: str) -> None:
    assert ALLOW.protects(TargetKind.USER, name) is None


def test_hosts_and_ids() -> None:
    assert ALLOW.protects(TargetKind.HOST, "MONITOR.example.org.") is not None
    assert ALLOW.protects(TargetKind.HOST, "monitor2.example.org") is None
    assert ALLOW.protects(TargetKind.TOKEN, "a1b2c3d4e5f6") is not None
    assert ALLOW.protects(TargetKind.ACCESS_KEY, "AKIAEXAMPLEKEY000002") is None
    assert ALLOW.protects(TargetKind.NONE, "anything") is None


def test_parse_ip_canonical_forms() -> None:
    assert str(parse_ip("::ffff:198.51.100.1")) == "198.51.100.1"
    assert parse_ip("300.1.1.1") is None
    assert user_skeleton("Ａｄｍｉｎ") == "admin"  # noqa: RUF001


def test_bad_allow_list_entry() -> None:
    with pytest.raises(ValueError, match="not an address"):
        AllowList.build(ips=["10.0.0.0/33"])
