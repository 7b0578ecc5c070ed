"""ArmReachVectorEnv: N ArmReach environments stepped together with numpy batch operations."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode

from envs.arm.batch import INFO_KEYS, ArmBatch
from envs.arm.config import ArmReachConfig
from envs.arm.drawing import SceneView
from envs.arm.env import ArmReachEnv, path_trace
from envs.vector import NumpyVectorEnv

__all__ = ["ArmReachVectorEnv"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


class ArmReachVectorEnv(NumpyVectorEnv[ArmReachConfig]):
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
    num_envs, autoreset_mode, max_episode_steps, render_mode
        As for every :class:`~envs.vector.NumpyVectorEnv` (defaults: 1 sub-environment,
        autoreset ``NEXT_STEP``, no rendering).
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

    info_keys = INFO_KEYS

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
        super().__init__(
            int(num_envs),
            ArmReachConfig(**kwargs),
            autoreset_mode=autoreset_mode,
            max_episode_steps=max_episode_steps,
            render_mode=render_mode,
            render_fps=ArmReachEnv.metadata["render_fps"],
        )
        self._batch = ArmBatch(self.config, self.num_envs)
        self._frame_view: SceneView | None = None

    # ------------------------------------------------------------------ API
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
    def _step_batch(
        self, actions: npt.ArrayLike, active: BoolArray | None
    ) -> tuple[FloatArray, BoolArray, BoolArray]:
        return self._batch.step(self.config.check_actions(actions, self.num_envs), active)

    def _begin(self, ids: npt.NDArray[np.intp], rngs: list[np.random.Generator]) -> None:
        """New episodes for envs ``ids``: drawn one by one, planned together."""
        self._batch.begin(ids, self.config.sampler.sample_many(rngs))

    def _observe(self) -> Any:
        return self._batch.observe()

    def _info_values(self) -> dict[str, npt.NDArray[Any]]:
        return self._batch.info_values()
