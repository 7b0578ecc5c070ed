"""The run folder of :func:`rlkit.deep.train`: config, checkpoints, resume and logs.

With ``out=`` a run is a folder that survives being killed::

    out/config.json                   how the run was made (hyperparameters, versions)
    out/model.zip                     the final model (stable-baselines3; rlkit eval loads it)
    out/checkpoints/model_<N>.zip     every checkpoint_every steps, written atomically
    out/checkpoints/replay_buffer_<N>.pkl   off-policy algorithms: the latest buffer
    out/monitor/<rank>.monitor.csv    SB3 Monitor: one row per episode, with its step
    out/tb/                           TensorBoard logs

``resume=True`` continues from the latest checkpoint, so an interrupted run (Ctrl-C,
``kill -9``, a crash) loses at most one interval: the step count, the Monitor files
(episodes after the checkpoint are dropped, the rest kept, :func:`rewind_monitors`) and
the TensorBoard run all continue. The resumed envs draw fresh episodes (seeded by
``(seed, N)``), so the result is within one interval of an uninterrupted run's, not
equal to it. A damaged checkpoint is moved aside with a warning and the one before is
used (:mod:`rlkit.deep.checkpoints`); a damaged ``config.json`` is a ``ValueError``.

- :func:`open_run`: where a run starts (:class:`Resume`): the latest good checkpoint,
  checked against ``config.json``, or afresh;
  :func:`write_config` and :func:`finish_run` write the folder.
- :class:`Checkpoints` (callback), :func:`save_checkpoint`, :func:`latest_checkpoint`
  and :func:`load_checkpoint` (from :mod:`rlkit.deep.checkpoints`): ``model_<N>.zip``
  with its replay buffer.
- :class:`EpisodeLog` (callback) and :func:`curve_point`: the learning curve, one point
  per Monitor row (:data:`STEP_KEY` holds the step an episode ended at).
- :func:`learn_callbacks`: those two and a :class:`ProgressBar` for ``learn``;
  :func:`tensorboard_folder` and :func:`quiet_logger`: where SB3 logs.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HumanOutputFormat, KVWriter, Logger
from stable_baselines3.common.monitor import Monitor

from rlkit.deep.checkpoints import (
    Checkpoints,
    latest_checkpoint,
    load_checkpoint,
    naming,
    remove_partial_files,
    save_checkpoint,
    usable_checkpoint,
)
from rlkit.evaluation.atomic import atomic_output, atomic_write_text

__all__ = [
    "STEP_KEY",
    "Checkpoints",
    "EpisodeLog",
    "ProgressBar",
    "Resume",
    "curve_point",
    "finish_run",
    "latest_checkpoint",
    "learn_callbacks",
    "load_checkpoint",
    "open_run",
    "quiet_logger",
    "rewind_monitors",
    "save_checkpoint",
    "tensorboard_folder",
    "write_config",
]

#: The info key (and Monitor column) holding the training step an episode ended at.
STEP_KEY = "total_steps"
#: Keys a run may change when it is resumed.
_RESUMABLE = ("total_steps", "checkpoint_every")
#: Files of a run folder (by subfolder) a killed writer may leave a temporary copy of.
_PARTIAL = {
    ".": ("config.json", "model.zip"),
    "checkpoints": ("model_*.zip", "replay_buffer_*.pkl"),
    "monitor": ("*.monitor.csv",),
}


# ------------------------------------------------------------------ config.json


class Resume(NamedTuple):
    """Where a run starts: :func:`open_run`'s answer."""

    #: ``(steps, path)`` of the checkpoint to load; None: a fresh model.
    checkpoint: tuple[int, Path] | None
    #: The step it starts from (0 when fresh).
    start: int
    #: The learning curve up to ``start``, from the rewound Monitor files.
    prior: list[dict[str, Any]]
    #: Seed of the envs: a resumed run draws fresh episodes, still determined by
    #: ``(seed, start)``.
    env_seed: int


def open_run(
    out: Path | None,
    run: Mapping[str, Any],
    *,
    resume: bool,
    n_envs: int,
    info_keys: tuple[str, ...],
) -> Resume:
    """Where the run ``run`` (its ``env_id``, ``seed``, ...) starts in the folder ``out``:
    from its latest checkpoint, with the Monitor files rewound to it
    (:func:`rewind_monitors`), or afresh.

    With ``resume``, damaged checkpoints are moved aside (a ``RuntimeWarning`` names
    each, :func:`~rlkit.deep.checkpoints.usable_checkpoint`) and the temporary files of
    a killed writer are deleted.

    Raises
    ------
    ValueError
        With ``resume``, where ``run`` differs from the folder's ``config.json`` in more
        than ``total_steps`` and ``checkpoint_every``, or ``config.json`` is damaged;
        without it, where the folder already holds a run.
    """
    checkpoint = None if out is None else latest_checkpoint(out / "checkpoints")
    if out is not None and resume:
        recorded = _read_config(out)
        if recorded is not None:
            _check_same_run(recorded, run, out)
        for folder, names in _PARTIAL.items():
            remove_partial_files(out / folder, names)
        checkpoint = usable_checkpoint(out / "checkpoints")
    elif out is not None and (checkpoint is not None or (out / "model.zip").exists()):
        raise ValueError(
            f"out {str(out)!r} already holds a run: pass resume=True to continue "
            "it (rlkit train --resume), or choose another folder"
        )
    seed = run["seed"]
    if checkpoint is None or out is None:
        return Resume(None, 0, [], seed)
    start = checkpoint[0]
    prior = rewind_monitors(out / "monitor", start, n_envs, info_keys, run["env_id"])
    env_seed = (
        seed if start == 0 else int(np.random.SeedSequence([seed, start]).generate_state(1)[0])
    )
    return Resume(checkpoint, start, prior, env_seed)


def _read_config(out: Path) -> dict[str, Any] | None:
    path = out / "config.json"
    if not path.exists():
        return None
    try:
        config = json.loads(path.read_text("utf-8"))
        if not isinstance(config, dict):
            raise ValueError(f"a JSON {type(config).__name__}, not an object")
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(
            f"{path} is damaged ({error}): it says how the run was made, so resuming "
            "without it could mix two runs; restore it, or train into another out folder"
        ) from None
    return config


def _check_same_run(recorded: Mapping[str, Any], run: Mapping[str, Any], out: Path) -> None:
    differ = [
        k
        for k in ("algo", "env_id", "env_kwargs", "goal_pixels", "seed")
        if recorded.get(k) != run[k]
    ]
    old_hp, new_hp = recorded.get("hyperparams", {}), run["hyperparams"]
    differ += [
        f"hyperparams.{k}"
        for k in sorted(set(old_hp) | set(new_hp))
        if k not in _RESUMABLE and old_hp.get(k) != new_hp.get(k)
    ]
    if differ:
        raise ValueError(
            f"resume=True continues the run in {out}, but these settings differ from its "
            f"config.json: {', '.join(differ)}; pass the same ones (only total_steps and "
            "checkpoint_every may change) or train into another out folder"
        )


def write_config(
    out: Path, record: Mapping[str, Any], *, status: str, resumed_from: int, **more: Any
) -> None:
    """Write ``out/config.json`` atomically: ``record`` (how the run was made), its
    ``status`` (``running`` or ``finished``), the step it ``resumed_from`` and ``more``."""
    config = {**record, "status": status, "resumed_from": resumed_from, **more}
    atomic_write_text(out / "config.json", json.dumps(config, indent=2, default=str) + "\n")


def finish_run(
    out: Path,
    model: BaseAlgorithm,
    saver: Checkpoints | None,
    record: Mapping[str, Any],
    *,
    resumed_from: int,
    result: Mapping[str, Any],
) -> None:
    """Close the folder of a finished run: a last checkpoint unless ``saver`` just
    wrote it, ``model.zip`` and ``config.json`` (``status: finished``, its ``result``)."""
    if saver is not None and saver.last_saved != model.num_timesteps:
        save_checkpoint(model, out / "checkpoints")
    with naming(out / "model.zip"), atomic_output(out / "model.zip") as tmp:
        model.save(tmp)
    write_config(out, record, status="finished", resumed_from=resumed_from, result=result)


# ------------------------------------------------------------------ the learning curve


class EpisodeLog(BaseCallback):
    """Collects the Monitor's row of every finished episode (``info["episode"]``)."""

    def __init__(self) -> None:
        super().__init__()
        self.points: list[dict[str, Any]] = []

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            if "episode" in info:
                self.points.append(curve_point(info["episode"]))
        return True


def curve_point(row: Mapping[str, Any]) -> dict[str, Any]:
    """A point of the learning curve from a Monitor row (or ``info["episode"]``).

    >>> curve_point({"total_steps": "40", "r": "1.0", "l": "4", "is_success": "True"})
    {'step': 40, 'episode_return': 1.0, 'episode_length': 4, 'is_success': True}
    """
    point = {
        "step": int(row[STEP_KEY]),
        "episode_return": float(row["r"]),
        "episode_length": int(row["l"]),
    }
    if "is_success" in row:
        point["is_success"] = str(row["is_success"]).strip().lower() in ("true", "1", "1.0")
    return point


def rewind_monitors(
    folder: Path, steps: int, n_envs: int, keys: tuple[str, ...], env_id: str
) -> list[dict[str, Any]]:
    """Keep the episodes that ended by ``steps`` in each Monitor file (later ones belong
    to the interrupted interval, which is trained again); return them as curve points.
    Files are rewritten atomically, and made with a header where missing, so the
    resumed Monitors append to them."""
    fields = ["r", "l", "t", STEP_KEY, *keys]
    points: list[dict[str, Any]] = []
    for rank in range(n_envs):
        path = folder / f"{rank}.{Monitor.EXT}"
        lines = path.read_text("utf-8").splitlines() if path.exists() else []
        if len(lines) < 2 or next(csv.reader([lines[1]])) != fields:
            lines = [f"#{json.dumps({'t_start': time.time(), 'env_id': env_id})}", ",".join(fields)]
        kept = lines[:2]
        for line in lines[2:]:
            values = next(csv.reader([line]), [])
            try:
                if len(values) != len(fields):
                    raise ValueError(line)
                point = curve_point(dict(zip(fields, values, strict=True)))
            except ValueError:  # a row cut short by the kill
                continue
            if point["step"] <= steps:
                kept.append(line)
                points.append(point)
        atomic_write_text(path, "\n".join(kept) + "\n")
    return sorted(points, key=lambda p: p["step"])


# ------------------------------------------------------------------ logging


class ProgressBar(BaseCallback):
    """A tqdm bar over the steps (SB3's own bar needs ``rich``)."""

    def __init__(self, total: int, description: str) -> None:
        super().__init__()
        self.total, self.description = total, description
        self.bar: Any = None

    def _on_training_start(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=self.total, initial=self.num_timesteps, unit="step", desc=self.description
        )

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps - self.bar.n)
        return True

    def _on_training_end(self) -> None:
        self.bar.close()


def learn_callbacks(
    out: Path | None,
    every: int,
    start: int,
    progress: str | None,
    total: int,
    callback: BaseCallback | None,
) -> tuple[EpisodeLog, Checkpoints | None, list[BaseCallback]]:
    """The episode log, the checkpoint saver (with ``out``) and every callback of
    ``learn``, in order: log, saver, progress bar (titled ``progress``), ``callback``."""
    log = EpisodeLog()
    saver = None if out is None else Checkpoints(out / "checkpoints", every, start)
    extra = [None if progress is None else ProgressBar(total, progress), callback]
    return log, saver, [c for c in (log, saver, *extra) if c is not None]


def tensorboard_folder(out: Path | None, tensorboard: bool) -> str | None:
    """``out/tb`` where TensorBoard logs are wanted and possible (a warning where
    tensorboard is not installed), else None."""
    if not tensorboard or out is None:
        return None
    if importlib.util.find_spec("tensorboard") is None:
        # stacklevel 3: the caller of rlkit.deep.train
        warnings.warn("tensorboard is not installed: no TensorBoard logs", stacklevel=3)
        return None
    return str(out / "tb")


def quiet_logger(verbose: int) -> Logger:
    """SB3's logger for a run without a log folder.

    Without one SB3 makes an empty ``/tmp/SB3-<time>`` folder on every ``learn()``; this
    logger writes what SB3's would (stdout when ``verbose``) and creates nothing.
    """
    formats: list[KVWriter] = [HumanOutputFormat(sys.stdout)] if verbose >= 1 else []
    return Logger(folder=None, output_formats=formats)
