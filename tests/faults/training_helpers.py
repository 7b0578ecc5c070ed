"""Pieces of the fault tests of the training jobs (tests/faults/test_training_faults.py).

- :func:`start` / :func:`kill_when`: run a job as a subprocess in its own process group
  and ``kill -9`` the group at a seeded random moment once a condition holds.
- :func:`read_only`: make a folder read-only (``chmod``; simulated where the tests run
  as root, whom ``chmod`` does not stop).
- Run as a script, ``python training_helpers.py pretrain ARGS`` is ``rlkit pretrain
  ARGS`` with the shipped recipe shrunk to :data:`TINY_PRETRAIN` (the real one collects
  60 000 frames), so a subprocess pretrains in seconds.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: The tiny pretraining recipe: 150 steps of a 16-feature CNN on 180 frames.
TINY_PRETRAIN: Mapping[str, Any] = {
    "name": "tiny", "steps": 150, "batch_size": 8, "features_dim": 16,
    "gridnav_frames": 120, "armreach_frames": 60, "gridnav_sizes": (7,),
    "episode_len": 15, "warmup_steps": 2, "checkpoint_every": 10,
}  # fmt: skip

#: Seed of the kill moments; set RLKIT_FAULT_SEED to explore others.
FAULT_SEED = int(os.environ.get("RLKIT_FAULT_SEED", "18"))


def job_env() -> dict[str, str]:
    """The environment of a job subprocess: one thread for torch and BLAS."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def rlkit_command(*args: str) -> list[str]:
    """The ``rlkit`` command line with ``args``, run by this interpreter."""
    return [sys.executable, "-c", "import sys; from rlkit.cli import main; sys.exit(main())", *args]


def pretrain_command(*args: str) -> list[str]:
    """``rlkit pretrain ARGS`` with :data:`TINY_PRETRAIN` as the shipped recipe."""
    return [sys.executable, __file__, "pretrain", *args]


def start(command: list[str], cwd: Path) -> subprocess.Popen[str]:
    """Start ``command`` in ``cwd`` in a new process group (so a kill takes its children)."""
    return subprocess.Popen(
        command, cwd=cwd, env=job_env(), start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def kill_when(
    process: subprocess.Popen[str],
    ready: Callable[[], bool],
    *,
    delay: float,
    timeout: float = 120.0,
) -> float:
    """``kill -9`` the process group of ``process`` ``delay`` seconds after ``ready()``
    first holds; returns the seconds from the start of waiting to the kill.

    Fails the test where the job ends by itself first (the kill would test nothing).
    """
    began = time.perf_counter()
    while not ready():
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the job ended (status {process.returncode}) before the kill:\n{output}")
        if time.perf_counter() - began > timeout:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"the job was not ready to be killed after {timeout} s")
        time.sleep(0.01)
    time.sleep(delay)
    if process.poll() is not None:
        pytest.fail(f"the job ended (status {process.returncode}) before the kill")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    if process.stdout is not None:
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    return time.perf_counter() - began


def kill_moment(name: str, high: float) -> float:
    """A seeded random delay in ``[0, high)`` seconds for the kill of test ``name``."""
    return random.Random(f"{FAULT_SEED}:{name}").uniform(0.0, high)


def partial_files(folder: Path) -> list[Path]:
    """Temporary files of ``rlkit.atomic.atomic_output`` (``.NAME.*``) under ``folder``."""
    return sorted(p for p in folder.rglob(".*") if p.is_file())


# ---------------------------------------------------------------------- read-only folders


def _inside(path: Any, root: Path) -> bool:
    try:
        return Path(os.fsdecode(path)).resolve().is_relative_to(root)
    except TypeError:  # a file descriptor or a file object
        return False


def _refuse(path: Any) -> OSError:
    return OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))


@contextmanager
def read_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Make ``folder`` (and everything in it) read-only for the ``with`` block; yields
    how: ``"chmod"``, or ``"simulated"`` for root, where every write under it (open for
    writing, ``os.open`` with a write flag, mkdir, rename, unlink) raises
    ``OSError(EROFS)`` as a read-only file system would."""
    root = folder.resolve()
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [root, *root.rglob("*")]}
        for path in modes:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield "chmod"
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    real_open, real_os_open = builtins.open, os.open
    real_mkdir, real_replace, real_unlink = os.mkdir, os.replace, os.unlink

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+") and _inside(file, root):
            raise _refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        if flags & writes and _inside(path, root):
            raise _refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    def guarded_mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if _inside(path, root):
            if Path(os.fsdecode(path)).exists():
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fsdecode(path))
            raise _refuse(path)
        real_mkdir(path, *args, **kwargs)

    def guarded_replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if _inside(src, root) or _inside(dst, root):
            raise _refuse(dst)
        real_replace(src, dst, *args, **kwargs)

    def guarded_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if _inside(path, root):
            raise _refuse(path)
        real_unlink(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", guarded_open)
        patch.setattr(io, "open", guarded_open)
        patch.setattr(os, "open", guarded_os_open)
        patch.setattr(os, "mkdir", guarded_mkdir)
        patch.setattr(os, "replace", guarded_replace)
        patch.setattr(os, "rename", guarded_replace)
        patch.setattr(os, "unlink", guarded_unlink)
        patch.setattr(os, "remove", guarded_unlink)
        yield "simulated"


# ---------------------------------------------------------------------- the pretrain job


def _pretrain_main(argv: list[str]) -> int:
    """``rlkit pretrain ARGV`` with the shipped recipe shrunk to :data:`TINY_PRETRAIN`."""
    import torch

    torch.set_num_threads(1)
    from rlkit.backbones.recipes import RECIPES, PretrainConfig
    from rlkit.cli import main

    RECIPES["rlkit-cnn-v2"] = PretrainConfig(**TINY_PRETRAIN)
    return main(["pretrain", *argv])


if __name__ == "__main__":
    if sys.argv[1:2] != ["pretrain"]:
        raise SystemExit("usage: python training_helpers.py pretrain RLKIT_PRETRAIN_ARGS")
    sys.exit(_pretrain_main(sys.argv[2:]))
