"""The checkpoint files of a :func:`rlkit.deep.train` run folder, and resuming from them.

``OUT/checkpoints/model_<N>.zip`` (stable-baselines3) every ``checkpoint_every`` steps
and, for off-policy algorithms, ``replay_buffer_<N>.pkl`` beside the latest one. Every
file is written atomically (a temporary ``.model_<N>.zip.*`` beside it, then renamed), so
a killed run never leaves a half-written checkpoint under its final name.

A checkpoint damaged afterwards (a disk error, a copy cut short, an edit) is never
trusted: :func:`usable_checkpoint` checks each one, newest first (a zip whose members
pass their CRC check and hold an SB3 model), moves a damaged one aside as
``model_<N>.zip.corrupt`` with a warning naming it, and resumes from the newest good
one. A damaged replay buffer is moved aside the same way and the model resumes with an
empty buffer (:func:`load_checkpoint`).

- :class:`Checkpoints` (callback) and :func:`save_checkpoint`: write them.
- :func:`latest_checkpoint`, :func:`usable_checkpoint` and :func:`load_checkpoint`:
  find and read them; :func:`remove_partial_files`: the temporary files of a killed run.
"""

from __future__ import annotations

import contextlib
import re
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from rlkit.evaluation.atomic import atomic_output

__all__ = [
    "Checkpoints",
    "checkpoint_problem",
    "latest_checkpoint",
    "load_checkpoint",
    "remove_partial_files",
    "save_checkpoint",
    "usable_checkpoint",
]

_CHECKPOINT = re.compile(r"model_(\d+)\.zip")
#: What a stable-baselines3 model zip holds (``save_util.save_to_zip_file``).
_SB3_MEMBERS = {"data", "policy.pth"}


class Checkpoints(BaseCallback):
    """Saves a checkpoint (:func:`save_checkpoint`) once ``every`` more steps are done.

    Saved when a rollout starts: the previous rollout is then fully used (PPO's update
    done, off-policy transitions stored and trained on), so a checkpoint at step ``N``
    holds everything the first ``N`` steps taught.
    """

    def __init__(self, folder: Path, every: int, start: int) -> None:
        super().__init__()
        self.folder, self.every = folder, every
        self.next_save = (start // every + 1) * every
        self.last_saved = start

    def _on_rollout_start(self) -> None:
        if self.num_timesteps >= self.next_save:
            save_checkpoint(self.model, self.folder)
            self.last_saved = self.num_timesteps
            self.next_save = (self.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        return True


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """Re-raise an ``OSError`` (disk full, read-only folder) naming ``path``, the file
    that could not be written (the error itself names a removed temporary file, or
    none); same errno, so the same ``OSError`` subclass."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise OSError(error.errno, f"cannot write {path}: {reason}") from error


def save_checkpoint(model: BaseAlgorithm, folder: Path) -> Path:
    """Write ``folder/model_<steps>.zip`` (and, for off-policy algorithms, the replay
    buffer first, keeping only the latest), each atomically; returns the model's path.

    Raises
    ------
    OSError
        Naming the file, where it cannot be written (disk full, read-only folder); no
        part of it is left and the earlier checkpoints are untouched.
    """
    steps = model.num_timesteps
    buffer = folder / f"replay_buffer_{steps}.pkl"
    if isinstance(model, OffPolicyAlgorithm):
        with naming(buffer), atomic_output(buffer) as tmp:
            model.save_replay_buffer(tmp)
    path = folder / f"model_{steps}.zip"
    with naming(path), atomic_output(path) as tmp:
        model.save(tmp)
    for old in folder.glob("replay_buffer_*.pkl"):
        if old != buffer:  # the model names its buffer only once it is saved
            old.unlink(missing_ok=True)
    return path


def latest_checkpoint(folder: Path) -> tuple[int, Path] | None:
    """``(steps, path)`` of the latest ``model_<steps>.zip`` in ``folder``, or None."""
    found = [
        (int(m[1]), p) for p in folder.glob("model_*.zip") if (m := _CHECKPOINT.fullmatch(p.name))
    ]
    return max(found) if found else None


def checkpoint_problem(path: Path) -> str | None:
    """What is wrong with the model zip ``path`` (None: nothing): not a zip (cut short,
    overwritten, empty), a member that fails its CRC check, or no SB3 model inside.

    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> empty = pathlib.Path(folder.name) / "model_64.zip"
    >>> _ = empty.write_bytes(b"")
    >>> checkpoint_problem(empty)
    'BadZipFile: File is not a zip file'
    >>> folder.cleanup()
    """
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            missing = _SB3_MEMBERS - set(archive.namelist())
    except Exception as error:  # zipfile raises BadZipFile, zlib.error, EOFError, OSError...
        return f"{type(error).__name__}: {error}"
    if broken is not None:
        return f"its member {broken!r} fails the CRC check"
    if missing:
        return f"no stable-baselines3 model inside (missing {', '.join(sorted(missing))})"
    return None


def _set_aside(path: Path, problem: str, instead: str) -> None:
    """Rename a damaged file to ``<name>.corrupt`` (kept for a look, never read again)
    and warn, naming it, what was wrong and what happens ``instead``."""
    aside = path.with_name(path.name + ".corrupt")
    path.replace(aside)
    warnings.warn(
        f"{path} is damaged ({problem}): moved aside to {aside.name}; {instead}",
        RuntimeWarning,
        stacklevel=5,  # the caller of rlkit.deep.train (via open_run / _build_model)
    )


def usable_checkpoint(folder: Path) -> tuple[int, Path] | None:
    """``(steps, path)`` of the newest undamaged checkpoint in ``folder`` (None: none).

    Damaged ones (:func:`checkpoint_problem`) on the way are moved aside as
    ``model_<N>.zip.corrupt`` with a ``RuntimeWarning`` naming them, so a resumed run
    falls back to the checkpoint before (or starts afresh where none is left).
    """
    while (latest := latest_checkpoint(folder)) is not None:
        problem = checkpoint_problem(latest[1])
        if problem is None:
            return latest
        before = latest_checkpoint_before(folder, latest[0])
        instead = (
            f"resuming from the one before, {before[1].name}"
            if before is not None
            else "no checkpoint is left: starting afresh"
        )
        _set_aside(latest[1], problem, instead)
    return None


def latest_checkpoint_before(folder: Path, steps: int) -> tuple[int, Path] | None:
    """The latest checkpoint of fewer than ``steps`` steps in ``folder``, or None."""
    found = [
        (int(m[1]), p)
        for p in folder.glob("model_*.zip")
        if (m := _CHECKPOINT.fullmatch(p.name)) and int(m[1]) < steps
    ]
    return max(found) if found else None


def load_checkpoint(
    algorithm: type[BaseAlgorithm], checkpoint: tuple[int, Path], **load_kwargs: Any
) -> BaseAlgorithm:
    """``algorithm.load`` the checkpoint ``(steps, path)`` with ``load_kwargs`` (env,
    device, ...), and its replay buffer where it has one.

    A replay buffer that is missing or cannot be read (moved aside as
    ``.pkl.corrupt``) leaves the model with an empty one, with a ``RuntimeWarning``: it
    refills from the steps to come.

    Raises
    ------
    ValueError
        Naming the file, where the model cannot be loaded.
    """
    steps, path = checkpoint
    try:
        model = algorithm.load(path, **load_kwargs)
    except (ValueError, KeyError, TypeError, RuntimeError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"cannot resume from {path} ({type(error).__name__}: {error}); delete it (or "
            "move it aside) to resume from the checkpoint before"
        ) from None
    if not isinstance(model, OffPolicyAlgorithm):
        return model
    buffer = path.with_name(f"replay_buffer_{steps}.pkl")
    empty = "resuming with an empty replay buffer"
    if not buffer.exists():
        warnings.warn(f"{buffer} is missing: {empty}", RuntimeWarning, stacklevel=4)
        return model
    try:
        with warnings.catch_warnings():
            # HER's note that the unfinished episode is cut: right, envs restart.
            warnings.filterwarnings("ignore", "The last trajectory", UserWarning)
            model.load_replay_buffer(buffer)
    except Exception as error:  # pickle raises EOFError, UnpicklingError, ValueError...
        # The assignment comes after the read: the fresh empty buffer is still in place.
        _set_aside(buffer, f"{type(error).__name__}: {error}", empty)
    return model


def remove_partial_files(folder: Path, names: tuple[str, ...]) -> list[Path]:
    """Delete the temporary files a killed writer left in ``folder`` (``.NAME.*`` of
    each glob pattern in ``names``, e.g. ``"model_*.zip"``); returns them. They are
    never read (no checkpoint name matches them); this only frees the space."""
    # rlkit.atomic.atomic_output writes NAME through a temporary ".NAME.<random><suffix>"
    removed = [p for name in names for p in folder.glob(f".{name}.*") if p.is_file()]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
