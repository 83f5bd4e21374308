"""The action plug-in seam: what every response action implements, and the outside world it uses."""

from __future__ import annotations

import enum
import subprocess  # bastion: ignore[sast.bandit.B404] argv lists only, never a shell
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bastion.errors import BastionError

__all__ = [
    "Action",
    "ActionError",
    "CommandResult",
    "NotInstalled",
    "Plan",
    "RecordingRunner",
    "Runner",
    "SubprocessRunner",
    "TargetGone",
    "TargetKind",
]

JSON = Any


class TargetKind(enum.StrEnum):
    """What an action touches; the allow-list for that kind is checked before every apply."""

    IP = "ip"
    USER = "user"
    HOST = "host"
    TOKEN = "token"  # bastion: ignore[sast.bandit.B105] a target kind, not a secret
    ACCESS_KEY = "access-key"
    NONE = "none"
    """Notifications, tickets and change proposals touch nothing that an allow-list protects."""


class ActionError(BastionError):
    """An action could not plan, apply, check or undo; the message is one line."""


class NotInstalled(ActionError):
    """The program an action runs is not on this machine (``block-ip`` then falls back)."""


class TargetGone(ActionError):
    """The thing the action would act on no longer exists (a deleted user, a revoked key)."""


@dataclass(frozen=True)
class Plan:
    """A dry-run description of exactly what an action would change."""

    action: str
    """The action type (``block-ip``)."""
    target: str
    """What it acts on."""
    summary: str
    """One line for people."""
    steps: tuple[str, ...] = ()
    """Each command, request or file write, in the order it would happen."""
    reversible: bool = True
    """Whether :meth:`Action.undo` can put things back (a notification cannot be unsent)."""


@dataclass(frozen=True)
class CommandResult:
    """What a command returned."""

    returncode: int
    stdout: str = ""
    stderr: str = ""


class Runner(Protocol):
    """Runs an argv (never through a shell); tests pass a recorder, production a subprocess."""

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        """Run ``argv`` with ``stdin`` and return its exit status and output."""
        ...


@dataclass
class SubprocessRunner:
    """The real runner: ``subprocess.run`` with an argv list and a timeout."""

    timeout_s: float = 30.0

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        """Run ``argv``; a missing binary is an :class:`ActionError`, not a traceback."""
        try:
            done = subprocess.run(  # bastion: ignore[sast.bandit.B603] fixed argv, no shell
                list(argv), input=stdin, capture_output=True, text=True, timeout=self.timeout_s, check=False
            )
        except FileNotFoundError:
            raise NotInstalled(f"{argv[0]}: not installed") from None
        except subprocess.TimeoutExpired:
            raise ActionError(f"{argv[0]}: no answer within {self.timeout_s:g}s") from None
        return CommandResult(done.returncode, done.stdout, done.stderr)


@dataclass
class RecordingRunner:
    """A runner that records every argv and answers from a table (tests, dry benchmarks)."""

    answers: Mapping[str, CommandResult] = field(default_factory=dict)
    """First argv word(s) joined by spaces -> the result; the longest matching prefix wins."""
    calls: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        """Record the call and return the configured answer (exit 0 by default)."""
        self.calls.append((tuple(argv), stdin))
        for n in range(len(argv), 0, -1):
            hit = self.answers.get(" ".join(argv[:n]))
            if hit is not None:
                return hit
        return CommandResult(0)


class Action(Protocol):
    """One response action. ``apply`` returns what ``undo`` needs to put things back exactly."""

    kind: TargetKind
    """What the action touches (the allow-list checked for it)."""

    def plan(self, target: str) -> Plan:
        """Describe exactly what :meth:`apply` would change; changes nothing."""
        ...

    def check(self, target: str) -> str:
        """The current state of the target as the action sees it (``blocked``, ``locked``, ``absent``...);
        raises :class:`TargetGone` when the target does not exist."""
        ...

    def apply(self, target: str) -> dict[str, JSON]:
        """Make the change; return the JSON-able state :meth:`undo` needs."""
        ...

    def undo(self, target: str, saved: Mapping[str, JSON]) -> None:
        """Put the target back to the state before :meth:`apply` (``saved`` is what it returned)."""
        ...
