"""The scanner seam: what a scanner receives, what it returns, and how it reports trouble.

A scanner is any object with a ``name`` and a ``scan(target, context)`` method that
yields :class:`~bastion.findings.Finding`s. The engine walks the target once and hands
every scanner the same :class:`ScanTarget`; scanners never walk the tree themselves.

``Notice``, ``NoticeKind`` and ``Skip`` live on the ground floor (:mod:`bastion.results`) and are
re-exported here because :class:`ScanContext`'s methods take them: a third-party scanner imports
everything it needs from this one module.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bastion.findings import Finding
from bastion.results import Notice, NoticeKind, Skip
from bastion.rules import RuleInfo

__all__ = [
    "BasicScanner",
    "HistoryMode",
    "HistorySpec",
    "Notice",
    "NoticeKind",
    "ScanContext",
    "ScanTarget",
    "Scanner",
    "ScannerDefaults",
    "ScannerUnavailable",
    "Skip",
    "SourceFile",
]


class ScannerUnavailable(Exception):
    """Raised by a scanner whose external tool is missing; the engine turns it into a Skip."""


@dataclass(frozen=True)
class SourceFile:
    """One regular, non-binary file of the target that is within the size limit."""

    abspath: str
    """Absolute path on disk. A string, not a Path: targets of 50,000 files are pickled to
    worker processes, and strings pickle about ten times faster (bench/core/RESULTS.md)."""
    relpath: str
    """POSIX path relative to the target root; what findings report."""
    size: int
    """Size in bytes at walk time."""

    @property
    def path(self) -> Path:
        """Absolute path on disk as a Path."""
        return Path(self.abspath)

    @property
    def suffix(self) -> str:
        """Lower-cased extension including the dot (``.py``), or ``""``."""
        name = self.name
        dot = name.rfind(".")
        return name[dot:].lower() if 0 < dot < len(name) - 1 else ""

    @property
    def name(self) -> str:
        """Base name of the file."""
        return self.relpath.rsplit("/", 1)[-1]


class HistoryMode(enum.Enum):
    """Which git history a history-aware scanner (``secrets``) looks at."""

    ALL = "all"
    """Every commit reachable from every ref (``--git-history``)."""
    SINCE = "since"
    """Commits after a revision, for incremental CI (``--git-history --since REV``)."""
    STAGED = "staged"
    """What is staged for the next commit, for a pre-commit hook (``--staged``)."""


@dataclass(frozen=True)
class HistorySpec:
    """A request to scan git history instead of the working tree; scanners that cannot
    read history ignore it and scan the walked files as usual."""

    mode: HistoryMode
    since: str | None = None
    """The revision after which commits are scanned, with :attr:`HistoryMode.SINCE`."""


@dataclass(frozen=True)
class ScanTarget:
    """What the engine hands to every scanner: the root and the files of the one walk."""

    root: Path
    files: tuple[SourceFile, ...]
    history: HistorySpec | None = None
    """Set when the user asked for git history (``--git-history``, ``--since``, ``--staged``)."""
    shard: int = 0
    """Which shard of a shardable scanner's files this is; history is read by shard 0 only."""
    shards: int = 1
    """How many shards the scanner's files were split into."""

    def with_suffixes(self, suffixes: Iterable[str]) -> list[SourceFile]:
        """Files whose extension is one of ``suffixes`` (``{".py", ".pyi"}``)."""
        wanted = {s.lower() for s in suffixes}
        return [f for f in self.files if f.suffix in wanted]


@dataclass
class ScanContext:
    """Per-scanner run context: its options, and sinks for notices and skips.

    The engine creates one per scanner run, in the worker that runs it, so scanners
    never share mutable state and the context never crosses a process boundary.
    """

    scanner: str
    options: Mapping[str, Any] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)

    def notice(self, kind: NoticeKind, message: str, path: str | None = None) -> None:
        """Record a notice attributed to this scanner."""
        self.notices.append(Notice(kind, message, path=path, scanner=self.scanner))

    def skip(self, component: str, reason: str) -> None:
        """Record that a tool inside this scanner did not run (``sast.semgrep``)."""
        self.skips.append(Skip(component, reason))

    def skip_file(self, path: str, reason: str) -> None:
        """Record that this scanner could not check the file ``path`` (a syntax error, a lockfile
        it cannot read, a document over a safety limit): a skip record, so ``--strict`` fails."""
        self.skips.append(Skip(f"{self.scanner} {path}", reason))

    def read_text(self, file: SourceFile) -> str | None:
        """Read a file as text, or record why not and return None.

        Invalid UTF-8 is decoded with replacement characters and noted, so a file
        with one bad byte is still scanned.
        """
        try:
            data = file.path.read_bytes()
        except OSError as exc:
            self.notice(NoticeKind.UNREADABLE, f"cannot read: {exc.strerror or exc}", file.relpath)
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.notice(
                NoticeKind.ENCODING,
                f"not valid UTF-8 (byte {exc.start}); scanned with replacement characters",
                file.relpath,
            )
            return data.decode("utf-8", errors="replace")


@runtime_checkable
class BasicScanner(Protocol):
    """The least a third-party plug-in must define: a name, a description and ``scan``.

    The registry adapts such a plug-in to the full :class:`Scanner` seam (capabilities it does
    not declare take the defaults of :class:`ScannerDefaults`), so the engine, the runner and
    ``bastion rules`` only ever see a :class:`Scanner`.
    """

    name: str
    description: str

    def scan(self, target: ScanTarget, context: ScanContext) -> Iterator[Finding]:
        """Yield the findings for ``target``."""
        ...


@runtime_checkable
class Scanner(BasicScanner, Protocol):
    """The plug-in seam. Register an implementation under the ``bastion.scanners`` entry point.

    ``scan`` yields findings for the target; it raises :class:`ScannerUnavailable` when
    the tool it wraps is not installed, and records notices and skips on ``context``. A file it
    cannot check at all (a syntax error, a limit hit) is ``context.skip_file(path, reason)``, never
    a plain notice: ``--strict`` fails on skips, and a server never marks findings in it fixed.

    The capabilities are typed members (inherit :class:`ScannerDefaults` to declare only those
    that differ from the defaults): ``shardable`` when each file's findings depend on that file
    alone (the engine then splits the file list across workers), ``reads_history`` when the
    scanner honours ``target.history``, ``rules()`` listing every rule it can report (``bastion
    rules list``, the compliance mapping), and ``check_options(options)`` raising
    :class:`~bastion.errors.ConfigError` so a bad ``[scanners.NAME]`` table fails before any
    scanning starts.
    """

    shardable: bool
    reads_history: bool

    def rules(self) -> Sequence[RuleInfo]:
        """Every rule this scanner can report, as :class:`~bastion.rules.RuleInfo`."""
        ...

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~bastion.errors.ConfigError` when ``options`` are not valid for this scanner."""
        ...


class ScannerDefaults:
    """The default capabilities of a :class:`Scanner`: not shardable, no history, no listed rules,
    any options accepted. A scanner inherits this and overrides what it offers."""

    shardable: bool = False
    reads_history: bool = False

    def rules(self) -> Sequence[RuleInfo]:
        """No rules listed."""
        return ()

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Every ``[scanners.NAME]`` table is accepted; the scanner reads what it knows."""
        del options  # nothing is checked by default
