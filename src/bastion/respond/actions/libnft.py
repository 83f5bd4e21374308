"""nft in this process, through libnftables: the library the ``nft`` program is a front end of.

``block-ip`` makes two nft calls per alert (check, then one atomic batch). Each call of the
program is a process start that, on a loaded host, costs tens of milliseconds and dominates the
time to block (bench/respond/RESULTS.md); the same commands through the library cost well under
a millisecond more than the kernel's own work. firewalld drives nftables the same way.

The library is optional: ``load_libnftables`` returns None where it is not installed, and
``block-ip`` then runs the ``nft`` program as before (or falls back to iptables). Commands keep
the program's syntax, so plans, ledgers and tests read the same either way.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bastion.respond.actions.base import CommandResult, Runner

__all__ = ["LIBRARY_ENV", "LibNftRunner", "LibNftables", "NftCommands", "load_libnftables"]

LIBRARY_ENV = "BASTION_LIBNFTABLES"
"""A path to libnftables.so to load instead of the system's; ``off`` never loads one."""
_SONAME = "libnftables.so.1"
_OUTPUT_JSON = 1 << 4
"""``NFT_CTX_OUTPUT_JSON`` of libnftables.h: what ``nft -j`` sets."""


class NftCommands(Protocol):
    """What runs nft commands in process: :class:`LibNftables` (tests pass a recorder)."""

    def run(self, command: str, *, json_output: bool = False) -> CommandResult:
        """Run one command line or JSON batch; exit status 0 or 1 and nft's output."""
        ...


class LibNftables:
    """One libnftables context (commands run one at a time: a context is not thread-safe)."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self._lib = library
        library.nft_ctx_new.restype = ctypes.c_void_p
        library.nft_ctx_new.argtypes = [ctypes.c_uint32]
        for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error", "nft_ctx_free"):
            getattr(library, name).argtypes = [ctypes.c_void_p]
        library.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        library.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        library.nft_run_cmd_from_buffer.restype = ctypes.c_int
        for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
            getattr(library, name).argtypes = [ctypes.c_void_p]
            getattr(library, name).restype = ctypes.c_char_p
        self._ctx = library.nft_ctx_new(0)
        if not self._ctx:
            raise OSError("libnftables: nft_ctx_new failed")
        library.nft_ctx_buffer_output(self._ctx)
        library.nft_ctx_buffer_error(self._ctx)
        self._lock = threading.Lock()

    def run(self, command: str, *, json_output: bool = False) -> CommandResult:
        """Run one command line or JSON batch as ``nft`` (``nft -j``) would; exit status 0 or 1."""
        with self._lock:
            self._lib.nft_ctx_output_set_flags(self._ctx, _OUTPUT_JSON if json_output else 0)
            status = self._lib.nft_run_cmd_from_buffer(self._ctx, command.encode())
            out = self._lib.nft_ctx_get_output_buffer(self._ctx) or b""
            err = self._lib.nft_ctx_get_error_buffer(self._ctx) or b""
        return CommandResult(
            0 if status == 0 else 1, out.decode(errors="replace"), err.decode(errors="replace")
        )


def load_libnftables(environ: dict[str, str] | None = None) -> LibNftables | None:
    """The system's libnftables (or the one ``BASTION_LIBNFTABLES`` names), or None where there is
    none or it does not load (``BASTION_LIBNFTABLES=off`` keeps the nft program)."""
    choice = (os.environ if environ is None else environ).get(LIBRARY_ENV, "")
    if choice.lower() == "off":
        return None
    with _LOADING:
        if choice not in _LOADED:  # one context per process: the server builds a responder per request
            try:
                _LOADED[choice] = LibNftables(ctypes.CDLL(choice or _SONAME))
            except (OSError, AttributeError):
                _LOADED[choice] = None
        return _LOADED[choice]


_LOADED: dict[str, LibNftables | None] = {}
_LOADING = threading.Lock()


@dataclass
class LibNftRunner:
    """A :class:`Runner` that runs the ``nft`` program's commands through the library and hands
    every other command (and nft options it does not know) to ``fallback``."""

    library: NftCommands
    fallback: Runner
    program: str = "nft"

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        """``nft [-j] COMMAND...``, ``nft [-j] -f -`` (the batch on ``stdin``), ``nft --version``."""
        if not argv or argv[0] != self.program:
            return self.fallback.run(argv, stdin)
        args = list(argv[1:])
        if args in (["--version"], ["-v"], ["-V"]):
            return CommandResult(0, "nftables (libnftables, in process)\n")
        json_output = False
        while args and args[0] in ("-j", "--json"):
            json_output, args = True, args[1:]
        if args == ["-f", "-"]:
            return self.library.run(stdin or "", json_output=json_output)
        if not args or any(arg.startswith("-") for arg in args):
            return self.fallback.run(argv, stdin)
        return self.library.run(" ".join(args), json_output=json_output)
