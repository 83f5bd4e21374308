"""Host actions for real where the machine allows: a Linux account on a throwaway user, and the
nftables set (skipped, with the reason, where ``nft`` is not installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence

import pytest
from respond_helpers import FakeNft

from bastion.respond.actions.base import (
    ActionError,
    CommandResult,
    RecordingRunner,
    SubprocessRunner,
    TargetGone,
)
from bastion.respond.actions.linux import LockLinuxAccount
from bastion.respond.actions.nft import NftBlockIp

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
HAVE_USERADD = shutil.which("useradd") is not None and shutil.which("usermod") is not None


def _shadow_line(name: str) -> str:
    return subprocess.run(
        ["getent", "shadow", name], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def throwaway_user() -> Iterator[str]:
    if not (ROOT and HAVE_USERADD):
        pytest.skip("needs root and useradd/usermod to create a throwaway user")
    name = f"bstt{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    # a real password hash, so that the lock mark is visible and reversible
    subprocess.run(["usermod", "-p", "$6$salt$" + "x" * 86, name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


def test_lock_round_trip_leaves_shadow_exactly_as_before(throwaway_user: str) -> None:
    action = LockLinuxAccount(SubprocessRunner())
    before = _shadow_line(throwaway_user)
    assert action.check(throwaway_user) == "unlocked"
    saved = action.apply(throwaway_user)
    locked = _shadow_line(throwaway_user).split(":")
    assert locked[1].startswith("!") and locked[7] == "1"
    assert action.check(throwaway_user) == "locked"
    action.undo(throwaway_user, json.loads(json.dumps(saved)))
    assert _shadow_line(throwaway_user) == before


def test_lock_of_an_already_locked_user_stays_locked_after_undo(throwaway_user: str) -> None:
    subprocess.run(["usermod", "-L", throwaway_user], check=True)
    before = _shadow_line(throwaway_user)
    action = LockLinuxAccount(SubprocessRunner())
    saved = action.apply(throwaway_user)
    action.undo(throwaway_user, saved)
    assert _shadow_line(throwaway_user) == before


def test_lock_kills_the_users_processes(throwaway_user: str) -> None:
    sleeper = subprocess.Popen(
        ["setpriv", "--reuid", throwaway_user, "--regid", throwaway_user, "--clear-groups", "sleep", "60"]
    )
    try:
        LockLinuxAccount(SubprocessRunner()).apply(throwaway_user)
        assert sleeper.wait(timeout=10) == -9
    finally:
        sleeper.kill()


def test_vanished_user_is_one_line(throwaway_user: str) -> None:
    subprocess.run(["userdel", throwaway_user], check=True)
    with pytest.raises(TargetGone, match="does not exist"):
        LockLinuxAccount(SubprocessRunner()).apply(throwaway_user)


def test_lock_command_sequence() -> None:
    runner = RecordingRunner({"getent shadow eve": CommandResult(0, "eve:$6$abc:20000:0:99999:7:::\n")})
    action = LockLinuxAccount(runner)
    saved = action.apply("eve")
    assert [c[0] for c in runner.calls] == [
        ("getent", "shadow", "eve"),
        ("usermod", "-e", "1", "-L", "eve"),
        ("pkill", "-KILL", "-u", "eve"),
    ]
    assert saved == {"was_locked": False, "expire": ""}
    with pytest.raises(ActionError, match="not a Linux user name"):
        action.plan("eve; rm -rf /")


def test_nft_command_sequence() -> None:
    nft = FakeNft()
    action = NftBlockIp(nft, timeout_s=900)
    saved = action.apply("::ffff:198.51.100.4")
    argvs = [c[0] for c in nft.calls]
    assert argvs == [
        ("nft", "get", "element", "inet", "bastion", "blocked4", "{ 198.51.100.4 }"),
        ("nft", "-j", "-f", "-"),
    ]
    batch = json.loads(nft.calls[1][1] or "")["nftables"]
    assert batch[0] == {"add": {"table": {"family": "inet", "name": "bastion"}}}
    assert batch[-1] == {
        "add": {"element": {"family": "inet", "table": "bastion", "name": "blocked4",
                            "elem": [{"elem": {"val": "198.51.100.4", "timeout": 900}}]}}
    }  # fmt: skip
    assert {"flush": {"chain": {"family": "inet", "table": "bastion", "name": "input"}}} in batch
    assert saved == {"already_blocked": False}
    assert action.check("198.51.100.4") == "blocked"
    action.undo("198.51.100.4", saved)
    assert nft.tables == {}
    with pytest.raises(ActionError, match="not one IP address"):
        action.plan("198.51.100.0/24")


def test_nft_ipv6_and_already_blocked() -> None:
    nft = FakeNft()
    action = NftBlockIp(nft)
    first = action.apply("2001:db8::7")
    assert "2001:db8::7" in nft.tables["inet bastion"]["sets"]["blocked6"]
    again = action.apply("2001:db8::7")
    assert again == {"already_blocked": True}
    action.undo("2001:db8::7", again)
    assert action.check("2001:db8::7") == "blocked"  # it was there before the second apply
    action.undo("2001:db8::7", first)
    assert nft.tables == {}


NFT = os.environ.get("BASTION_TEST_NFT") or shutil.which("nft")
"""The nft binary for the real round trip (BASTION_TEST_NFT may name an unpacked one)."""


@pytest.mark.skipif(NFT is None, reason="nft is not installed on this machine: real round trip not run")
@pytest.mark.skipif(
    not ROOT or shutil.which("unshare") is None, reason="needs root and unshare for a network namespace"
)
def test_nft_real_round_trip_in_a_network_namespace() -> None:
    assert NFT is not None
    ns = subprocess.Popen(["unshare", "--net", "sleep", "60"])

    class NamespacedRunner(SubprocessRunner):
        def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
            return super().run(["nsenter", f"--net=/proc/{ns.pid}/ns/net", *argv], stdin)

    try:
        time.sleep(0.2)  # let unshare enter the new namespace
        runner = NamespacedRunner()
        before = runner.run([NFT, "list", "ruleset"]).stdout
        action = NftBlockIp(runner, timeout_s=120, nft=NFT)
        saved = action.apply("::ffff:198.51.100.4")
        saved6 = action.apply("2001:db8::4")
        assert action.check("198.51.100.4") == "blocked"
        assert action.check("2001:db8::4") == "blocked"
        ruleset = runner.run([NFT, "list", "ruleset"]).stdout
        assert "ip saddr @blocked4 drop" in ruleset and "198.51.100.4 timeout" in ruleset
        action.undo("198.51.100.4", saved)
        assert action.check("198.51.100.4") == "absent"
        action.undo("2001:db8::4", saved6)
        assert runner.run([NFT, "list", "ruleset"]).stdout == before
    finally:
        ns.kill()
        ns.wait()
