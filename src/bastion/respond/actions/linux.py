"""Lock a Linux account and kill its sessions; undo unlocks it exactly as it was.

Apply runs ``usermod -L -e 1 USER`` (a ``!`` before the password hash, and an account expiry in
the past, which also stops SSH-key logins that a password lock alone lets through), then
``pkill -KILL -u USER``. Undo restores the saved expiry and removes the ``!`` only if apply put it
there, so /etc/shadow's lock flag ends exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bastion.respond.actions.base import ActionError, Plan, Runner, TargetGone, TargetKind

__all__ = ["LockLinuxAccount"]

_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\$?$", re.IGNORECASE)


@dataclass
class LockLinuxAccount:
    """``lock-linux-account``."""

    runner: Runner
    kill_sessions: bool = True
    kind: TargetKind = TargetKind.USER

    def _name(self, target: str) -> str:
        if not _NAME.match(target):
            raise ActionError(f"lock-linux-account: {target!r} is not a Linux user name")
        return target

    def _shadow(self, target: str) -> list[str]:
        done = self.runner.run(["getent", "shadow", self._name(target)])
        if done.returncode == 2:
            raise TargetGone(f"lock-linux-account: user {target!r} does not exist")
        fields = done.stdout.strip().split(":")
        if done.returncode != 0 or len(fields) < 9:
            raise ActionError(f"lock-linux-account: cannot read the shadow entry of {target!r}")
        return fields

    def plan(self, target: str) -> Plan:
        """The commands that would run."""
        name = self._name(target)
        steps = [f"usermod -L -e 1 {name}"] + ([f"pkill -KILL -u {name}"] if self.kill_sessions else [])
        return Plan(
            "lock-linux-account", name, f"lock Linux account {name} and kill its sessions", tuple(steps)
        )

    def check(self, target: str) -> str:
        """``locked`` when the hash carries the lock mark, else ``unlocked``."""
        return "locked" if self._shadow(target)[1].startswith("!") else "unlocked"

    def _run(self, argv: list[str], ok: tuple[int, ...] = (0,)) -> None:
        done = self.runner.run(argv)
        if done.returncode not in ok:
            raise ActionError(
                f"{argv[0]}: {(done.stderr.strip() or f'exit {done.returncode}').splitlines()[0]}"
            )

    def apply(self, target: str) -> dict[str, Any]:
        """Lock, expire, kill; return the previous lock mark and expiry."""
        fields = self._shadow(target)
        was_locked = fields[1].startswith("!")
        self._run(["usermod", "-e", "1", *([] if was_locked else ["-L"]), target])
        if self.kill_sessions:
            self._run(["pkill", "-KILL", "-u", target], ok=(0, 1))  # 1: no process to kill
        return {"was_locked": was_locked, "expire": fields[7]}

    def undo(self, target: str, saved: Mapping[str, Any]) -> None:
        """Restore the expiry and, if apply set it, remove the lock mark."""
        fields = self._shadow(target)
        argv = ["usermod", "-e", str(saved.get("expire", ""))]
        if not saved.get("was_locked") and fields[1].startswith("!"):
            argv.append("-U")
        self._run([*argv, target])
