"""Content-addressed artefacts: a template directory packed into a deterministic archive whose
SHA-256 names it, so the same template always gives the same artefact and a stored artefact can
be checked against its name."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bastion.catalog.templates import template_files
from bastion.errors import InputError

__all__ = ["MAX_FILES", "Artefact", "pack", "unpack"]


@dataclass(frozen=True)
class Artefact:
    """A packed template."""

    data: bytes
    """The gzip-compressed tar archive."""
    size: int
    """Bytes of the files before packing."""

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of :attr:`data`."""
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


def pack(root: Path, max_bytes: int) -> Artefact:
    """Pack every file of ``root`` (sorted, owner and times zeroed: byte-for-byte reproducible);
    :class:`InputError` naming the directory when the files pass ``max_bytes`` in total."""
    files = list(template_files(root))
    size = sum(path.stat().st_size for path in files)
    if size > max_bytes:
        raise InputError(
            f"{root}: artefact is {size:,} bytes, over the catalog's limit of {max_bytes:,} bytes"
        )
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=6) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(f"{path}: cannot read template file: {exc.strerror or exc}") from None
            info = tarfile.TarInfo(path.relative_to(root).as_posix())
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return Artefact(buffer.getvalue(), size)


MAX_FILES = 10_000
"""Most files an artefact may hold: a template with more is no template."""


def unpack(data: bytes, into: Path, max_bytes: int) -> None:
    """Extract an artefact made by :func:`pack` into ``into``; only plain files at relative paths
    inside it are written, and no more than ``max_bytes`` in all (the sizes an archive declares are
    checked before anything is read, so a decompression bomb stops at its first header).
    :class:`InputError` for a damaged or oversized archive."""
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for count, member in enumerate(tar, 1):
                name = PurePosixPath(member.name)
                if not member.isfile() or name.is_absolute() or ".." in name.parts:
                    raise InputError(f"artefact holds an unexpected entry {member.name!r}")
                total += member.size
                if total > max_bytes:
                    raise InputError(
                        f"artefact unpacks to more than {max_bytes:,} bytes, over the catalog's limit"
                    )
                if count > MAX_FILES:
                    raise InputError(f"artefact holds more than {MAX_FILES:,} files")
                extracted = tar.extractfile(member)
                if extracted is None:
                    raise InputError(f"artefact entry {member.name!r} cannot be read")
                target = into.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(extracted.read())
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise InputError(f"artefact cannot be unpacked: {exc}") from None
