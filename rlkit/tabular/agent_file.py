"""The on-disk format of tabular agents: one ``.npz`` file, arrays plus a JSON header.

This is the layer below the learners: it knows files, not learners. The header a
learner writes (:meth:`~rlkit.tabular.TabularLearner.save`) records the algorithm, its
hyper-parameters (schedules as strings), the environment id and keyword arguments, the
space sizes, the training counters and :func:`library_versions`; the arrays are the
learner's tables under their names (``q_table``, or ``q_a`` and ``q_b`` for Double
Q-learning).

The header is stored as a numpy unicode string and everything is read back with
``np.load(..., allow_pickle=False)``: loading a file never runs code from it. Files are
written to a temporary name in the same folder and moved into place with ``os.replace``,
so a crash mid-write never leaves a half-written agent under the real name.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

import rlkit
from rlkit.atomic import atomic_output

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "copy_arrays",
    "library_versions",
    "read_agent_file",
    "write_agent_file",
]

#: Value of ``header["format"]`` in every file this module writes.
FORMAT = "rlkit.tabular"
#: Bumped when the layout changes incompatibly.
FORMAT_VERSION = 1
_HEADER_KEY = "header"


def write_agent_file(
    path: str | os.PathLike[str], header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]
) -> Path:
    """Write ``arrays`` and a JSON ``header`` atomically to ``path`` (``.npz`` appended
    when missing); returns the path written."""
    target = Path(path)
    if target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")
    if _HEADER_KEY in arrays:
        raise ValueError(f"array name {_HEADER_KEY!r} is reserved for the header")
    target.parent.mkdir(parents=True, exist_ok=True)
    full_header = {"format": FORMAT, "format_version": FORMAT_VERSION, **header}
    payload = {name: np.ascontiguousarray(array) for name, array in arrays.items()}
    payload[_HEADER_KEY] = np.array(json.dumps(full_header, sort_keys=True))
    with atomic_output(target) as tmp, open(tmp, "wb") as stream:
        np.savez(stream, allow_pickle=False, **payload)
        stream.flush()
        os.fsync(stream.fileno())
    return target


def read_agent_file(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """Read ``(header, arrays)`` written by :func:`write_agent_file`.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is truncated, corrupted, not an rlkit tabular file, holds pickled
        objects, or was written by a newer format version.
    """
    source = Path(path)
    try:
        # numpy does not verify the zip checksums of what it reads; testzip does.
        with zipfile.ZipFile(source) as archive:
            broken = archive.testzip()
        if broken is not None:
            raise ValueError(f"{broken} fails its CRC check")
        data = np.load(source, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with data:
            if _HEADER_KEY not in data.files:
                raise ValueError("no header")
            text = data[_HEADER_KEY]
            if text.dtype.kind != "U" or text.shape != ():
                raise ValueError(f"header is {text.dtype}{list(text.shape)}, not a string")
            header = json.loads(str(text[()]))
            arrays = {name: np.array(data[name]) for name in data.files if name != _HEADER_KEY}
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (
        ValueError,
        OSError,
        EOFError,
        KeyError,
        TypeError,
        RuntimeError,  # zipfile: "encrypted", "compressed patched data", ...
        zipfile.BadZipFile,
        zlib.error,
        UnicodeDecodeError,
    ) as error:
        raise ValueError(
            f"{source} is not a readable rlkit tabular agent file (truncated or corrupted?): "
            f"{error}"
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{source} is not an rlkit tabular agent file (format {FORMAT!r})")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{source} has format version {version!r}; this rlkit reads up to "
            f"{FORMAT_VERSION}: upgrade rlkit"
        )
    return header, arrays


def library_versions() -> dict[str, str]:
    """The versions of rlkit, numpy and gymnasium, recorded in every saved agent."""
    return {"rlkit": rlkit.__version__, "numpy": np.__version__, "gymnasium": gym.__version__}


def copy_arrays(
    arrays: Mapping[str, npt.NDArray[Any]], *, into: Mapping[str, npt.NDArray[Any]]
) -> None:
    """Copy each ``arrays[name]`` read from a file into the table ``into[name]`` (in
    place); ValueError unless every one is there, float, and of the table's shape."""
    for name, current in into.items():
        array = arrays.get(name)
        if array is None or array.shape != current.shape or array.dtype.kind != "f":
            found = None if array is None else f"{array.dtype}{list(array.shape)}"
            raise ValueError(
                f"array {name!r} must be float with shape {current.shape}, found {found}"
            )
        current[...] = array
