"""Watch any agent act: in a window, or recorded to a GIF or MP4 file."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from rlkit.agents import Seedable, prepare_agent
from rlkit.evaluation.atomic import atomic_output
from rlkit.evaluation.evaluate import make_env, reset_seeds, run_episode

__all__ = ["VIDEO_SUFFIXES", "render_episodes"]

#: File types :func:`render_episodes` records.
VIDEO_SUFFIXES = (".gif", ".mp4")

Frame = npt.NDArray[np.uint8]


def _check_out(out: str | os.PathLike[str]) -> Path:
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ValueError(f"cannot record to {os.fspath(out)!r}: the file must end in .gif or .mp4")
    if suffix == ".mp4" and importlib.util.find_spec("imageio_ffmpeg") is None:
        raise gym.error.DependencyNotInstalled(
            f"writing {os.fspath(out)!r} needs imageio-ffmpeg: `pip install imageio-ffmpeg`, "
            "or record a .gif instead"
        )
    return path


def render_episodes(
    agent: Any,
    env_id: str,
    episodes: int = 3,
    out: str | os.PathLike[str] | None = None,
    *,
    seed: int = 0,
    max_steps: int | None = 500,
    fps: float | None = None,
    deterministic: bool = True,
    env_kwargs: dict[str, Any] | None = None,
) -> Path | None:
    """Play ``episodes`` episodes of ``agent`` on ``env_id``, in a window or to a file.

    Episode ``k`` starts like episode ``k`` of seed ``seed`` in
    :func:`~rlkit.evaluation.evaluate`, so the video shows evaluated episodes.

    Parameters
    ----------
    agent : Agent, model, callable or str
        As for :func:`~rlkit.evaluation.evaluate` (``"planner"``, ``"random"``, a path).
    env_id : str
        The env; it must support the ``"human"`` render mode (window) or
        ``"rgb_array"`` (file).
    episodes : int
        How many episodes.
    out : path-like, optional
        ``None`` opens a window (``render_mode="human"``). A ``.gif`` or ``.mp4`` path
        records ``rgb_array`` frames with imageio (MP4 needs ``imageio-ffmpeg``); the
        file is written atomically.
    seed : int
        Evaluation seed the episodes come from.
    max_steps : int or None
        Steps per episode at most (keeps recordings of agents that never finish short).
    fps : float, optional
        Frame rate; defaults to the env's ``metadata["render_fps"]`` (else 4).
    deterministic : bool
        How models with ``predict`` act.
    env_kwargs : dict, optional
        Keyword arguments of ``gymnasium.make``.

    Returns
    -------
    pathlib.Path or None
        The file written, or None for a window.

    Raises
    ------
    ValueError
        For a bad suffix, zero episodes, an unknown env id, or an env without the
        render mode needed.
    gymnasium.error.DependencyNotInstalled
        For ``.mp4`` without ``imageio-ffmpeg``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> out = pathlib.Path(folder.name) / "frozenlake.gif"
    >>> render_episodes("random", "FrozenLake-v1", episodes=1, out=out).suffix
    '.gif'
    >>> folder.cleanup()
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be a positive int, got {episodes!r}")
    path = _check_out(out) if out is not None else None
    mode = "human" if path is None else "rgb_array"
    spec_env = make_env(env_id, env_kwargs)  # validates the id, tells the render modes
    modes = list(spec_env.metadata.get("render_modes", []))
    spec_env.close()
    if mode not in modes:
        raise ValueError(
            f"env {env_id!r} has no {mode!r} render mode (it has {modes}): "
            + ("record to a file with out='run.gif'" if mode == "human" else "watch it live")
        )
    env = make_env(env_id, env_kwargs, render_mode=mode)
    frames: list[Frame] = []
    fps = float(fps or env.metadata.get("render_fps") or 4)

    def record(env: gym.Env[Any, Any]) -> None:
        frames.append(np.asarray(env.render(), dtype=np.uint8))

    try:
        actor = prepare_agent(agent, env, deterministic=deterministic)
        for index in range(episodes):
            env_seed, agent_seed = reset_seeds(seed, index)
            if isinstance(actor, Seedable) and callable(actor.seed):
                actor.seed(agent_seed)
            run_episode(
                actor,
                env,
                reset_seed=env_seed,
                max_steps=max_steps,
                on_step=record if path is not None else None,
                where=f"episode {index} of seed {seed}",
            )
            if path is not None:  # hold the last frame half a second between episodes
                frames.extend([frames[-1]] * max(1, round(fps / 2)))
    finally:
        env.close()
    if path is None:
        return None
    _write_video(path, frames, fps)
    return path


def _write_video(path: Path, frames: list[Frame], fps: float) -> None:
    import imageio.v3 as iio

    with atomic_output(path) as tmp:
        if path.suffix.lower() == ".gif":
            iio.imwrite(tmp, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=0)
        else:
            iio.imwrite(tmp, np.stack(frames), plugin="FFMPEG", fps=fps)
