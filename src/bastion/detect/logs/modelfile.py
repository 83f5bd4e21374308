"""Model files: one ``.npz`` archive holding numpy arrays and a JSON header; never a pickle.

The header carries ``format``, ``version``, the model's settings, the template-miner state and
the session settings. Loading uses ``allow_pickle=False`` and refuses other versions with a
message that says what to do.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bastion.atomic import atomic_open_binary
from bastion.errors import InputError

__all__ = ["MODEL_FORMAT", "MODEL_VERSION", "read_model_file", "write_model_file"]

MODEL_FORMAT = "bastion-watch-model"
MODEL_VERSION = 1
_HEADER = "__header__"


def write_model_file(path: Path, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``header`` (JSON-able) and ``arrays`` to ``path`` atomically."""
    meta = {"format": MODEL_FORMAT, "version": MODEL_VERSION, **header}
    buffer = io.BytesIO()
    blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    payload: dict[str, Any] = {_HEADER: blob, **{f"a_{k}": v for k, v in arrays.items()}}
    np.savez_compressed(buffer, **payload)
    try:
        with atomic_open_binary(path) as stream:
            stream.write(buffer.getvalue())
    except OSError as exc:
        raise InputError(f"{path}: cannot write model ({exc.strerror})") from None


def read_model_file(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file; InputError naming the file when it is missing, damaged or too new."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if _HEADER not in data.files:
                raise InputError(f"{path}: not a Bastion watch model (no header)")
            header = json.loads(bytes(data[_HEADER]).decode("utf-8"))
            arrays = {k[2:]: data[k] for k in data.files if k.startswith("a_")}
    except FileNotFoundError:
        raise InputError(f"{path}: no such model file") from None
    except (OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a Bastion watch model ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise InputError(f"{path}: not a Bastion watch model")
    if header.get("version") != MODEL_VERSION:
        raise InputError(
            f"{path}: model format version {header.get('version')!r} is not supported by this "
            f"Bastion (it reads version {MODEL_VERSION}); train the model again with "
            "`bastion watch train`"
        )
    return header, arrays
