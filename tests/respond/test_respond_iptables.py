"""``block-ip`` through iptables where nft is absent: the fallback, its plan, and a real round trip
in a network namespace the test creates (skipped, with the reason, where iptables or a namespace is
not available; BASTION_TEST_IPTABLES / BASTION_TEST_IP6TABLES may name unpacked binaries)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import yaml
from respond_helpers import alert, write_playbook

from bastion.cli.main import main
from bastion.respond.actions.base import ActionError, CommandResult, NotInstalled, RecordingRunner
from bastion.respond.actions.iptables import CHAIN, IptablesBlockIp
from bastion.respond.actions.nft import NftBlockIp
from bastion.respond.actions.registry import ActionContext, ActionType, build_action

IPTABLES = os.environ.get("BASTION_TEST_IPTABLES") or shutil.which("iptables")
IP6TABLES = os.environ.get("BASTION_TEST_IP6TABLES") or shutil.which("ip6tables")
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


class NoNft(RecordingRunner):
    """A machine without nft: running it fails as a missing program does."""

    probes: int = 0

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        """Refuse nft, record the rest."""
        if argv[0] == "nft":
            self.probes += 1
            raise NotInstalled("nft: not installed")
        return super().run(argv, stdin)


def test_auto_falls_back_to_iptables_only_where_nft_is_absent() -> None:
    runner = NoNft()
    ctx = ActionContext(runner=runner)
    action = build_action(ActionType.BLOCK_IP, {}, alert(), ctx)
    assert isinstance(action, IptablesBlockIp)
    assert ctx.installed == {"nft": False}
    build_action(ActionType.BLOCK_IP, {}, alert(), ctx)  # probed once, not per alert
    assert runner.probes == 1 and runner.calls == []
    present = ActionContext(runner=RecordingRunner())
    assert isinstance(build_action(ActionType.BLOCK_IP, {}, alert(), present), NftBlockIp)
    forced = build_action(
        ActionType.BLOCK_IP, {"firewall": "iptables", "iptables": "/sbin/x"}, alert(), present
    )
    assert isinstance(forced, IptablesBlockIp) and forced.iptables == "/sbin/x"


def test_plan_names_every_command_and_the_ttl() -> None:
    plan = IptablesBlockIp(RecordingRunner()).plan("2001:db8::7")
    assert plan.target == "2001:db8::7" and "TTL" in plan.summary
    assert plan.steps[-1] == f"ip6tables -w -A {CHAIN} -s 2001:db8::7/128 -j DROP"
    with pytest.raises(ActionError, match="not one IP address"):
        IptablesBlockIp(RecordingRunner()).plan("10.0.0.0/8")


def test_a_refused_command_is_one_line_error() -> None:
    runner = RecordingRunner(
        answers={
            "iptables -w -C": CommandResult(1),
            "iptables -w -n": CommandResult(1),
            "iptables -w -N": CommandResult(4, "", "iptables v1.8.9: can't initialize iptables table\nmore"),
        }
    )
    with pytest.raises(ActionError, match=r"^iptables -N BASTION-BLOCK: iptables v1.8.9: can't init"):
        IptablesBlockIp(runner).apply("192.0.2.1")


@pytest.fixture
def netns(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """iptables and ip6tables wrappers that run inside a network namespace made for this test."""
    if IPTABLES is None or IP6TABLES is None:
        pytest.skip("iptables/ip6tables not installed on this machine: real round trip not run")
    if not ROOT or shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.skip("needs root, unshare and nsenter for a network namespace")
    ns = subprocess.Popen(["unshare", "--net", "sleep", "120"])
    try:
        time.sleep(0.2)  # let unshare enter the new namespace
        probe = subprocess.run(
            ["nsenter", f"--net=/proc/{ns.pid}/ns/net", "true"], capture_output=True, check=False
        )
        if probe.returncode != 0 or os.readlink(f"/proc/{ns.pid}/ns/net") == os.readlink("/proc/self/ns/net"):
            pytest.skip("could not create a network namespace here")
        wrappers = []
        for name, real in (("iptables", IPTABLES), ("ip6tables", IP6TABLES)):
            path = tmp_path / name
            path.write_text(f'#!/bin/sh\nexec nsenter --net=/proc/{ns.pid}/ns/net {real} "$@"\n')
            path.chmod(path.stat().st_mode | stat.S_IXUSR)
            wrappers.append(path)
        yield wrappers[0], wrappers[1]
    finally:
        ns.kill()
        ns.wait()


def _rules(tool: Path) -> str:
    return subprocess.run([str(tool), "-w", "-S"], capture_output=True, text=True, check=True).stdout


def test_real_round_trip_through_the_cli(
    netns: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ipt, ip6t = netns
    monkeypatch.setenv("BASTION_RESPOND_LEDGER", str(tmp_path / "ledger.sqlite"))
    before4, before6 = _rules(ipt), _rules(ip6t)
    params = {"firewall": "iptables", "iptables": str(ipt), "ip6tables": str(ip6t)}
    pb = tmp_path / "pb"
    write_playbook(pb, mode="dry-run", actions=[{"type": "block-ip", "params": params}])
    guards = tmp_path / "guards.yaml"
    guards.write_text(yaml.safe_dump({"version": 1, "allow_ips": ["10.0.0.0/8"]}), encoding="utf-8")
    alerts = tmp_path / "alerts.jsonl"
    lines = [alert(entity=e).to_dict() for e in ("198.51.100.4", "2001:db8::7", "::ffff:10.1.2.3")]
    alerts.write_text("".join(json.dumps(a) + "\n" for a in lines), encoding="utf-8")
    run = ["respond", "run", "--playbooks", str(pb), "--alerts", str(alerts), "--safeguards", str(guards),
           "--format", "json"]  # fmt: skip
    # dry-run first: planned, nothing changed; the allow-list holds for an IPv4-mapped address
    assert main(run) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["planned", "planned", "refused"]
    assert rows[0]["plan"][-1] == f"{ipt} -w -A {CHAIN} -s 198.51.100.4/32 -j DROP"
    assert (_rules(ipt), _rules(ip6t)) == (before4, before6)
    # promoted: applied for real in the namespace
    write_playbook(pb, mode="active", actions=[{"type": "block-ip", "params": params}])
    assert main(run) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["applied", "applied", "refused"]
    assert f"-A {CHAIN} -s 198.51.100.4/32 -j DROP" in _rules(ipt)
    assert f"-A INPUT -j {CHAIN}" in _rules(ipt)
    assert f"-A {CHAIN} -s 2001:db8::7/128 -j DROP" in _rules(ip6t)
    assert "10.1.2.3" not in _rules(ipt)
    # undo puts both rulesets back exactly; a second undo is refused with one line
    for row in rows[:2]:
        assert main(["respond", "undo", row["id"], "--as", "alice"]) == 0
    assert (_rules(ipt), _rules(ip6t)) == (before4, before6)
    capsys.readouterr()
    assert main(["respond", "undo", rows[0]["id"]]) == 2
    assert capsys.readouterr().err.strip() == f"error: action {rows[0]['id']}: already undone"


def test_real_undo_keeps_other_blocks_and_a_block_made_by_hand(netns: tuple[Path, Path]) -> None:
    ipt, ip6t = netns
    from bastion.respond.actions.base import SubprocessRunner

    action = IptablesBlockIp(SubprocessRunner(), str(ipt), str(ip6t))
    before = _rules(ipt)
    first, second = action.apply("192.0.2.1"), action.apply("192.0.2.2")
    assert action.check("192.0.2.1") == action.check("192.0.2.2") == "blocked"
    assert action.apply("192.0.2.1") == {"already_blocked": True}
    action.undo("192.0.2.1", first)
    assert action.check("192.0.2.1") == "absent" and action.check("192.0.2.2") == "blocked"
    action.undo("192.0.2.1", first)  # already gone: nothing to delete, the other block stays
    assert action.check("192.0.2.2") == "blocked"
    action.undo("192.0.2.2", second)
    assert _rules(ipt) == before
