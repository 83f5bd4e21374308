"""``block-ip`` through libnftables in process: the commands the nft program would run, served by
the library, everything else by the runner; and a real round trip in a network namespace where
libnftables is installed (skipped with the reason elsewhere; BASTION_LIBNFTABLES may name an
unpacked library, found through LD_LIBRARY_PATH with its dependencies)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from respond_helpers import FakeNft, alert

from bastion.respond.actions.base import CommandResult, NotInstalled, RecordingRunner
from bastion.respond.actions.libnft import LibNftRunner, load_libnftables
from bastion.respond.actions.nft import NftBlockIp
from bastion.respond.actions.registry import ActionContext, ActionType, build_action

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class FakeLibrary:
    """The library's side of FakeNft: a command line or a JSON batch, as nft_run_cmd_from_buffer
    receives them."""

    nft: FakeNft = field(default_factory=FakeNft)
    commands: list[tuple[str, bool]] = field(default_factory=list)

    def run(self, command: str, *, json_output: bool = False) -> CommandResult:
        """Answer through FakeNft with the argv the program would have had."""
        self.commands.append((command, json_output))
        flag = ["-j"] if json_output else []
        if command.startswith("{"):
            return self.nft.run(["nft", *flag, "-f", "-"], command)
        words = command.replace("{ ", "{").replace(" }", "}").split()
        return self.nft.run(["nft", *flag, *words])


class NoPrograms(RecordingRunner):
    """A machine where neither nft nor any other program is installed."""

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        """Every program is missing (the attempt is recorded)."""
        super().run(argv, stdin)
        raise NotInstalled(f"{argv[0]}: not installed")


def test_the_library_serves_nft_and_hands_the_rest_on() -> None:
    library, fallback = FakeLibrary(), RecordingRunner()
    runner = LibNftRunner(library, fallback)
    batch = json.dumps({"nftables": [{"add": {"table": {"family": "inet", "name": "bastion"}}}]})
    assert runner.run(["nft", "-j", "-f", "-"], batch).returncode == 0
    assert (
        runner.run(["nft", "get", "element", "inet", "bastion", "blocked4", "{ 192.0.2.1 }"]).returncode == 1
    )
    assert runner.run(["nft", "--version"]).stdout.startswith("nftables (libnftables")
    assert library.commands == [
        (batch, True),
        ("get element inet bastion blocked4 { 192.0.2.1 }", False),
    ]
    runner.run(["iptables", "-w", "-L"])
    runner.run(["nft", "-a", "list", "ruleset"])  # an option the runner does not map: the program
    assert [argv for argv, _ in fallback.calls] == [
        ("iptables", "-w", "-L"),
        ("nft", "-a", "list", "ruleset"),
    ]


def test_block_ip_round_trip_through_the_library() -> None:
    library = FakeLibrary()
    programs = NoPrograms()
    ctx = ActionContext(runner=programs, nft_library=library)
    assert ctx.has("nft") and ctx.has("sbin/nft")  # no program needed: the library is there
    action = build_action(ActionType.BLOCK_IP, {"timeout_s": 60}, alert(), ctx)
    assert isinstance(action, NftBlockIp) and isinstance(action.runner, LibNftRunner)
    saved = action.apply("198.51.100.4")
    assert library.nft.tables["inet bastion"]["sets"]["blocked4"] == {"198.51.100.4": 60}
    assert action.check("198.51.100.4") == "blocked"
    action.undo("198.51.100.4", saved)
    assert library.nft.tables == {}
    assert programs.calls == []  # no program was started
    forced = build_action(ActionType.BLOCK_IP, {"firewall": "iptables"}, alert(), ctx)
    assert not isinstance(forced, NftBlockIp)  # iptables asked for: the library is not used


def test_loading_is_optional() -> None:
    assert load_libnftables({"BASTION_LIBNFTABLES": "off"}) is None
    assert load_libnftables({"BASTION_LIBNFTABLES": "/nonexistent/libnftables.so.1"}) is None


REAL_ROUND_TRIP = textwrap.dedent(
    """
    from bastion.respond.actions.base import SubprocessRunner
    from bastion.respond.actions.libnft import load_libnftables
    from bastion.respond.actions.registry import ActionContext, ActionType, build_action
    from bastion.findings import Alert, Severity
    from datetime import UTC, datetime

    library = load_libnftables()
    before = library.run("list ruleset").stdout
    now = datetime.now(UTC)
    alert = Alert("t", Severity.HIGH, 1.0, "198.51.100.4", "ip", now, now, "test")
    ctx = ActionContext(runner=SubprocessRunner(), nft_library=library)
    action = build_action(ActionType.BLOCK_IP, {"timeout_s": 120}, alert, ctx)
    saved = action.apply("198.51.100.4")
    saved6 = action.apply("2001:db8::4")
    assert action.check("198.51.100.4") == "blocked" and action.check("2001:db8::4") == "blocked"
    ruleset = library.run("list ruleset").stdout
    assert "ip saddr @blocked4 drop" in ruleset and "198.51.100.4 timeout" in ruleset, ruleset
    assert action.apply("198.51.100.4") == {"already_blocked": True}
    action.undo("198.51.100.4", saved)
    assert action.check("198.51.100.4") == "absent"
    action.undo("2001:db8::4", saved6)
    assert library.run("list ruleset").stdout == before
    print("round trip ok")
    """
)


@pytest.mark.skipif(load_libnftables() is None, reason="libnftables is not installed on this machine")
@pytest.mark.skipif(
    not ROOT or shutil.which("unshare") is None, reason="needs root and unshare for a network namespace"
)
def test_real_round_trip_through_libnftables_in_a_network_namespace() -> None:
    done = subprocess.run(
        ["unshare", "--net", sys.executable, "-c", REAL_ROUND_TRIP],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "round trip ok" in done.stdout, done.stderr


def test_one_context_per_process() -> None:
    """The server builds a responder per request: the library is loaded once, not each time."""
    assert load_libnftables() is load_libnftables()
