"""One writer for every output file: whole or not at all.

Reports, SBOMs, baselines, posture history, rules files, model and state files all go
through here. A regular file is written beside itself (``.NAME.PID.partial``) and renamed
into place (``os.replace``), so a crash or a full disk half-way never leaves a truncated
file, and a reader never sees one. A device or pipe (``-o /dev/stdout``) is written
directly, since it cannot be renamed over.

``private=True`` creates the file readable by its owner only (state that holds user
names or addresses); otherwise the usual umask applies, as for any new file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

from bastion.errors import InputError

__all__ = ["atomic_open", "atomic_open_binary", "write_bytes", "write_text"]

_PUBLIC, _PRIVATE = 0o666, 0o600


def _is_special(path: Path) -> bool:
    """Whether ``path`` exists and is not a regular file (a device, a pipe, a socket)."""
    return path.exists() and not path.is_file()


@contextmanager
def _partial(path: Path, private: bool) -> Iterator[int]:
    """A file descriptor on a fresh partial file beside ``path``, renamed over ``path`` when
    the ``with`` body succeeds and removed in every case. Raises :class:`OSError`."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE if private else _PUBLIC)
    try:
        yield descriptor
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def atomic_open(path: Path, *, private: bool = False) -> Iterator[TextIO]:
    """A UTF-8 text stream whose content replaces ``path`` only once the ``with`` body ends
    without an exception. Raises :class:`OSError`."""
    if _is_special(path):
        with path.open("w", encoding="utf-8") as stream:
            yield stream
        return
    with _partial(path, private) as descriptor, os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        yield stream


@contextmanager
def atomic_open_binary(path: Path, *, private: bool = False) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces ``path`` only once the ``with`` body ends
    without an exception. Raises :class:`OSError`."""
    if _is_special(path):
        with path.open("wb") as stream:
            yield stream
        return
    with _partial(path, private) as descriptor, os.fdopen(descriptor, "wb") as stream:
        yield stream


def _cannot_write(path: Path, what: str, exc: OSError) -> InputError:
    """The one-line error for a file that could not be written."""
    return InputError(f"{path}: cannot write {what}: {exc.strerror or exc}")


def write_text(path: Path, text: str, *, what: str = "file", private: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; :class:`InputError` naming the file and
    ``what`` it is ("report", "SBOM") when it cannot be written."""
    try:
        with atomic_open(path, private=private) as stream:
            stream.write(text)
    except OSError as exc:
        raise _cannot_write(path, what, exc) from None


def write_bytes(path: Path, data: bytes, *, what: str = "file", private: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; :class:`InputError` naming the file and ``what``
    it is when it cannot be written."""
    try:
        with atomic_open_binary(path, private=private) as stream:
            stream.write(data)
    except OSError as exc:
        raise _cannot_write(path, what, exc) from None
