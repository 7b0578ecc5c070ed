"""A suite's results folder: one run at a time, no leftovers, clear errors when it fails.

``rlkit bench`` writes ``<out>/<suite>/`` (``cells/``, ``report.md``, ``plots/``) from
one driver process, every file atomically (:mod:`rlkit.atomic`). What keeps the folder
sound when something goes wrong:

- :func:`lock_results_folder`: an exclusive lock (``fcntl.flock`` on
  ``<folder>/.rlkit-bench.lock``, which holds the owner's process id) while a suite
  runs. A second run on the same folder stops at once with a
  :class:`ResultsFolderError` naming the process that holds it; two runs never
  interleave their files. The OS drops the lock when its process ends, ``kill -9``
  included, so a killed run never blocks the next one. Without ``fcntl`` (Windows) or
  on a file system without locks, runs go on unlocked.
- :func:`remove_temporaries`: deletes the temporary files of atomic writes that a killed
  run left behind (they never got their final names, so nothing ever read them).
- :func:`writing`: turns an ``OSError`` of writing into a :class:`ResultsFolderError`
  naming the folder and the fix: free space for a full disk (``ENOSPC``), permissions
  for a read-only folder (``EACCES``, ``EROFS``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = [
    "LOCK_NAME",
    "ResultsFolderError",
    "lock_results_folder",
    "remove_temporaries",
    "writing",
]

#: The lock file in a suite's results folder.
LOCK_NAME = ".rlkit-bench.lock"
#: Temporary files of :func:`rlkit.atomic.atomic_output`: ``.{target}.{8 random}{suffix}``.
_TEMPORARY = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}(?P<suffix>\.[A-Za-z0-9]+)?")
#: Errors of file systems that cannot lock: go on without the lock.
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY = {errno.EACCES, errno.EPERM, errno.EROFS}


class ResultsFolderError(RuntimeError):
    """A results folder that cannot be used now: in use by another run, full, read-only.

    The message names the folder and the fix; files of finished cells are kept.
    """


@contextlib.contextmanager
def writing(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Re-raise an ``OSError`` of the block as a :class:`ResultsFolderError` that names
    ``folder`` and the fix.

    Examples
    --------
    >>> import errno
    >>> with writing("results/quick"):
    ...     raise OSError(errno.ENOSPC, "No space left on device")
    Traceback (most recent call last):
    ...
    rlkit.sweep.folder.ResultsFolderError: cannot write to results folder results/quick: \
the disk is full (No space left on device); free some space or pass another --out, then \
rerun the same command (finished cells are kept)
    """
    try:
        yield
    except ResultsFolderError:
        raise
    except OSError as error:
        raise ResultsFolderError(_explain(Path(folder), error)) from error


def _explain(folder: Path, error: OSError) -> str:
    reason = error.strerror or str(error)
    where = f"cannot write to results folder {folder}"
    again = "then rerun the same command (finished cells are kept)"
    if error.errno in _FULL:
        return (
            f"{where}: the disk is full ({reason}); free some space or pass another --out, " + again
        )
    if error.errno in _READ_ONLY:
        culprit = f" ({error.filename})" if error.filename else ""
        return (
            f"{where}: it is read-only ({reason}{culprit}); make it writable "
            f"(chmod -R u+w {folder}) or pass another --out, {again}"
        )
    return f"{where}: {error}; check the folder or pass another --out, {again}"


@contextlib.contextmanager
def lock_results_folder(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the results folder ``folder`` (created if missing) for one run.

    Raises
    ------
    ResultsFolderError
        If another process holds it (the message names the process), or the folder
        cannot be created or written (checked before any cell runs).
    """
    folder = Path(folder)
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        fd = None if fcntl is None else os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    if fd is None or fcntl is None:
        with writing(folder):
            _check_writable(folder)
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in _NO_LOCKS:
                raise ResultsFolderError(
                    f"results folder {folder} is in use by {_holder(fd)} (another rlkit "
                    "bench run); wait for it to finish, or pass another --out"
                ) from None
        with writing(folder):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode())
            _check_writable(folder)
        yield
    finally:
        os.close(fd)  # drops the lock


def _check_writable(folder: Path) -> None:
    """Create (and drop) a file in ``folder`` and ``folder/cells``: a read-only folder
    fails now, not after the first cells ran. Raises OSError."""
    for place in (folder, folder / "cells"):
        place.mkdir(exist_ok=True)
        with tempfile.TemporaryFile(dir=place):
            pass


def _holder(fd: int) -> str:
    """``"process N"`` from the lock file (``"another process"`` while it is empty)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    return f"process {text}" if text.isdigit() else "another process"


def remove_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files of atomic writes in ``folder``, ``cells/`` and
    ``plots/`` (left by a killed run); the paths deleted. Hold the lock first: a live
    run's temporaries look the same."""
    removed = []
    for place in (Path(folder), Path(folder) / "cells", Path(folder) / "plots"):
        for path in place.glob(".*"):
            match = _TEMPORARY.fullmatch(path.name)
            if match and match["target"].endswith(match["suffix"] or "") and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed
