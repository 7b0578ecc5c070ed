"""ArmReachVectorEnv: N ArmReach environments stepped together with numpy batch operations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.error import ResetNeeded
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.arm.batch import INFO_KEYS, ArmBatch
from envs.arm.config import ArmReachConfig
from envs.arm.drawing import SceneView
from envs.arm.env import ArmReachEnv, path_trace
from envs.vector import reset_mask, sub_env_seeds

__all__ = ["ArmReachVectorEnv"]


class ArmReachVectorEnv(VectorEnv[Any, Any, Any]):
    """``num_envs`` ArmReach environments in one process, stepped with numpy batch operations.

    Sub-environment ``i`` behaves exactly like an :class:`~envs.arm.env.ArmReachEnv`
    made with the same keyword arguments and reset with seed ``seed + i`` (the seeding
    of :class:`gymnasium.vector.SyncVectorEnv`): same episodes, observations, rewards,
    terminations, truncations and infos for the same actions, in every observation
    mode. Both do the same arithmetic (here on arrays, an ``ArmBatch``; the single
    env on floats, an ``ArmSingle``); each sub-environment keeps its own random
    generator and draws its episodes with the single environment's code.

    Speed: a step is a few dozen numpy operations over all sub-environments, using
    :class:`planners.PlanarArm`'s batched kinematics and (with fixed obstacles or
    joint limits) one batched :meth:`~planners.PlanarArm.motion_collides`. Random
    obstacles differ per sub-environment, so their moves are checked one
    sub-environment at a time. The sub-environments resetting in a step draw their
    episodes one by one and plan them together
    (:meth:`~envs.arm.episode.EpisodeSampler.sample_many`): in free space with up to
    two links a batch of closed-form inverse kinematics, some 25 microseconds per
    reset; with random obstacles the planner runs per sub-environment (tens of
    milliseconds, more when it has to reject unsolvable draws) and dominates the
    cost. Pixel observations are drawn one sub-environment at a time.

    Parameters
    ----------
    num_envs : int
        Number of sub-environments.
    autoreset_mode : AutoresetMode or str, default NEXT_STEP
        Gymnasium 1.x autoreset: ``NEXT_STEP`` (the step after an episode ends resets
        that sub-environment and ignores its action), ``SAME_STEP`` (reset at once;
        ``info["final_obs"]`` and ``info["final_info"]`` hold the end of the episode) or
        ``DISABLED`` (reset with ``reset(options={"reset_mask": mask})``).
    max_episode_steps : int, optional
        Truncation limit from :func:`gymnasium.make_vec`; the smaller of it and
        ``max_steps`` applies.
    render_mode : {None, "rgb_array"}
        ``render()`` returns one frame per sub-environment.
    **kwargs
        The arguments of :class:`~envs.arm.env.ArmReachEnv`.

    Examples
    --------
    >>> import gymnasium as gym
    >>> import envs.arm
    >>> envs.arm.register_arm_envs()
    >>> vec = gym.make_vec("rlkit/ArmReach-v0", num_envs=3, vectorization_mode="vector_entry_point")
    >>> obs, infos = vec.reset(seed=0)
    >>> obs.shape
    (3, 10)
    >>> obs, rewards, terminations, truncations, infos = vec.step(vec.unwrapped.expert_actions())
    >>> infos["path_length"].round(4).tolist()
    [0.1, 0.1, 0.1]
    """

    def __init__(
        self,
        num_envs: int = 1,
        *,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(num_envs, int | np.integer) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
        self.config = cfg = ArmReachConfig(**kwargs)
        if max_episode_steps is not None:
            cfg.max_steps = min(cfg.max_steps, int(max_episode_steps))
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {
            "render_modes": ["rgb_array"],
            "render_fps": ArmReachEnv.metadata["render_fps"],
            "autoreset_mode": self.autoreset_mode,
        }
        self.num_envs = n = int(num_envs)
        self.single_observation_space = cfg.observation_space
        self.single_action_space = cfg.action_space
        self.observation_space = batch_space(cfg.observation_space, n)
        self.action_space = batch_space(cfg.action_space, n)
        self._batch = ArmBatch(cfg, n)
        self._rngs: list[np.random.Generator | None] = [None] * n
        self._autoreset = np.zeros(n, dtype=bool)
        self._ready = np.zeros(n, dtype=bool)
        self._frame_view: SceneView | None = None

    # ------------------------------------------------------------------ API
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Reset all sub-environments (or those in ``options["reset_mask"]``).

        ``seed``: ``None``, an int (sub-environment ``i`` gets ``seed + i``) or one seed
        per sub-environment.
        """
        n = self.num_envs
        seeds = sub_env_seeds(seed, n)
        mask = reset_mask(options, n)
        ids = np.flatnonzero(mask)
        self._reset_envs(ids, [seeds[i] for i in ids])
        self._autoreset[mask] = False
        return self._batch.observe(), self._infos(mask)

    def step(
        self, actions: npt.ArrayLike
    ) -> tuple[
        Any, npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_], dict[str, Any]
    ]:
        """Step every sub-environment; see the class docstring for autoreset."""
        if not self._ready.all():
            raise ResetNeeded("call reset() before step()")
        change = self.config.check_actions(actions, self.num_envs)
        resetting = self._autoreset  # all False unless NEXT_STEP
        any_resetting = bool(resetting.any())
        rewards, terminated, truncated = self._batch.step(
            change, ~resetting if any_resetting else None
        )
        infos: dict[str, Any] = {}
        if any_resetting:  # their action was ignored; the reset replaces everything
            ids = np.flatnonzero(resetting)
            self._reset_envs(ids, [None] * ids.size)
            rewards[resetting] = 0.0
            terminated[resetting] = False
            truncated[resetting] = False
        elif self.autoreset_mode == AutoresetMode.SAME_STEP:
            done = terminated | truncated
            if done.any():
                infos = self._final(done)
                ids = np.flatnonzero(done)
                self._reset_envs(ids, [None] * ids.size)
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._autoreset = terminated | truncated
        infos.update(self._infos(None))
        return self._batch.observe(), rewards, terminated, truncated, infos

    def expert_actions(self) -> npt.NDArray[Any]:
        """The planner's next action in every sub-environment (``ArmReachEnv.expert_action``)."""
        actions = [self._batch.expert_action(i) for i in range(self.num_envs)]
        if self.config.discrete:
            return np.array(actions, dtype=np.int64)
        return np.stack(actions).astype(np.float32)

    def render(self) -> tuple[npt.NDArray[np.uint8], ...] | None:
        """One ``rgb_array`` frame per sub-environment (``None`` without a render_mode)."""
        if self.render_mode is None:
            return None
        cfg = self.config
        if self._frame_view is None:
            self._frame_view = SceneView(cfg.render_shape, cfg.extent)
        view = self._frame_view
        frames = []
        for episode, points in zip(self._batch.episodes, self._batch.points, strict=True):
            if episode is None:
                continue
            trace = path_trace(cfg.arm, episode.plan.path) if cfg.render_path else None
            frame = view.background(
                cfg.reach, episode.arm.obstacles, episode.goal, cfg.success_radius, trace
            )
            view.draw_arm(frame, points)
            frames.append(frame)
        return tuple(frames)

    # ------------------------------------------------------------------ internals
    def _reset_envs(self, ids: npt.NDArray[np.intp], seeds: Sequence[int | None]) -> None:
        """New episodes for envs ``ids``: drawn one by one, written in batch."""
        rngs = []
        for i, seed in zip(ids.tolist(), seeds, strict=True):
            rng = self._rngs[i]
            if seed is not None or rng is None:
                rng = self._rngs[i] = seeding.np_random(seed)[0]
            rngs.append(rng)
        self._batch.begin(ids, self.config.sampler.sample_many(rngs))
        self._ready[ids] = True

    def _infos(self, mask: npt.NDArray[np.bool_] | None) -> dict[str, Any]:
        """Infos batched as ``VectorEnv._add_info`` does: zeros and a False mask where absent."""
        values = self._batch.info_values()
        present = np.ones(self.num_envs, dtype=bool) if mask is None else mask
        infos: dict[str, Any] = {}
        for key in INFO_KEYS:
            value = values[key]
            if mask is not None:
                value = np.where(mask, value, np.zeros_like(value))
            infos[key] = value
            infos[f"_{key}"] = present.copy()
        return infos

    def _final(self, done: npt.NDArray[np.bool_]) -> dict[str, Any]:
        """``final_obs`` and ``final_info`` of the episodes ending now (SAME_STEP)."""
        obs = self._batch.observe()
        final_obs = np.full(self.num_envs, None, dtype=object)
        for i in np.flatnonzero(done):  # what the single env returned
            if isinstance(obs, dict):
                final_obs[i] = {key: value[i].copy() for key, value in obs.items()}
            else:
                final_obs[i] = obs[i].copy()
        return {
            "final_obs": final_obs,
            "_final_obs": done.copy(),
            "final_info": self._infos(done),
            "_final_info": done.copy(),
        }
